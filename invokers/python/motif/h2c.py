"""HTTP/2 without TLS, with prior knowledge (Knative's `h2c` port name asks for it), on the
sans-IO `h2` library: each stream is one request, answered through the same dispatcher
as HTTP/1.1. Imported only when a connection opens with the HTTP/2 preface."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from motif import problem as problems
from motif.answer import Answer, answer
from motif.dispatch import STARTING, RawRequest
from motif.log import log

if TYPE_CHECKING:
    from motif.http1 import Connection


class _Stream:
    """A request being received on one stream."""

    __slots__ = ("method", "path", "query", "headers", "body", "size", "over", "started")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.started = time.monotonic()
        self.method = self.path = self.query = ""
        self.headers: list[tuple[str, bytes]] = []
        authority = None
        for name, value in headers:
            key = name.decode("latin-1").lower()
            if key == ":method":
                self.method = value.decode("latin-1")
            elif key == ":path":
                path, _, query = value.partition(b"?")
                self.path, self.query = path.decode("latin-1"), query.decode("latin-1")
            elif key == ":authority":
                authority = value
            elif not key.startswith(":"):
                self.headers.append((key, value))
        if authority is not None and not any(k == "host" for k, _ in self.headers):
            self.headers.append(("host", authority))
        self.body: list[bytes] = []
        self.size = 0
        self.over = False


class H2Connection:
    """The HTTP/2 side of a `Connection`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dispatcher = connection.dispatcher
        self.max_body = connection.max_body
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.conn = h2.connection.H2Connection(config)
        self.conn.initiate_connection()
        self.streams: dict[int, _Stream] = {}
        self.answering = 0
        self.window = asyncio.Event()  # set when the peer opens a flow-control window
        self.closing = False
        self._flush()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            log.info("closing an HTTP/2 connection: %s", e)
            self._flush()
            self.connection.transport.close()  # type: ignore[union-attr]
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self._headers(event.stream_id, event.headers)
            elif isinstance(event, h2.events.DataReceived):
                self._data(event.stream_id, event.data, event.flow_controlled_length)
            elif isinstance(event, h2.events.StreamEnded):
                self._ended(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self.streams.pop(event.stream_id, None)
            elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                self.window.set()
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.connection.transport.close()  # type: ignore[union-attr]
        self._flush()

    def _headers(self, stream_id: int, headers: list[tuple[bytes, bytes]]) -> None:
        stream = _Stream(headers)
        self.streams[stream_id] = stream
        for name, value in stream.headers:
            if name == "content-length" and value.isdigit() and int(value) > self.max_body:
                self._over(stream_id, stream)

    def _data(self, stream_id: int, data: bytes, flow_controlled: int) -> None:
        try:
            self.conn.acknowledge_received_data(flow_controlled, stream_id)
        except h2.exceptions.StreamClosedError:
            pass
        stream = self.streams.get(stream_id)
        if stream is None or stream.over:
            return
        stream.size += len(data)
        if stream.size > self.max_body:
            self._over(stream_id, stream)
        else:
            stream.body.append(data)

    def _over(self, stream_id: int, stream: _Stream) -> None:
        """A body over the limit: answer 413 at once (RFC 9113 §8.1 lets a server answer
        before the request is complete); what more of the body comes is acknowledged and
        dropped, so the client can finish sending and read the answer."""
        stream.over = True
        stream.body = []
        if self.dispatcher.takes_body(stream.method, stream.path) and self.dispatcher.state != STARTING:
            self.streams.pop(stream_id, None)
            res = self.dispatcher.too_large(stream.started)
            # Headers and body leave in one write: a client that sees the 413's headers
            # alone stops its upload and may drop the rest (curl does).
            self.conn.send_headers(stream_id, _block(res))
            self.conn.send_data(stream_id, res[2], end_stream=True)

    def _ended(self, stream_id: int) -> None:
        stream = self.streams.pop(stream_id, None)
        if stream is None:
            return
        body = b"".join(stream.body)
        request = RawRequest(
            stream.method, stream.path, stream.query, stream.headers, body, stream.over, stream.started
        )
        self.answering += 1
        asyncio.get_running_loop().create_task(self._answer(stream_id, request))

    async def _answer(self, stream_id: int, request: RawRequest) -> None:
        try:
            res = await self.dispatcher.handle(request)
        except Exception as e:  # a bug of the invoker's: fail this request alone
            log.error("the invoker failed a request", exc_info=e)
            res = answer(problems.handler_failed("the invoker failed; see its logs"))
        try:
            await self._respond(stream_id, res, request.method == "HEAD")
        except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            pass  # the client reset the stream or went away
        finally:
            self.answering -= 1
            if self.closing and not self.answering:
                self._goaway()

    async def _respond(self, stream_id: int, res: Answer, is_head: bool) -> None:
        body = b"" if is_head else res[2]
        if not self._send(stream_id, res, end_stream=not body):
            return
        view = memoryview(body)
        while view and not self.connection.closed:
            size = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if size <= 0:
                self.window.clear()
                await self.window.wait()
                continue
            chunk, view = view[:size], view[size:]
            self.conn.send_data(stream_id, chunk, end_stream=not view)
            self._flush()

    def _send(self, stream_id: int, res: Answer, end_stream: bool) -> bool:
        """Sends a response's headers; whether the stream stays open for the body."""
        try:
            self.conn.send_headers(stream_id, _block(res), end_stream=end_stream)
        except h2.exceptions.ProtocolError:
            # A header HTTP/2 cannot carry (h2 checks them all): fail the request.
            failed = answer(problems.handler_failed("a response header cannot be sent over HTTP/2"))
            self.conn.send_headers(stream_id, _block(failed))
            self.conn.send_data(stream_id, failed[2], end_stream=True)
            end_stream = True
        self._flush()
        return not end_stream

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.connection.closed:
            self.connection.transport.write(data)  # type: ignore[union-attr]

    def _goaway(self) -> None:
        self.conn.close_connection()
        self._flush()
        self.connection.transport.close()  # type: ignore[union-attr]

    def close_when_idle(self) -> None:
        """Says GOAWAY and closes once every stream is answered (draining)."""
        self.closing = True
        if not self.answering:
            self._goaway()

    def connection_lost(self) -> None:
        """Wakes anything waiting for a window, so it sees the connection is gone."""
        self.window.set()


def _block(res: Answer) -> list[tuple[str, str]]:
    """A response's header block: `:status`, its headers, and its length."""
    status, headers, body = res
    block = [(":status", str(status)), *headers]
    if status not in (204, 304):
        block.append(("content-length", str(len(body))))
    return block
