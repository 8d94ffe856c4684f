/*
 * A WASI preview 1 command module in C, served by the wasm host under the command
 * contract (CONTRACT.md §8): the request body on stdin, the CGI environment, the
 * response on stdout. crates/wasm/tests/languages.rs builds it with Debian's clang and
 * wasi-libc:
 *
 *     clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-all -o echo.wasm echo.c
 *
 * It answers `METHOD PATH?QUERY`, then ` VALUE` of an `x-motif-test` header, then
 * ` [TYPE]` of a CloudEvent (`CE_TYPE`), then `: ` and the body upper-cased. The path
 * `/fail` exits 7 after a line on stderr.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name) {
    const char *value = getenv(name);
    return value ? value : "";
}

int main(void) {
    if (strcmp(env("PATH_INFO"), "/fail") == 0) {
        fprintf(stderr, "c guest: asked to fail\n");
        return 7;
    }

    size_t len = 0, cap = 4096;
    char *body = malloc(cap);
    if (!body) {
        fprintf(stderr, "c guest: out of memory\n");
        return 2;
    }
    size_t n;
    while ((n = fread(body + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) {
            char *grown = realloc(body, cap *= 2);
            if (!grown) {
                fprintf(stderr, "c guest: out of memory\n");
                return 2;
            }
            body = grown;
        }
    }
    if (ferror(stdin)) {
        fprintf(stderr, "c guest: cannot read stdin\n");
        return 2;
    }
    for (size_t i = 0; i < len; i++) {
        body[i] = (char)toupper((unsigned char)body[i]);
    }

    printf("%s %s?%s", env("REQUEST_METHOD"), env("PATH_INFO"), env("QUERY_STRING"));
    if (getenv("HTTP_X_MOTIF_TEST")) {
        printf(" %s", env("HTTP_X_MOTIF_TEST"));
    }
    if (getenv("CE_TYPE")) {
        printf(" [%s]", env("CE_TYPE"));
    }
    printf(": ");
    fwrite(body, 1, len, stdout);
    free(body);
    return fflush(stdout) == 0 ? 0 : 2;
}
