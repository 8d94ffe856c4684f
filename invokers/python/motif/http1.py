"""HTTP/1.1 connections, parsed by httptools (llhttp, the parser of Node and uvicorn), and
the switch to HTTP/2 when a connection opens with the h2c prior-knowledge preface.

Requests on one connection are answered in order (pipelining included); a body over
`MOTIF_MAX_BODY` is answered with a 413 as soon as it is seen, and the rest of it is
read and thrown away for a while before the connection closes, so that the client reads
the 413 instead of a broken pipe (nginx's `lingering_close` does the same).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from http import HTTPStatus
from typing import TYPE_CHECKING

import httptools

from motif import problem as problems
from motif.answer import Answer, answer
from motif.dispatch import STARTING, RawRequest
from motif.log import log

if TYPE_CHECKING:
    from motif.server import Server

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# After a 413, how much more of the body is read and thrown away, and for how long
# (motif-runtime's numbers).
LINGER_BYTES = 64 * 1024 * 1024
LINGER_SECONDS = 2.0
# Pipelined requests held before the connection stops reading.
MAX_PENDING = 16

_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n" for s in HTTPStatus}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_date_cache: list = [0, ""]


def _date() -> str:
    """The `Date` header line, made once a second."""
    now = int(time.time())
    if _date_cache[0] != now:
        t = time.gmtime(now)
        _date_cache[0] = now
        _date_cache[1] = (
            f"date: {_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT\r\n"
        )
    return _date_cache[1]


def head(status: int, headers: list[tuple[str, str]], length: int, keep_alive: bool) -> bytes:
    """A response's status line and headers; raises `UnicodeEncodeError` for a header
    value outside Latin-1."""
    parts = [_STATUS_LINES.get(status) or f"HTTP/1.1 {status} \r\n"]
    parts += [f"{name}: {value}\r\n" for name, value in headers]
    if status >= 200 and status not in (204, 304):
        parts.append(f"content-length: {length}\r\n")
    parts.append(_date())
    if not keep_alive:
        parts.append("connection: close\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("latin-1")


class Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1, or HTTP/2 after the preface."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.dispatcher = server.dispatcher
        self.max_body = server.config.max_body
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.sniffed: bytes | None = b""  # the first bytes, until HTTP/2 is ruled in or out
        self.h2 = None
        self.pending: deque[tuple[RawRequest, bool, bool]] = deque()
        self.busy = False
        self.closed = False
        self.paused = False
        self._new_message()

    def _new_message(self) -> None:
        self.url = b""
        self.headers: list[tuple[str, bytes]] = []
        self.body: list[bytes] = []
        self.size = 0
        self.over = False
        self.answered = False
        self.takes_body = True
        self.started = 0.0

    # -- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if self.h2 is not None:
            self.h2.connection_lost()

    def data_received(self, data: bytes) -> None:
        if self.sniffed is not None:
            data = self.sniffed + data
            n = min(len(data), len(PREFACE))
            if data[:n] == PREFACE[:n]:
                if n < len(PREFACE):
                    self.sniffed = data
                    return
                self.sniffed = None
                from motif.h2c import H2Connection

                self.h2 = H2Connection(self)
            self.sniffed = None
        if self.h2 is not None:
            self.h2.data_received(data)
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as e:
            # An `Upgrade` (to h2c, or a websocket) is not taken: the request is answered
            # as HTTP/1.1, and what follows it is read as the next request.
            self.parser = httptools.HttpRequestParser(self)
            rest = data[e.args[0] :]
            if rest:
                self.data_received(rest)
        except httptools.HttpParserError as e:
            self._reject(f"the request is not valid HTTP/1.1: {e}")

    # -- httptools callbacks ----------------------------------------------------------

    def on_message_begin(self) -> None:
        self._new_message()
        self.started = time.monotonic()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1").lower(), value))

    def on_headers_complete(self) -> None:
        self.method = self.parser.get_method().decode("latin-1")
        if b"://" in self.url and not self.url.startswith(b"/"):  # absolute-form
            parsed = httptools.parse_url(self.url)
            path, query = parsed.path or b"/", parsed.query or b""
        else:
            path, _, query = self.url.partition(b"?")
        self.path = path.decode("latin-1")
        self.query = query.decode("latin-1")
        self.takes_body = self.dispatcher.takes_body(self.method, self.path)
        declared = None
        expect = False
        for name, value in self.headers:
            if name == "content-length" and value.isdigit():
                declared = int(value)
            elif name == "expect" and value.lower() == b"100-continue":
                expect = True
        if declared is not None and declared > self.max_body:
            self._over()
        elif expect and self._idle():
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[union-attr]

    def on_body(self, chunk: bytes) -> None:
        if self.over:
            self.size += len(chunk)
            if self.size > LINGER_BYTES:
                self._close()
            return
        self.size += len(chunk)
        if self.size > self.max_body:
            self._over()
            return
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        if self.answered:
            # The 413 went out already; the body was read only so that the client sees it.
            self._close()
            return
        body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
        request = RawRequest(
            self.method, self.path, self.query, self.headers, body, self.over, self.started
        )
        keep_alive = self.parser.should_keep_alive()
        self.pending.append((request, keep_alive, self.method == "HEAD"))
        if not self.busy:
            self.busy = True
            asyncio.get_running_loop().create_task(self._serve())
        elif len(self.pending) >= MAX_PENDING and not self.paused:
            self.paused = True
            self.transport.pause_reading()  # type: ignore[union-attr]

    # -- answering --------------------------------------------------------------------

    def _idle(self) -> bool:
        return not self.busy and not self.pending

    def _over(self) -> None:
        """The body is over the limit: drop what was read, and answer 413 now when
        nothing else on the connection waits for its answer."""
        self.over = True
        self.body = []
        if (
            self.takes_body
            and self._idle()
            and self.dispatcher.state != STARTING
        ):
            self.answered = True
            self.write(self.dispatcher.too_large(self.started), keep_alive=False)
            asyncio.get_running_loop().call_later(LINGER_SECONDS, self._close)

    async def _serve(self) -> None:
        """Answers the pending requests in order."""
        while self.pending and not self.closed:
            request, keep_alive, is_head = self.pending.popleft()
            try:
                res = await self.dispatcher.handle(request)
            except Exception as e:  # a bug of the invoker's: fail this request alone
                log.error("the invoker failed a request", exc_info=e)
                res = answer(problems.handler_failed("the invoker failed; see its logs"))
            if self.closed:
                break
            keep_alive = keep_alive and not self.server.closing
            self.write(res, keep_alive, is_head)
            if not keep_alive:
                self._close()
                break
            if self.paused and len(self.pending) < MAX_PENDING // 2:
                self.paused = False
                self.transport.resume_reading()  # type: ignore[union-attr]
        self.busy = False
        if self.server.closing and not self.pending:
            self._close()

    def write(self, res: Answer, keep_alive: bool, is_head: bool = False) -> None:
        """Writes a response."""
        if self.closed:
            return
        status, headers, body = res
        try:
            data = head(status, headers, len(body), keep_alive)
        except UnicodeEncodeError:
            status, headers, body = answer(
                problems.handler_failed("a response header holds characters outside Latin-1")
            )
            data = head(status, headers, len(body), keep_alive)
        self.transport.write(data if is_head or not body else data + body)  # type: ignore[union-attr]

    def _reject(self, detail: str) -> None:
        self.write(answer(problems.bad_request(detail)), keep_alive=False)
        self._close()

    def _close(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()

    def close_when_idle(self) -> None:
        """Closes the connection now if no request is being answered on it, else after
        its answer (draining)."""
        if self.h2 is not None:
            self.h2.close_when_idle()
        elif self._idle():
            self._close()
