#!/bin/sh
# Role `event-sink`: reads the data, replies with nothing.
cat >/dev/null
