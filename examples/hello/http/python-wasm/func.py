"""hello-python-wasm: an HTTP function. `handle` answers every request the function gets (every
path below `/` except `/_/`, which belongs to the invoker); edit it.

`motif build` makes it a WebAssembly component (componentize-py), which `motif run`
serves on port 8080 (`$PORT`) in a sandbox: each request runs in a fresh instance with
no files, environment or sockets. Import what the handler needs at the top of the
module: the build snapshots the interpreter after those imports, and there are no
files to import from later. `python3 -m unittest` runs test_func.py with plain Python.
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
    any other exception is a 500. An `async def` handler may await
    only time (`asyncio.sleep`): an instance has no sockets.
    """
    name = request.text().strip() or "world"
    return f"{GREETING}, {name}!\n"
