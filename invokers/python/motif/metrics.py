"""Request metrics in the Prometheus text format (`/_/metrics`, CONTRACT.md §1), with the
names, help texts and buckets of motif-runtime's `metrics.rs`, so that one dashboard
reads every invoker.

Plain counters rather than a metrics library: every function request touches them, and
the event loop's single thread needs no locks.
"""

from __future__ import annotations

from bisect import bisect_left

# Seconds: sub-millisecond for in-process handlers up to the contract's 60 s default
# timeout.
BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The counters of one function server."""

    __slots__ = ("by_status", "buckets", "sum_seconds", "in_flight", "queued", "cold_start")

    def __init__(self) -> None:
        self.by_status: dict[int, int] = {}
        # A count per bucket, made cumulative when rendered; the last one is +Inf.
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.sum_seconds = 0.0
        self.in_flight = 0
        self.queued = 0
        self.cold_start = 0.0

    def record(self, status: int, seconds: float) -> None:
        """Records a finished function request."""
        self.by_status[status] = self.by_status.get(status, 0) + 1
        self.buckets[bisect_left(BUCKETS, seconds)] += 1
        self.sum_seconds += seconds

    def render(self) -> bytes:
        """The Prometheus text exposition format 0.0.4."""
        out = [
            "# HELP motif_requests_total Function requests by HTTP status code.",
            "# TYPE motif_requests_total counter",
        ]
        for status in sorted(self.by_status):
            out.append(f'motif_requests_total{{code="{status}"}} {self.by_status[status]}')
        out += [
            "# HELP motif_request_duration_seconds Time from request to response.",
            "# TYPE motif_request_duration_seconds histogram",
        ]
        cumulative = 0
        for bound, count in zip((*map(_number, BUCKETS), "+Inf"), self.buckets):
            cumulative += count
            out.append(f'motif_request_duration_seconds_bucket{{le="{bound}"}} {cumulative}')
        out += [
            f"motif_request_duration_seconds_sum {_number(self.sum_seconds)}",
            f"motif_request_duration_seconds_count {cumulative}",
            "# HELP motif_requests_in_flight Function requests being handled now.",
            "# TYPE motif_requests_in_flight gauge",
            f"motif_requests_in_flight {self.in_flight}",
            "# HELP motif_requests_queued Requests waiting for a concurrency slot.",
            "# TYPE motif_requests_queued gauge",
            f"motif_requests_queued {self.queued}",
            "# HELP motif_cold_start_seconds Time from process start to ready.",
            "# TYPE motif_cold_start_seconds gauge",
            f"motif_cold_start_seconds {_number(self.cold_start)}",
        ]
        out.append("")
        return "\n".join(out).encode()


def _number(value: float) -> str:
    """A float as Prometheus (and Rust's `Display`) writes it: `1`, `0.0005`, `2.5`."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
