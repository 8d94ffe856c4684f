#!/bin/sh
# Role `command-big-output`: writes more than MOTIF_MAX_BODY to stdout.
cat >/dev/null
head -c 4096 /dev/zero
