"""motif's Python invoker: a module's `handle` served behind the motif function contract.

An http function takes a `Request` and returns a `Response` or a body; a cloudevent
function takes a CloudEvent (the `cloudevents` SDK's `CloudEvent`) and returns one or
`None`. Raise `Error(status, message)` to choose the status of a failure; read the
current call's function name, trace and deadline with `context()`.

    def handle(request: motif.Request) -> motif.Response:
        return motif.Response(b"hello", headers={"content-type": "text/plain"})

Serve it with `python3 -m motif app.py` (README.md).
"""

from motif.context import Context, context
from motif.errors import Error
from motif.messages import Headers, Request, Response

__all__ = ["Context", "Error", "Headers", "Request", "Response", "context"]
