"""A request to a cloudevent function: the events decoded (CONTRACT.md §3), the handler
called once per event, and its reply encoded in the request's mode as `Accept` allows."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from motif import problem as problems
from motif.answer import Answer, answer, handler_failed
from motif.ce import binding
from motif.ce.errors import EventError
from motif.ce.event import NOTHING, Wire, from_sdk
from motif.function import Function
from motif.media import CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, OCTET_STREAM, Accept
from motif.trace import TraceContext

if TYPE_CHECKING:
    from motif.dispatch import RawRequest


class _Failed(Exception):
    """The handler failed on one event; `answer` is what the client gets."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer


class EventCall:
    """Calls a cloudevent function's handler for the events of a request."""

    def __init__(self, function: Function, executor: Executor) -> None:
        self.function = function
        self.executor = executor

    async def call(self, req: RawRequest, trace: TraceContext) -> Answer:
        """Decodes, calls the handler, encodes."""
        try:
            events, mode = binding.decode(req.headers, req.header("content-type"), req.body)
        except EventError as e:
            return answer(e.problem())
        accept = Accept.parse(req.header("accept"))
        try:
            if mode != binding.BATCH:
                reply = await self._one(events[0], trace, "")
                if reply is None:
                    return 204, [], b""
                return _encode_reply(reply, mode, accept)
            replies = []
            for i, event in enumerate(events):
                context = f"event {i} of the batch (id `{event.get_id()}`): "
                reply = await self._one(event, trace, context)
                if reply is not None:
                    replies.append(reply)
            if not replies:
                return 204, [], b""
            if accept.names(CLOUDEVENTS_BATCH_JSON):
                headers, body = _encoded(binding.encode_batch, replies)
                return 200, headers, body
            if len(replies) == 1:
                return _encode_reply(replies[0], binding.STRUCTURED, accept)
        except _Failed as failed:
            return failed.answer
        return answer(
            problems.not_acceptable(
                f"the batch produced {len(replies)} reply events; ask for them with "
                f"`Accept: {CLOUDEVENTS_BATCH_JSON}`"
            )
        )

    async def _one(self, event: Any, trace: TraceContext, context: str) -> Wire | None:
        """The handler's reply to one event, checked and traced; `None` for no reply."""
        try:
            returned = await self.function.handle.call(self.executor, event)
        except Exception as e:
            raise _Failed(handler_failed(e, context)) from None
        if returned is None:
            return None
        try:
            wire = from_sdk(returned)
        except EventError as e:
            raise _Failed(invalid_reply(context + e.detail)) from None
        # Events the handler emits carry the distributed-tracing extension (CONTRACT.md
        # §4), unless it set its own.
        if "traceparent" not in wire.attributes:
            wire.attributes["traceparent"] = trace.traceparent
            if trace.tracestate:
                wire.attributes["tracestate"] = trace.tracestate
        return wire


def invalid_reply(detail: str) -> Answer:
    """The 500 for a reply that is not a valid CloudEvent."""
    return answer(problems.handler_failed(f"the function returned an invalid event: {detail}"))


def _encoded(encode: Any, *args: Any) -> tuple[list[tuple[str, str]], bytes]:
    """Runs an encoder; data that cannot be written (a JSON value that is not JSON) is
    an invalid reply."""
    try:
        return encode(*args)
    except (TypeError, ValueError) as e:
        raise _Failed(invalid_reply(f"its data cannot be encoded: {e}")) from None


def _encode_reply(wire: Wire, request_mode: str, accept: Accept) -> Answer:
    """A reply in the request's mode when `Accept` allows it, else in the other single
    mode, else 406. Raises `_Failed` for data that cannot be encoded."""
    ct = wire.datacontenttype
    binary_ok = binding.binary_carries(wire) and (
        (wire.raw is None and wire.value is NOTHING) or accept.allows(ct or OCTET_STREAM)
    )
    structured_ok = accept.allows(CLOUDEVENTS_JSON)
    if structured_ok and (request_mode == binding.STRUCTURED or not binary_ok):
        mode = binding.STRUCTURED
    elif binary_ok:
        mode = binding.BINARY
    else:
        return answer(
            problems.not_acceptable(
                f"the reply is `{ct or OCTET_STREAM}` in binary mode or `{CLOUDEVENTS_JSON}` "
                "in structured mode, and Accept allows neither"
            )
        )
    headers, body = _encoded(binding.encode, wire, mode)
    return 200, headers, body
