"""One request: the invoker's endpoints, or a function request with the contract's limits
applied in motif-runtime's order before the handler runs, and its answer encoded.

For every function request:
1. route: `/_/*` is the invoker's; a cloudevent function takes `POST /` only;
2. body: `MOTIF_MAX_BODY` (413; the connection checks it while reading, before any
   slot is taken, so a slow upload holds none);
3. deadline: `MOTIF_TIMEOUT` (504) covers the wait for a slot and the handler;
4. slot: `MOTIF_CONCURRENCY` and its queue (429 with `Retry-After`);
5. decode (cloudevent: 400/415), handler (500 or its own status), encode (406).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from typing import Any

from motif import problem as problems
from motif.answer import Answer, answer, handler_failed
from motif.config import Config
from motif.context import Context, current
from motif.function import Function
from motif.limit import Full, Limiter
from motif.log import log
from motif.media import Accept
from motif.messages import Headers, Request, Response
from motif.metrics import CONTENT_TYPE as METRICS_TYPE
from motif.metrics import Metrics
from motif.trace import TraceContext

STARTING, READY, DRAINING = "starting", "ready", "draining"

_TEXT = [("content-type", "text/plain; charset=utf-8")]
# Connection-scoped headers (RFC 9110 §7.6.1) never pass between client and handler.
_HOP_BY_HOP = frozenset(
    ("connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "keep-alive", "upgrade", "proxy-connection")
)  # fmt: skip


class RawRequest:
    """A request as a connection read it: names lower-case, values as sent."""

    __slots__ = ("method", "path", "query", "headers", "body", "too_large", "started")

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, bytes]],
        body: bytes,
        too_large: bool,
        started: float,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.too_large = too_large
        self.started = started

    def header(self, name: str) -> str | None:
        """The first value of `name`, as text."""
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return None


class Dispatcher:
    """Answers requests for one function."""

    def __init__(self, config: Config, function: Function, executor: Executor) -> None:
        self.config = config
        self.function = function
        self.executor = executor
        self.metrics = Metrics()
        self.limiter = Limiter(config.concurrency, config.queue, self.metrics)
        self.state = STARTING
        if config.kind == "cloudevent":
            # Imported here so that an http function never loads the CloudEvents code.
            from motif.events import EventCall

            self.events = EventCall(function, executor)
        self._timeout_answer = answer(problems.timeout(config.timeout))

    def takes_body(self, method: str, path: str) -> bool:
        """Whether the request goes to the function (so `MOTIF_MAX_BODY` applies)."""
        if path.startswith("/_/"):
            return False
        if self.config.kind == "cloudevent":
            return path == "/" and method == "POST"
        return True

    def too_large(self, started: float) -> Answer:
        """The 413 a connection sends as soon as it sees a body is over the limit."""
        res = answer(problems.payload_too_large(self.config.max_body))
        self.metrics.record(413, time.monotonic() - started)
        return res

    async def handle(self, req: RawRequest) -> Answer:
        """Answers one request."""
        if req.path.startswith("/_/"):
            return self.endpoint(req.method, req.path)
        self.metrics.in_flight += 1
        try:
            res = await self._function_request(req)
        finally:
            self.metrics.in_flight -= 1
        self.metrics.record(res[0], time.monotonic() - req.started)
        return res

    def endpoint(self, method: str, path: str) -> Answer:
        """`/_/live`, `/_/ready`, `/_/metrics`: GET only, never counted."""
        if path not in ("/_/live", "/_/ready", "/_/metrics"):
            return answer(
                problems.not_found(
                    f"`{path}` is not an invoker endpoint: /_/live, /_/ready and /_/metrics are"
                )
            )
        if method not in ("GET", "HEAD"):
            return answer(problems.method_not_allowed("the invoker's endpoints take GET"))
        if path == "/_/metrics":
            return 200, [("content-type", METRICS_TYPE)], self.metrics.render()
        if path == "/_/ready" and self.state != READY:
            return answer(problems.unavailable(f"function is {self.state}"))
        return 200, _TEXT, b"ok"

    def _route(self, req: RawRequest) -> Answer | None:
        """The answer for a request the function never sees, if this is one."""
        if self.config.kind == "cloudevent":
            if req.path != "/":
                return answer(
                    problems.not_found(
                        f"`{req.path}` is not served: a cloudevent function takes POST /"
                    )
                )
            if req.method == "OPTIONS":
                return _webhook_preflight(req)
            if req.method != "POST":
                return answer(
                    problems.method_not_allowed(
                        f"{req.method} is not allowed: a cloudevent function takes POST /"
                    ),
                    [("allow", "POST, OPTIONS")],
                )
        if self.state == STARTING:
            return answer(problems.unavailable("function is starting"))
        if req.too_large:
            return answer(problems.payload_too_large(self.config.max_body))
        return None

    async def _function_request(self, req: RawRequest) -> Answer:
        early = self._route(req)
        if early is not None:
            return early
        config = self.config
        trace = TraceContext.continue_from(req.header("traceparent"), req.header("tracestate"))
        cx = Context(
            config.name,
            trace.traceparent,
            time.monotonic() + config.timeout,
            tracestate=trace.tracestate,
            k_service=config.k_service,
            k_configuration=config.k_configuration,
            k_revision=config.k_revision,
        )
        # Set for this request only: the connection's next request runs in the same task.
        token = current.set(cx)
        try:
            async with asyncio.timeout(config.timeout):
                await self.limiter.acquire()
                try:
                    if config.kind == "http":
                        res = await self._call_http(req)
                    else:
                        res = await self.events.call(req, trace)
                finally:
                    self.limiter.release()
        except Full:
            res = answer(
                problems.too_many_requests(
                    f"all {config.concurrency} slots are busy and {config.queue} requests are "
                    "waiting (MOTIF_CONCURRENCY, MOTIF_QUEUE); retry later"
                ),
                [("retry-after", "1")],
            )
        except TimeoutError:
            res = self._timeout_answer
        if res[0] >= 500:
            log.warning("function request failed", extra={"fields": {"status": res[0]}})
        current.reset(token)
        return res

    async def _call_http(self, req: RawRequest) -> Answer:
        pairs = strip_hop_by_hop([(k, v.decode("latin-1")) for k, v in req.headers])
        if req.body and not any(k == "content-type" for k, _ in pairs):
            pairs.append(("content-type", "application/octet-stream"))
        request = Request(req.method, req.path, req.query, Headers._lowered(pairs), req.body)
        try:
            returned = await self.function.handle.call(self.executor, request)
            status, headers, body = Response.of(returned).encode()
        except Exception as e:
            return handler_failed(e)
        if 200 <= status < 300:
            accept = req.header("accept")
            ct = next((v for k, v in headers if k == "content-type"), None)
            if accept is not None and ct is not None and not Accept.parse(accept).allows(ct):
                return answer(
                    problems.not_acceptable(
                        f"the function responded with `{ct}`, which Accept does not allow"
                    )
                )
        return status, strip_hop_by_hop(headers, "content-length"), body


def strip_hop_by_hop(pairs: list[tuple[str, Any]], *also: str) -> list[tuple[str, Any]]:
    """The headers without hop-by-hop ones (and those named in `Connection`)."""
    named = set(also)
    for key, value in pairs:
        if key == "connection":
            named.update(n.strip().lower() for n in str(value).split(","))
    if not named and not any(k in _HOP_BY_HOP for k, _ in pairs):
        return pairs
    return [(k, v) for k, v in pairs if k not in _HOP_BY_HOP and k not in named]


def _webhook_preflight(req: RawRequest) -> Answer:
    """The CloudEvents webhook abuse-protection handshake (HTTP Webhook 1.0.2 §4)."""
    headers = [("allow", "POST, OPTIONS")]
    if req.header("webhook-request-origin") is not None:
        headers += [("webhook-allowed-origin", "*"), ("webhook-allowed-rate", "*")]
    return 200, headers, b""
