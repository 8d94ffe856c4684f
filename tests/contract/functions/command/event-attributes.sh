#!/bin/sh
# Role `event-attributes`: the event's attributes from CE_* variables, as JSON.
j() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
cat >/dev/null
printf '{"id":%s,"source":%s,"type":%s,"subject":%s,"time":%s,"myext":%s,"datacontenttype":%s}' \
  "$(j "$CE_ID")" "$(j "$CE_SOURCE")" "$(j "$CE_TYPE")" "$(j "$CE_SUBJECT")" "$(j "$CE_TIME")" \
  "$(j "$CE_MYEXT")" "$(j "$CE_DATACONTENTTYPE")"
