/*
 * events-c-wasm: a CloudEvent function in C. `main` handles every event the function gets;
 * edit it.
 *
 * It is a WASI preview 1 command module (`clang --target=wasm32-wasi`) that motif runs
 * once per event, in a sandbox with no files, sockets or inherited environment, under
 * the command contract. motif decodes and validates the event (binary, structured or
 * batch mode), then:
 *
 * - the event's data arrives on stdin;
 * - every attribute arrives as CE_<NAME> (upper-case, extensions too): CE_ID,
 *   CE_SOURCE, CE_TYPE, CE_SUBJECT, CE_TIME, CE_DATACONTENTTYPE...;
 * - exit 0 without output: no reply (204);
 * - exit 0 with output: a reply event whose data is the output, of the content type
 *   MOTIF_RESPONSE_TYPE (motif.toml's env), with a fresh id, the source
 *   /motif/events-c-wasm and the type MOTIF_REPLY_TYPE (by default the event's type with
 *   `.reply` appended, so a reply never matches the trigger of the event it answers);
 *   with MOTIF_RESPONSE_TYPE=application/cloudevents+json the output is the whole reply
 *   event in JSON instead;
 * - any other exit is a 500: the function failed, and a broker retries the event;
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

/* The value of an environment variable, or "" when it is not set. */
static const char *env(const char *name) {
    const char *value = getenv(name);
    return value != NULL ? value : "";
}

/* Answers an event whose data is a name, such as the text `motif`, with a reply whose
 * data is `hello, motif!`; an event without data gets no reply. */
int main(void) {
    size_t len;
    char *data = read_all(stdin, &len);
    if (data == NULL) {
        fprintf(stderr, "cannot read the event's data\n");
        return 1;
    }
    if (len == 0) {
        free(data);
        return 0; /* no output: no reply */
    }
    fprintf(stderr, "greeting for event %s (%s) from %s\n", env("CE_ID"), env("CE_TYPE"),
            env("CE_SOURCE"));

    /* The name is the data without the white space around it. */
    const char *name = data;
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
    free(data);
    /* Output is buffered: a failed write shows at the flush, and must not be a reply. */
    return fflush(stdout) == 0 ? 0 : 1;
}
