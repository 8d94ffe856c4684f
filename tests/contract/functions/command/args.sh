#!/bin/sh
# Role `command-args`: prints its arguments, one a line.
cat >/dev/null
for a in "$@"; do printf '%s\n' "$a"; done
