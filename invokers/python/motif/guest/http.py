"""The `http-function` world's `wasi:http/incoming-handler` export: the host's incoming
request becomes the `Request` a function takes natively, and its answer (a `Response`,
a body, or a failure as problem+json) goes back as the outgoing response.

The host (`motif-invoker --wasm`) has already applied the contract around the call:
hop-by-hop headers dropped, the body limit, the timeout, the `Accept` check.

Imported only inside a componentize-py build, where `wit_world` exists.
"""

from __future__ import annotations

from types import ModuleType

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import context as host
from wit_world.imports.streams import StreamError_Closed
from wit_world.imports.types import (
    Fields,
    IncomingBody,
    IncomingRequest,
    Method_Other,
    OutgoingBody,
    OutgoingResponse,
    ResponseOutparam,
)

from motif.answer import handler_failed
from motif.guest.call import call, context, function_handle
from motif.messages import Headers, Request, Response

# `blocking-write-and-flush` takes at most 4096 bytes a call (wasi:io/streams).
WRITE_CHUNK = 4096
READ_CHUNK = 64 * 1024


def to_request(request: IncomingRequest) -> Request:
    """The host's request as a `Request`, its body read whole."""
    method = request.method()
    name = method.value if isinstance(method, Method_Other) else type(method).__name__[7:].upper()
    path, _, query = (request.path_with_query() or "/").partition("?")
    headers = Headers._lowered(
        [(k.lower(), v.decode("latin-1")) for k, v in request.headers().entries()]
    )
    body = bytearray()
    incoming = request.consume()
    with incoming.stream() as stream:
        while True:
            try:
                body += stream.blocking_read(READ_CHUNK)
            except Err as e:
                if isinstance(e.value, StreamError_Closed):
                    break
                raise
    IncomingBody.finish(incoming)
    return Request(name, path, query, headers, bytes(body))


def outgoing(status: int, headers: list[tuple[str, str]]) -> OutgoingResponse:
    """The host's response for a status and headers; raises for a header wasi:http
    refuses (a forbidden or malformed one)."""
    response = OutgoingResponse(Fields.from_list([(k, v.encode("latin-1")) for k, v in headers]))
    response.set_status_code(status)
    return response


def send(out: ResponseOutparam, response: OutgoingResponse, body: bytes) -> None:
    """Sends a response and its body through the host."""
    outgoing_body = response.body()
    ResponseOutparam.set(out, Ok(response))
    with outgoing_body.write() as stream:
        for start in range(0, len(body), WRITE_CHUNK):
            stream.blocking_write_and_flush(body[start : start + WRITE_CHUNK])
    OutgoingBody.finish(outgoing_body, None)


def handler(module: ModuleType) -> type:
    """The export class for `module`'s `handle(request)`."""
    handle = function_handle(module)

    class IncomingHandler(exports.IncomingHandler):
        def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
            cx = context(host.function_name(), host.traceparent(), host.remaining_ms(), host.revision())
            try:
                status, headers, body = Response.of(call(handle, to_request(request), cx)).encode()
                response = outgoing(status, headers)
            except Exception as e:
                status, headers, body = handler_failed(e)
                response = outgoing(status, headers)
            send(response_out, response, body)

    return IncomingHandler
