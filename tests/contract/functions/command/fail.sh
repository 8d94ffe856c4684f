#!/bin/sh
# Role `fail`: a message on stderr, then a non-zero exit.
echo "boom" >&2
exit 3
