"""An http function in Python: greets whoever the body names."""

import motif


def handle(request: motif.Request) -> str:
    name = request.text().strip() or "world"
    return f"hello, {name}! ({request.method} {request.path})\n"
