#!/bin/sh
# Role `command-whole-reply`: stdout is the whole reply in the JSON event format.
data=$(cat)
printf '{"specversion":"1.0","id":"reply-%s","source":"/replies","type":"com.example.whole","subject":"s","data":%s}' "$CE_ID" "$data"
