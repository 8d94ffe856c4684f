"""W3C Trace Context: the request's `traceparent` is continued, and the handler runs as
a child span of it (CONTRACT.md §4), as motif-runtime's `trace.rs` does."""

from __future__ import annotations

import random
import re

_HEX2 = re.compile(r"[0-9a-f]{2}")
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")


class TraceContext:
    """The trace a request belongs to, and the span the handler runs as."""

    __slots__ = ("trace_id", "parent_id", "span_id", "flags", "tracestate")

    def __init__(
        self,
        trace_id: str,
        parent_id: str | None,
        flags: str,
        tracestate: str | None,
    ) -> None:
        self.trace_id = trace_id
        self.parent_id = parent_id
        self.span_id = _new_id(64, 16)
        self.flags = flags
        self.tracestate = tracestate

    @classmethod
    def continue_from(cls, traceparent: str | None, tracestate: str | None) -> TraceContext:
        """Continues `traceparent` (and `tracestate`) when valid; otherwise starts a new
        trace, as W3C Trace Context §4.3 says a receiver does with an invalid header."""
        parsed = _parse(traceparent) if traceparent else None
        if parsed is None:
            return cls.root()
        trace_id, parent_id, flags = parsed
        return cls(trace_id, parent_id, flags, tracestate)

    @classmethod
    def root(cls) -> TraceContext:
        """A new trace, sampled."""
        return cls(_new_id(128, 32), None, "01", None)

    @property
    def traceparent(self) -> str:
        """The `traceparent` for anything the handler calls or emits: this trace, with
        the handler's span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def _new_id(bits: int, digits: int) -> str:
    # All-zero ids are invalid (§3.2.2.3, §3.2.2.4).
    return format(random.getrandbits(bits) or 1, f"0{digits}x")


def _parse(value: str) -> tuple[str, str, str] | None:
    """`version-traceid-parentid-flags`: version 00 exactly, or a later version whose
    first four fields parse (forward compatibility, §4.3). All-zero ids are invalid."""
    parts = value.strip().split("-")
    if len(parts) < 4:
        return None
    version, trace_id, parent_id, flags = parts[:4]
    if (
        not _HEX2.fullmatch(version)
        or version == "ff"
        or (version == "00" and len(parts) != 4)
        or not _TRACE_ID.fullmatch(trace_id)
        or not _SPAN_ID.fullmatch(parent_id)
        or not _HEX2.fullmatch(flags)
        or trace_id == "0" * 32
        or parent_id == "0" * 16
    ):
        return None
    return trace_id, parent_id, flags
