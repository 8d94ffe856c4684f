#!/bin/sh
# hello-command: an HTTP function as a shell script. It answers every request the function
# gets; edit it, or replace it with any executable (a binary, a Python script...).
#
# motif runs it once per request, under the command contract:
# - the request body arrives on stdin;
# - the request's metadata arrives as CGI-style environment variables: REQUEST_METHOD,
#   PATH_INFO, QUERY_STRING, CONTENT_TYPE, and HTTP_<NAME> for each header (upper-case,
#   `-` as `_`: HTTP_USER_AGENT);
# - what it writes on stdout is the response body: exit 0 is a 200 whose Content-Type is
#   MOTIF_RESPONSE_TYPE (motif.toml's env); any other exit is a 500;
# - what it writes on stderr goes to the function's logs.
#
# This one greets the name sent as the request body: `curl -d motif localhost:8080`
# answers `hello, motif!`; without a body it greets the world.
set -eu

greeting='hello'

# The name is the body on one line, without the white space around it.
name=$(cat | tr -s '[:space:]' ' ' | sed 's/^ //; s/ $//')

printf '%s, %s!\n' "$greeting" "${name:-world}"
