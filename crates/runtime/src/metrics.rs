//! Request metrics in the Prometheus text format (`/_/metrics`, CONTRACT.md §1).
//!
//! Kept in plain atomics rather than a metrics library: every function request touches
//! them, and a fixed array indexed by status code and a fixed set of histogram buckets
//! need no lock, map lookup or allocation on that path.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Histogram bounds in seconds: sub-millisecond for in-process handlers up to the
/// contract's 60 s default timeout.
const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// The counters of one function server.
#[derive(Debug)]
pub struct Metrics {
    /// Requests by status code, 100-599.
    by_status: [AtomicU64; 500],
    /// Cumulative-at-render: a count per bucket (the last one is +Inf).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    /// Total duration in microseconds.
    sum_micros: AtomicU64,
    in_flight: AtomicI64,
    /// Requests waiting for a concurrency slot.
    queued: AtomicI64,
    /// Seconds from start to ready, in microseconds; 0 until ready.
    cold_start_micros: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            by_status: std::array::from_fn(|_| AtomicU64::new(0)),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_micros: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
            queued: AtomicI64::new(0),
            cold_start_micros: AtomicU64::new(0),
        }
    }
}

/// Counts a request as in flight until dropped.
#[derive(Debug)]
pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    /// Marks a request in flight.
    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(self)
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Relaxed)
    }

    /// Records a finished request.
    pub fn record(&self, status: u16, elapsed: Duration) {
        if let Some(c) = status
            .checked_sub(100)
            .and_then(|i| self.by_status.get(usize::from(i)))
        {
            c.fetch_add(1, Relaxed);
        }
        let secs = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Relaxed,
        );
    }

    /// Adjusts the number of requests waiting for a slot.
    pub fn queued(&self, delta: i64) {
        self.queued.fetch_add(delta, Relaxed);
    }

    /// Requests waiting for a slot now.
    pub fn queued_now(&self) -> i64 {
        self.queued.load(Relaxed)
    }

    /// Records the time from start to ready.
    pub fn set_cold_start(&self, elapsed: Duration) {
        self.cold_start_micros.store(
            u64::try_from(elapsed.as_micros())
                .unwrap_or(u64::MAX)
                .max(1),
            Relaxed,
        );
    }

    /// Renders the Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let w = &mut out;
        let _ = writeln!(
            w,
            "# HELP motif_requests_total Function requests by HTTP status code."
        );
        let _ = writeln!(w, "# TYPE motif_requests_total counter");
        for (i, c) in self.by_status.iter().enumerate() {
            let n = c.load(Relaxed);
            if n > 0 {
                let _ = writeln!(w, "motif_requests_total{{code=\"{}\"}} {n}", i + 100);
            }
        }
        let _ = writeln!(
            w,
            "# HELP motif_request_duration_seconds Time from request to response."
        );
        let _ = writeln!(w, "# TYPE motif_request_duration_seconds histogram");
        let mut cumulative = 0;
        for (i, c) in self.buckets.iter().enumerate() {
            cumulative += c.load(Relaxed);
            match BUCKETS.get(i) {
                Some(b) => {
                    let _ = writeln!(
                        w,
                        "motif_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
                    );
                }
                None => {
                    let _ = writeln!(
                        w,
                        "motif_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
                    );
                }
            }
        }
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(w, "motif_request_duration_seconds_sum {sum}");
        let _ = writeln!(w, "motif_request_duration_seconds_count {cumulative}");
        let _ = writeln!(
            w,
            "# HELP motif_requests_in_flight Function requests being handled now."
        );
        let _ = writeln!(w, "# TYPE motif_requests_in_flight gauge");
        let _ = writeln!(
            w,
            "motif_requests_in_flight {}",
            self.in_flight.load(Relaxed)
        );
        let _ = writeln!(
            w,
            "# HELP motif_requests_queued Requests waiting for a concurrency slot."
        );
        let _ = writeln!(w, "# TYPE motif_requests_queued gauge");
        let _ = writeln!(w, "motif_requests_queued {}", self.queued.load(Relaxed));
        let _ = writeln!(
            w,
            "# HELP motif_cold_start_seconds Time from process start to ready."
        );
        let _ = writeln!(w, "# TYPE motif_cold_start_seconds gauge");
        let cold = self.cold_start_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(w, "motif_cold_start_seconds {cold}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_buckets_and_gauges() {
        let m = Metrics::default();
        m.record(200, Duration::from_micros(300));
        m.record(200, Duration::from_millis(20));
        m.record(504, Duration::from_secs(61));
        let _guard = m.start();
        m.set_cold_start(Duration::from_millis(7));
        let text = m.render();
        assert!(
            text.contains("motif_requests_total{code=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("motif_requests_total{code=\"504\"} 1"));
        assert!(text.contains("motif_request_duration_seconds_bucket{le=\"0.0005\"} 1"));
        assert!(text.contains("motif_request_duration_seconds_bucket{le=\"0.025\"} 2"));
        assert!(text.contains("motif_request_duration_seconds_bucket{le=\"60\"} 2"));
        assert!(text.contains("motif_request_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("motif_request_duration_seconds_count 3"));
        assert!(text.contains("motif_requests_in_flight 1"));
        assert!(text.contains("motif_cold_start_seconds 0.007"));
    }
}
