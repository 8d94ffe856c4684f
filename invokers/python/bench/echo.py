"""The benchmark's function for the motif Python invoker (scripts/bench-python.sh): an
echo, a plain `def` as a user would write it. As an http function it answers with the
request's body and `Content-Type`; as a cloudevent function, with the event it got."""

import motif


def handle(message):
    if isinstance(message, motif.Request):
        content_type = message.headers.get("content-type", "application/octet-stream")
        return motif.Response(message.body, headers={"content-type": content_type})
    return message
