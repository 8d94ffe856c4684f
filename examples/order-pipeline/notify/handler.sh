#!/bin/sh
# notify: one line a notification, on stderr (the function's log). A real one would send
# the email; the event's data is the invoice, as JSON, on stdin.
set -eu
invoice=$(cat)
field() { printf '%s' "$invoice" | sed -n "s/.*\"$1\": *\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p"; }
echo "notified $(field email) of invoice $(field invoice) for $(field amount)" >&2
