#!/bin/sh
# A whole function: read the request body, answer a greeting.
# CGI-style variables describe the request (CONTRACT.md §8).
name=$(cat)
printf 'hello, %s! (%s %s)\n' "${name:-world}" "$REQUEST_METHOD" "$PATH_INFO"
