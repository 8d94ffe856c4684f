"""The `motif:function` cloudevent world's `handler` export: the host's `event` record
becomes the SDK's `CloudEvent` a function takes natively, and its reply (checked by the
same rules as natively) goes back as a record.

Imported only inside a componentize-py build, where `wit_world` exists.
"""

from __future__ import annotations

import traceback
from types import ModuleType
from typing import Any

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import context as host
from wit_world.imports.types import Error as WitError
from wit_world.imports.types import Event as WitEvent

from motif.ce import validate
from motif.ce.errors import EventError
from motif.ce.event import Wire, data_from_bytes, from_sdk, to_sdk
from motif.errors import Error
from motif.guest.call import call, context, function_handle


def to_event(event: WitEvent) -> Any:
    """The host's record as the SDK's `CloudEvent` (the host has checked it)."""
    attributes: dict[str, Any] = {
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "specversion": "1.0",
    }
    for name in ("datacontenttype", "dataschema", "subject"):
        value = getattr(event, name)
        if value is not None:
            attributes[name] = value
    if event.time is not None:
        attributes["time"] = validate.timestamp("time", event.time)
    attributes.update(event.extensions)
    return to_sdk(attributes, *data_from_bytes(event.data or b"", event.datacontenttype))


def to_record(wire: Wire) -> WitEvent:
    """A checked reply as the host's record: extensions in their canonical strings.
    Raises `EventError` for data that cannot be encoded."""
    attributes = dict(wire.attributes)
    core = {name: attributes.pop(name, None) for name in validate.CORE if name != "specversion"}
    extensions = [
        (name, ("true" if value else "false") if isinstance(value, bool) else str(value))
        for name, value in attributes.items()
    ]
    try:
        data = wire.body()
    except (TypeError, ValueError) as e:
        raise EventError(f"its data cannot be encoded: {e}") from None
    return WitEvent(
        id=core["id"],
        source=core["source"],
        type=core["type"],
        datacontenttype=core["datacontenttype"],
        dataschema=core["dataschema"],
        subject=core["subject"],
        time=core["time"],
        extensions=extensions,
        data=data,
    )


def handler(module: ModuleType) -> type:
    """The export class for `module`'s `handle(event)`."""
    handle = function_handle(module)

    class Handler(exports.Handler):
        def handle(self, event: WitEvent) -> WitEvent | None:
            cx = context(host.function_name(), host.traceparent(), host.remaining_ms(), host.revision())
            try:
                reply = call(handle, to_event(event), cx)
                return None if reply is None else to_record(from_sdk(reply))
            except Error as e:
                raise Err(WitError(message=e.message, status=e.status)) from None
            except EventError as e:
                raise Err(
                    WitError(message=f"the function returned an invalid event: {e.detail}", status=None)
                ) from None
            except Exception as e:
                traceback.print_exception(e)
                message = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
                raise Err(WitError(message=message, status=None)) from None

    return Handler
