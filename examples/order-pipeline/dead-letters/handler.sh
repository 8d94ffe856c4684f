#!/bin/sh
# dead-letters: the dead-letter sink of every stage. The broker adds why the event could
# not be delivered: CE_KNATIVEERRORCODE (the last status), CE_KNATIVEERRORDEST (who
# refused it) and CE_KNATIVEERRORDATA (the answer, base64).
set -eu
why=$(printf '%s' "${CE_KNATIVEERRORDATA:-}" | base64 -d 2>/dev/null | tr -d '\n' || true)
echo "dead letter: ${CE_TYPE} ${CE_ID} from ${CE_SOURCE}: ${CE_KNATIVEERRORCODE:-?} ${why}" >&2
