#!/bin/sh
# Role `echo` (and `event-reply`): stdin to stdout.
exec cat
