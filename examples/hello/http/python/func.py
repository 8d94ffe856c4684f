"""hello-python: an HTTP function. `handle` answers every request the function gets (every
path below `/` except `/_/`, which belongs to the invoker); edit it.

`motif run` serves it on port 8080 (`$PORT`); `python3 -m unittest` runs test_func.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # The invoker's types, for editors and type checkers. At run time the invoker is
    # there; `import motif` for `motif.Response`, `motif.Error` or `motif.context()`.
    import motif

GREETING = "hello"
"""The word the function greets with."""


def handle(request: motif.Request) -> str:
    """Greets the name sent as the request body: `curl -d motif localhost:8080` answers
    `hello, motif!`; without a body it greets the world.

    `request` has `method`, `path`, `query` (the raw query string), `headers`
    (case-insensitive), `body` (bytes), `text()` and `json()`.

    Return the body alone (`str` is text/plain, `bytes` application/octet-stream, a
    `dict` or `list` JSON, `None` a 204) or `motif.Response(body, status=..., headers=...)`.
    Raise `motif.Error(status, message)` to answer with a problem+json of that status;
    any other exception is a 500. A plain `def` runs on a worker thread, an `async def`
    on the event loop.
    """
    name = request.text().strip() or "world"
    return f"{GREETING}, {name}!\n"
