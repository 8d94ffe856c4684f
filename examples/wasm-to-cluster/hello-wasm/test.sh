#!/bin/sh
# The function's tests: runs the handler the way motif does (the request body on stdin,
# the CGI environment and nothing else) and checks what it writes.
#
#     sh test.sh ./handler     # `make test` builds ./handler natively, then runs this
set -u
handler=${1:-./handler}
failures=0

# check NAME EXPECTED BODY [VARIABLE=VALUE...]: the handler, given BODY on stdin and
# only these variables, exits 0 and writes EXPECTED on stdout.
check() {
    name=$1 expected=$2 body=$3
    shift 3
    if ! actual=$(printf '%s' "$body" | env -i "$@" "$handler"); then
        echo "not ok - $name: the handler failed"
        failures=$((failures + 1))
    elif [ "$actual" != "$expected" ]; then
        echo "not ok - $name: it wrote '$actual', not '$expected'"
        failures=$((failures + 1))
    else
        echo "ok - $name"
    fi
}

check 'greets the name in the body' 'hello, motif!' ' motif
' REQUEST_METHOD=POST PATH_INFO=/ QUERY_STRING= CONTENT_TYPE=text/plain
check 'greets the world without a body' 'hello, world!' '' \
    REQUEST_METHOD=GET PATH_INFO=/ QUERY_STRING=

[ "$failures" -eq 0 ] || { echo "$failures failed"; exit 1; }
