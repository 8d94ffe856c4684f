#!/bin/sh
# The function's tests: runs handler.sh the way motif does (the event's data on stdin,
# its attributes as CE_* variables) and checks what it writes.
#
#     sh test.sh
set -u
cd "$(dirname "$0")" || exit 1
failures=0

# check NAME EXPECTED DATA [VARIABLE=VALUE...]: the handler, given DATA on stdin and
# these variables, exits 0 and writes EXPECTED on stdout.
check() {
    name=$1 expected=$2 data=$3
    shift 3
    if ! actual=$(printf '%s' "$data" | env -i PATH="$PATH" "$@" ./handler.sh 2>/dev/null); then
        echo "not ok - $name: the handler failed"
        failures=$((failures + 1))
    elif [ "$actual" != "$expected" ]; then
        echo "not ok - $name: it wrote '$actual', not '$expected'"
        failures=$((failures + 1))
    else
        echo "ok - $name"
    fi
}

event='CE_SPECVERSION=1.0 CE_ID=42 CE_SOURCE=/tests CE_TYPE=dev.motif.greet'
# shellcheck disable=SC2086 # $event is words on purpose
check 'answers with a greeting for the name' 'hello, motif!' 'motif' \
    $event CE_DATACONTENTTYPE=text/plain
# shellcheck disable=SC2086
check 'an event without data gets no reply' '' '' $event

[ "$failures" -eq 0 ] || { echo "$failures failed"; exit 1; }
