"""The contract suite's cloudevent roles (tests/contract/roles.toml), chosen by the
function's name, written once with the Python invoker's API: served natively by
`python3 -m motif` (functions/python) and as a motif:function component
(functions/python-wasm).

`handle` is an `async def`: natively it runs on the event loop, so `event-sleep` awaits
without holding a thread.
"""

import asyncio
from typing import Any

from cloudevents.core.v1.event import CloudEvent

import motif


async def handle(event: CloudEvent) -> CloudEvent | None:
    role = motif.context().function_name
    if role == "event-reply":
        return reply(event, role, event.get_data())
    if role == "event-sink":
        return None
    if role == "event-echo":
        return event
    if role == "event-attributes":
        time = event.get_time()
        return reply(
            event,
            role,
            {
                "id": event.get_id(),
                "source": event.get_source(),
                "type": event.get_type(),
                "subject": event.get_subject() or "",
                "time": time.isoformat().replace("+00:00", "Z") if time else "",
                "myext": str(event.get_extension("myext") or ""),
                "datacontenttype": event.get_datacontenttype() or "",
            },
        )
    if role == "event-fail":
        raise RuntimeError("boom")
    if role == "event-sleep":
        await asyncio.sleep(30)
        return None
    raise motif.Error(404, f"no role `{role}`")


def reply(to: CloudEvent, role: str, data: Any) -> CloudEvent:
    """The reply of `role`: JSON data, type `<request type>.reply`."""
    return CloudEvent(
        {
            "id": f"{to.get_id()}-{role}",
            "source": f"/motif/{role}",
            "type": f"{to.get_type()}.reply",
            "datacontenttype": "application/json",
        },
        data,
    )
