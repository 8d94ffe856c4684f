//! Counters and a latency histogram per trigger, cheap enough to update on every
//! event (atomics only), read by `motif events` and the benchmarks.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;

/// Sub-buckets per power of two: quantiles are exact to within 1/16 (about 6 %).
const SUB: usize = 16;
/// Powers of two of microseconds covered: up to 2^40 µs (12 days).
const POWERS: usize = 40;

/// A log-linear histogram of durations in microseconds.
pub(crate) struct Histogram {
    buckets: Box<[AtomicU64]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: (0..POWERS * SUB).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Histogram {
    pub(crate) fn record(&self, d: Duration) {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        self.buckets[bucket(micros)].fetch_add(1, Relaxed);
    }

    /// The `q` quantile (0..=1) in milliseconds, `None` before any record.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(upper(i) as f64 / 1000.0);
            }
        }
        None
    }
}

fn bucket(micros: u64) -> usize {
    let power = 63 - micros.leading_zeros() as usize;
    if power < 4 {
        return micros as usize;
    }
    let sub = ((micros >> (power - 4)) & 0xf) as usize;
    ((power - 3) * SUB + sub).min(POWERS * SUB - 1)
}

/// The largest value of bucket `i`, in microseconds.
fn upper(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let power = i / SUB + 3;
    let sub = (i % SUB) as u64;
    ((16 + sub + 1) << (power - 4)) - 1
}

/// What happened to a trigger's events.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) matched: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) replies: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// From arrival at the broker to the subscriber's acknowledgement.
    pub(crate) latency: Histogram,
}

/// A trigger as `motif events triggers` shows it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TriggerStatus {
    /// The trigger's name.
    pub name: String,
    /// The broker it reads.
    pub broker: String,
    /// Where it delivers.
    pub subscriber: String,
    /// The next log offset it has not finished with.
    pub cursor: u64,
    /// Events in the log past its cursor (not all of them match).
    pub lag: u64,
    /// Events that passed its filters.
    pub matched: u64,
    /// Events its subscriber accepted.
    pub delivered: u64,
    /// Reply events put back into the broker.
    pub replies: u64,
    /// Attempts after a first one failed.
    pub retries: u64,
    /// Events sent to the dead-letter sink.
    pub dead_lettered: u64,
    /// Events given up on with nowhere to go (no sink, or the sink failed too); each
    /// is logged with its `source` and `id`.
    pub dropped: u64,
    /// Arrival to acknowledgement, median, in milliseconds.
    pub latency_p50_ms: Option<f64>,
    /// Arrival to acknowledgement, 99th percentile, in milliseconds.
    pub latency_p99_ms: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values() {
        for micros in [1u64, 5, 15, 16, 17, 100, 1000, 12_345, 1 << 30] {
            let i = bucket(micros);
            assert!(upper(i) >= micros, "{micros} in {i} (upper {})", upper(i));
            assert!(i == 0 || upper(i - 1) < micros, "{micros}");
        }
    }

    #[test]
    fn quantiles_are_within_the_resolution() {
        let h = Histogram::default();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile(0.5).unwrap();
        let p99 = h.quantile(0.99).unwrap();
        assert!((50.0..=50.0 * 1.07).contains(&p50), "{p50}");
        assert!((99.0..=99.0 * 1.07).contains(&p99), "{p99}");
        assert_eq!(Histogram::default().quantile(0.5), None);
    }
}
