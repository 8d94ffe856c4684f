/*
 * hello-wasm: an HTTP function in C. `main` answers every request the function gets;
 * edit it.
 *
 * It is a WASI preview 1 command module (`clang --target=wasm32-wasi`) that motif runs
 * once per request, in a sandbox with no files, sockets or inherited environment, under
 * the command contract:
 *
 * - the request body arrives on stdin;
 * - the request's metadata arrives as CGI-style environment variables: REQUEST_METHOD,
 *   PATH_INFO, QUERY_STRING, CONTENT_TYPE, and HTTP_<NAME> for each header (upper-case,
 *   `-` as `_`: HTTP_USER_AGENT);
 * - what it writes on stdout is the response body: exit 0 is a 200 whose Content-Type is
 *   MOTIF_RESPONSE_TYPE (motif.toml's env); any other exit is a 500;
 * - what it writes on stderr goes to the function's logs.
 *
 * `make test` builds it natively and runs test.sh; `make build` builds the module.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The word the function greets with. */
static const char GREETING[] = "hello";

/* Reads all of `in` into a new buffer (the caller frees it) and its length into `len`;
 * NULL on a read error or when out of memory. */
static char *read_all(FILE *in, size_t *len) {
    size_t cap = 4096;
    char *data = malloc(cap);
    *len = 0;
    if (data == NULL) {
        return NULL;
    }
    size_t n;
    while ((n = fread(data + *len, 1, cap - *len, in)) > 0) {
        *len += n;
        if (*len == cap) {
            char *grown = realloc(data, cap *= 2);
            if (grown == NULL) {
                free(data);
                return NULL;
            }
            data = grown;
        }
    }
    if (ferror(in)) {
        free(data);
        return NULL;
    }
    return data;
}

/* Greets the name sent as the request body: `curl -d motif localhost:8080` answers
 * `hello, motif!`; without a body it greets the world. */
int main(void) {
    size_t len;
    char *body = read_all(stdin, &len);
    if (body == NULL) {
        fprintf(stderr, "cannot read the request body\n");
        return 1;
    }

    /* The name is the body without the white space around it. */
    const char *name = body;
    while (len > 0 && isspace((unsigned char)name[0])) {
        name++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)name[len - 1])) {
        len--;
    }
    if (len == 0) {
        name = "world";
        len = strlen(name);
    }

    printf("%s, ", GREETING);
    fwrite(name, 1, len, stdout);
    printf("!\n");
    free(body);
    /* Output is buffered: a failed write shows at the flush, and must not be a 200. */
    return fflush(stdout) == 0 ? 0 : 1;
}
