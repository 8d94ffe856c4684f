#!/bin/sh
# Role `command-invalid-reply`: claims to print an event, prints one without an id.
cat >/dev/null
printf '{"specversion":"1.0","source":"/replies","type":"com.example.whole"}'
