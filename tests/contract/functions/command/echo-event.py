#!/usr/bin/env python3
"""Role `event-echo`: prints the request event, unchanged, as the whole reply in the JSON
event format (MOTIF_RESPONSE_TYPE=application/cloudevents+json): every `CE_*`
attribute the invoker set, and the data from stdin."""

import base64
import json
import os
import sys

event = {k[3:].lower(): v for k, v in os.environ.items() if k.startswith("CE_")}
data = sys.stdin.buffer.read()
kind = event.get("datacontenttype", "").split(";")[0].strip().lower()
if not data and "datacontenttype" not in event:
    pass
elif kind == "application/json" or kind.endswith("+json"):
    event["data"] = json.loads(data)
else:
    event["data_base64"] = base64.b64encode(data).decode()
sys.stdout.write(json.dumps(event))
