"""A cloudevent function in Python, built with componentize-py against the
`motif:function/cloudevent-function` world (invokers/wit) by
crates/wasm/tests/languages.rs:

    componentize-py -d invokers/wit -w motif:function/cloudevent-function \
        componentize -p tests/wasm-guests/python -o python.wasm app

The event's type chooses what it does:
- `uppercase`: replies with the data upper-cased, as `uppercase.reply`, from
  `/motif/<function name>` (the name comes from the host's `context` import);
- `none`: no reply;
- `error`: fails with status 422.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import context
from wit_world.imports.types import Error, Event


class Handler(exports.Handler):
    def handle(self, event: Event) -> Event | None:
        if event.type == "uppercase":
            data = (event.data or b"").decode("utf-8").upper().encode("utf-8")
            return Event(
                id=f"{event.id}-reply",
                source=f"/motif/{context.function_name()}",
                type="uppercase.reply",
                datacontenttype="text/plain",
                dataschema=None,
                subject=event.subject,
                time=None,
                extensions=[("lang", "python"), *event.extensions],
                data=data,
            )
        if event.type == "none":
            return None
        if event.type == "error":
            raise Err(Error(message=f"python refuses {event.id}", status=422))
        raise Err(Error(message=f"unknown type {event.type}", status=400))
