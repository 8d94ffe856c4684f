"""What a handler knows about the call it is serving: `motif.context()`.

The invoker sets it (a `contextvars.ContextVar`) before it calls the handler, so it is
right in async handlers, in sync handlers on their worker thread, and in a wasm instance.
"""

from __future__ import annotations

import time
from contextvars import ContextVar


class Context:
    """The function, the trace and the deadline of the current call."""

    __slots__ = (
        "function_name",
        "k_service",
        "k_configuration",
        "k_revision",
        "traceparent",
        "tracestate",
        "deadline",
    )

    def __init__(
        self,
        function_name: str,
        traceparent: str,
        deadline: float,
        *,
        tracestate: str | None = None,
        k_service: str | None = None,
        k_configuration: str | None = None,
        k_revision: str | None = None,
    ) -> None:
        self.function_name = function_name
        """The function's name (`MOTIF_FUNCTION_NAME`, else `K_SERVICE`)."""
        self.traceparent = traceparent
        """The W3C `traceparent` of the handler's own span: send it on outgoing calls."""
        self.tracestate = tracestate
        """The request's `tracestate`, to pass on unchanged."""
        self.deadline = deadline
        """When the invoker gives up on this call, on the `time.monotonic()` clock."""
        self.k_service = k_service
        """Knative's `K_SERVICE`, when set."""
        self.k_configuration = k_configuration
        """Knative's `K_CONFIGURATION`, when set."""
        self.k_revision = k_revision
        """Knative's `K_REVISION`, when set."""

    @property
    def trace_id(self) -> str:
        """The trace id, 32 lower-case hex digits."""
        return self.traceparent[3:35]

    def remaining(self) -> float:
        """Seconds left before the deadline (`MOTIF_TIMEOUT`); never below 0."""
        return max(0.0, self.deadline - time.monotonic())

    def __repr__(self) -> str:
        return f"Context(function_name={self.function_name!r}, traceparent={self.traceparent!r})"


current: ContextVar[Context] = ContextVar("motif.context")


def context() -> Context:
    """The context of the call being served.

    Raises `RuntimeError` outside a call (at import time, or in the init hook).
    """
    try:
        return current.get()
    except LookupError:
        raise RuntimeError("motif.context() is only available while a handler runs") from None
