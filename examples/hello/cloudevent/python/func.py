"""events-python: a CloudEvent function. `handle` gets every event sent to the function and
may answer with an event of its own; edit it.

`motif run` serves it on port 8080 (`$PORT`); `python3 -m unittest` runs test_func.py.
"""

from __future__ import annotations

from cloudevents.core.v1.event import CloudEvent

GREETING = "hello"
"""The word the function greets with."""

SOURCE = "/motif/events-python"
"""The `source` of the events this function sends."""

REPLY_TYPE = "dev.motif.events-python.reply"
"""The `type` of the events this function sends. A reply carries a type of its own, so
that a trigger for the events this function takes does not send it its own replies."""


def handle(event: CloudEvent) -> CloudEvent | None:
    """Answers an event whose data is JSON such as `{"name": "motif"}` (or the text
    `motif`) with an event whose data is `{"message": "hello, motif!"}`; an event
    without data gets no answer.

    The invoker has already decoded and validated the event (binary, structured or batch
    mode). `event.get_data()` is the parsed value when the data is JSON, a `str` when it
    is text, else `bytes`. The reply goes back in the mode the event came in; `None` is a
    204.

    An exception is a 500 (the function failed: a broker retries the event); raise
    `motif.Error(422, "...")` (`import motif`) for an event the function cannot process,
    which a broker does not retry. A plain `def` runs on a worker thread, an `async def`
    on the event loop.
    """
    data = event.get_data()
    if data is None:
        return None
    if isinstance(data, dict):
        name = data.get("name")
    elif isinstance(data, str):
        name = data.strip()
    else:
        name = None
    if not isinstance(name, str) or not name:
        name = "world"

    return CloudEvent(
        {
            # The reply's id only needs to be unique for its source: derive it from the
            # event's, so a redelivered event gets the same reply.
            "id": f"{event.get_id()}.reply",
            "source": SOURCE,
            "type": REPLY_TYPE,
            "datacontenttype": "application/json",
        },
        {"message": f"{GREETING}, {name}!"},
    )
