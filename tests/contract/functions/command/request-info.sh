#!/bin/sh
# Role `request-info`: the request's metadata from the CGI environment, as JSON.
j() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
cat >/dev/null
printf '{"method":%s,"path":%s,"query":%s,"content_type":%s,"test_header":%s,"hop":%s,' \
  "$(j "$REQUEST_METHOD")" "$(j "$PATH_INFO")" "$(j "$QUERY_STRING")" "$(j "$CONTENT_TYPE")" \
  "$(j "$HTTP_X_MOTIF_TEST")" "$(j "$HTTP_X_HOP")"
printf '"k_service":%s,"k_revision":%s,"k_configuration":%s,"traceparent":%s}' \
  "$(j "$K_SERVICE")" "$(j "$K_REVISION")" "$(j "$K_CONFIGURATION")" "$(j "$TRACEPARENT")"
