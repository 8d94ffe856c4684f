#!/bin/sh
# Role `command-stragglers`: starts a child that would outlive the request, then hangs.
# The marker file lets a test see whether the child survived the timeout.
marker="${TMPDIR:-/tmp}/motif-straggler-$$"
(sleep 3; touch "$marker") &
echo "marker=$marker" >&2
sleep 30
