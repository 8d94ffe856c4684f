#!/bin/sh
# events-command: a CloudEvent function as a shell script. It handles every event the
# function gets; edit it, or replace it with any executable (a binary, a Python
# script...).
#
# motif decodes and validates the event (binary, structured or batch mode), then runs
# this once per event, under the command contract:
# - the event's data arrives on stdin;
# - every attribute arrives as CE_<NAME> (upper-case, extensions too): CE_ID,
#   CE_SOURCE, CE_TYPE, CE_SUBJECT, CE_TIME, CE_DATACONTENTTYPE...;
# - exit 0 without output: no reply (204);
# - exit 0 with output: a reply event whose data is the output, of the content type
#   MOTIF_RESPONSE_TYPE (motif.toml's env), with a fresh id, the source
#   /motif/events-command and the type MOTIF_REPLY_TYPE (by default the event's type with
#   `.reply` appended, so a reply never matches the trigger of the event it answers);
#   with MOTIF_RESPONSE_TYPE=application/cloudevents+json the output is the whole reply
#   event in JSON instead;
# - any other exit is a 500: the function failed, and a broker retries the event;
# - what it writes on stderr goes to the function's logs.
#
# This one answers an event whose data is a name, such as the text `motif`, with a
# reply whose data is `hello, motif!`; an event without data gets no reply.
set -eu

greeting='hello'

# The name is the data on one line, without the white space around it.
data=$(cat)
if [ -z "$data" ]; then
    exit 0 # no output: no reply
fi
echo "greeting for event ${CE_ID:-} (${CE_TYPE:-}) from ${CE_SOURCE:-}" >&2
name=$(printf '%s' "$data" | tr -s '[:space:]' ' ' | sed 's/^ //; s/ $//')

printf '%s, %s!\n' "$greeting" "${name:-world}"
