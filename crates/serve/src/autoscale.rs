//! The per-revision autoscaler: how many instances a revision should run, from the
//! concurrency it has been seeing. Knative's KPA ("Knative Pod Autoscaler") on one
//! machine, as pure logic: no tasks, no timers and no clock of its own. The caller
//! samples in-flight requests with [`Autoscaler::record`] and asks
//! [`Autoscaler::desired`] for a decision, passing the time to both; tests simulate
//! an hour in microseconds.
//!
//! It is not the part that starts or stops instances, nor the one that buffers requests
//! during a cold start: the serving loop acts on the [`Decision`].
//!
//! ```
//! use std::time::{Duration, Instant};
//! use motif_serve::autoscale::{Autoscaler, Config};
//!
//! let mut scaler = Autoscaler::new(Config::default()); // target 100 in flight
//! let start = Instant::now();
//! for second in 0..60 {
//!     scaler.record(start + Duration::from_secs(second), 250);
//! }
//! let decision = scaler.desired(start + Duration::from_secs(59), 3);
//! assert_eq!(decision.desired, 3);
//! assert!(!decision.panicking);
//! ```
//!
//! # The algorithm (Knative's KPA)
//!
//! 1. **Windows.** Samples go into one bucket per second, averaged within the second.
//!    The *stable* average is over the last `stable_window` (60 s); the *panic* average
//!    over its last `panic_window_percentage` (10 %: 6 s). A second without a sample
//!    counts as zero in flight, as Knative counts a gap in its metrics; the second in
//!    progress counts only once it has a sample, so asking just before sampling does
//!    not dilute the average. Until a window's worth of samples exists, the average is
//!    over the samples there are (Knative's partial window), so a new revision is not
//!    starved by a minute of zeros it never saw. After a whole window with nothing in
//!    flight, the average restarts at the next request, as Knative's does when a window
//!    passes without data (a revision at zero sends none): a crowd arriving at zero is
//!    counted in full.
//! 2. **Wanted instances.** `ceil(average / target)` for each window.
//! 3. **Rate limits.** At most `ceil(max_scale_up_rate × ready)` instances (1000×) and at
//!    least `floor(ready / max_scale_down_rate)` (half), with `ready` counted as at least 1
//!    so that a revision at zero may grow at once.
//! 4. **Panic mode.** When the panic window wants at least
//!    `panic_threshold_percentage / 100` (200 %: twice) the ready instances, the
//!    autoscaler panics: it follows the larger of the two windows but never scales
//!    down, holding the highest count it wanted. It stays in panic until the load has
//!    been below the threshold for a whole stable window, by which time the burst shows
//!    in the stable average.
//! 5. **Scale to zero.** Only with `min_scale` 0, once no request has been in flight for
//!    the stable window plus `scale_to_zero_grace` (60 s + 30 s): Knative's autoscaler
//!    wants zero once the stable window is empty, and its scaler then keeps the last
//!    instance for the grace period while the activator takes over the route. Until
//!    then one instance is kept.
//! 6. **Bounds.** The result is clamped to `[min_scale, max_scale]`; `max_scale` 0 is
//!    unbounded.
//!
//! Activation falls out of 1-3: a request in flight while at zero gives a non-zero
//! average, so `desired` is at least 1 on the next call.
//!
//! # Simplified or left out
//!
//! - Knative's queue-proxy reports the *time-weighted* concurrency of each second; here a
//!   second is the mean of the instantaneous samples taken in it. Sample at least once
//!   a second (the serving loop's tick), and more often for a finer mean.
//! - Only the `concurrency` metric with the `linear` average: no `rps`, no
//!   `weighted-exponential` aggregation, no `initial-scale`, `activation-scale`,
//!   `scale-down-delay`, `target-burst-capacity` or pod retention period.
//! - [`Config::target`] is the effective target: [`Config::from_spec`] applies Knative's
//!   70 % utilization to the spec's target, as Knative does, so the same spec scales
//!   alike on both; a [`Config`] built by hand aims for exactly its `target`.
//! - Panic mode is entered only with at least one ready instance: at zero, activation
//!   already scales up at once.
//!
//! # Guarantees
//!
//! - Deterministic: the same calls with the same instants give the same decisions.
//! - Memory is fixed at creation: one 24-byte bucket per second of stable window (1.4 KiB
//!   for 60 s; 84 KiB for the longest window, an hour), however long it runs.
//! - Instants before the first call count as the first call; a sample older than the
//!   stable window is dropped.
//! - The idle clock starts at the first call: a revision that never sees a request keeps
//!   its instance for the stable window plus the grace, as Knative's initial scale of 1
//!   does.

use std::time::{Duration, Instant};

use motif_api::FunctionSpec;

/// In-flight requests per instance when neither a target nor a hard limit is set:
/// Knative's `container-concurrency-target-default`.
pub const DEFAULT_TARGET: f64 = 100.0;

/// The share of the target the autoscaler aims for, leaving headroom for bursts while new
/// instances start: Knative's `container-concurrency-target-percentage` (70 %), applied
/// to every target as Knative applies it.
pub const TARGET_UTILIZATION: f64 = 0.7;

/// The smallest target: Knative's `TargetMin`. A target of zero would divide by zero.
pub const MIN_TARGET: f64 = 0.01;

/// Knative's `stable-window`: how far back the stable average looks.
pub const DEFAULT_STABLE_WINDOW: Duration = Duration::from_secs(60);

/// The longest stable window: Knative's upper bound for `autoscaling.knative.dev/window`.
const MAX_WINDOW_SECONDS: u64 = 3600;

/// Knative's `scale-to-zero-grace-period`: how long the last instance outlives the
/// stable window.
pub const DEFAULT_SCALE_TO_ZERO_GRACE: Duration = Duration::from_secs(30);

/// Settings of one revision's autoscaler; the defaults are Knative's.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// In-flight requests per instance the autoscaler aims for [default: 100].
    /// [`Config::from_spec`] derives it as Knative does: the explicit `scale.target`
    /// (capped at a hard concurrency limit `C`), else `C`, else 100 (Knative's
    /// `container-concurrency-target-default`), times [`TARGET_UTILIZATION`] (70 %), so
    /// that a function scales here where it would on Knative. Below 0.01 counts as 0.01.
    pub target: f64,
    /// Instances kept however idle; 0 allows scaling to zero.
    pub min_scale: u32,
    /// The most instances; 0 means no limit.
    pub max_scale: u32,
    /// How far back the stable average looks [default: 60 s]. Whole seconds (rounded
    /// up) from 1 s to 1 h: Knative accepts 6 s to 1 h, and the hour bounds the memory
    /// of the buckets.
    pub stable_window: Duration,
    /// The panic window as a percentage of the stable window [default: 10, so 6 s].
    pub panic_window_percentage: f64,
    /// Panic when the panic window wants this percentage of the ready instances
    /// [default: 200].
    pub panic_threshold_percentage: f64,
    /// How long the last instance outlives an idle stable window [default: 30 s].
    pub scale_to_zero_grace: Duration,
    /// One decision grows to at most this many times the ready instances [default:
    /// 1000]. Below 1 counts as 1.
    pub max_scale_up_rate: f64,
    /// One decision shrinks to no fewer than the ready instances divided by this
    /// [default: 2]. Below 1 counts as 1 (never shrink).
    pub max_scale_down_rate: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            target: DEFAULT_TARGET,
            min_scale: 0,
            max_scale: 0,
            stable_window: DEFAULT_STABLE_WINDOW,
            panic_window_percentage: 10.0,
            panic_threshold_percentage: 200.0,
            scale_to_zero_grace: DEFAULT_SCALE_TO_ZERO_GRACE,
            max_scale_up_rate: 1000.0,
            max_scale_down_rate: 2.0,
        }
    }
}

impl Config {
    /// The settings of a function: its `scale` and its hard `concurrency` limit, with
    /// Knative's defaults for the rest.
    pub fn from_spec(spec: &FunctionSpec) -> Config {
        let limit = spec.concurrency.unwrap_or(0);
        let target = match (spec.scale.target, limit) {
            (Some(target), 0) => f64::from(target),
            // The hard limit wins: a target above it could never be reached.
            (Some(target), limit) => f64::from(target.min(limit)),
            (None, 0) => DEFAULT_TARGET,
            (None, limit) => f64::from(limit),
        } * TARGET_UTILIZATION;
        Config {
            target,
            min_scale: spec.scale.min.unwrap_or(0),
            max_scale: spec.scale.max.unwrap_or(0),
            ..Config::default()
        }
    }
}

/// What the autoscaler wants, and why.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// Instances the revision should run.
    pub desired: u32,
    /// Whether a burst put the autoscaler in panic mode (no scaling down).
    pub panicking: bool,
    /// Mean in-flight requests over the stable window.
    pub stable_concurrency: f64,
    /// Mean in-flight requests over the panic window.
    pub panic_concurrency: f64,
}

/// One revision's autoscaler: feed it samples, ask it for decisions.
#[derive(Clone, Debug)]
pub struct Autoscaler {
    config: Config,
    window: Window,
    /// `config.stable_window` in whole seconds within its bounds.
    stable_window: Duration,
    /// Seconds in the panic window, at most the stable window's.
    panic_seconds: u64,
    /// The first instant seen: second 0 of the buckets, and the start of idleness if no
    /// request was ever seen.
    epoch: Option<Instant>,
    /// The last sample with a request in flight.
    last_active: Option<Instant>,
    /// The last decision that was over the panic threshold; `Some` while panicking.
    panic_time: Option<Instant>,
    /// The most instances wanted during this panic: what it holds.
    panic_peak: u32,
}

impl Autoscaler {
    /// An autoscaler with no samples yet.
    pub fn new(config: Config) -> Autoscaler {
        let stable_seconds = whole_seconds(config.stable_window).min(MAX_WINDOW_SECONDS);
        let panic_window =
            stable_seconds as f64 * finite_or(config.panic_window_percentage, 10.0) / 100.0;
        let panic_seconds = (panic_window.ceil() as u64).clamp(1, stable_seconds);
        Autoscaler {
            window: Window::new(stable_seconds),
            stable_window: Duration::from_secs(stable_seconds),
            panic_seconds,
            config,
            epoch: None,
            last_active: None,
            panic_time: None,
            panic_peak: 0,
        }
    }

    /// The settings it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Records that `in_flight` requests were being handled by the revision at `now`
    /// (across all its instances, including requests buffered for a cold start).
    pub fn record(&mut self, now: Instant, in_flight: u32) {
        let second = self.second(now);
        self.window.record(second, in_flight);
        if in_flight > 0 && self.last_active.is_none_or(|last| last < now) {
            self.last_active = Some(now);
        }
    }

    /// How many instances the revision should run at `now`, with `current_ready`
    /// instances ready. Call it once per tick: panic mode is a state it updates.
    pub fn desired(&mut self, now: Instant, current_ready: u32) -> Decision {
        let second = self.second(now);
        let stable_concurrency = self.window.average(second, self.window.len());
        let panic_concurrency = self.window.average(second, self.panic_seconds);
        let target = finite_or(self.config.target, DEFAULT_TARGET).max(MIN_TARGET);
        let stable_wanted = (stable_concurrency / target).ceil();
        let panic_wanted = (panic_concurrency / target).ceil();

        // A revision at zero counts as one so that it may grow (Knative does the same).
        let ready = f64::from(current_ready.max(1));
        let up_rate = finite_or(self.config.max_scale_up_rate, 1.0).max(1.0);
        let down_rate = finite_or(self.config.max_scale_down_rate, 1.0).max(1.0);
        let most = (up_rate * ready).ceil();
        let fewest = (ready / down_rate).floor();
        let limit = |wanted: f64| to_count(wanted.max(fewest).min(most));
        let stable_desired = limit(stable_wanted);
        let panic_desired = limit(panic_wanted);

        let threshold = finite_or(self.config.panic_threshold_percentage, 200.0) / 100.0;
        let over_threshold = current_ready > 0 && panic_wanted >= threshold * ready;
        if over_threshold {
            // Entering, or a burst still going on: the stable window restarts from now.
            self.panic_time = Some(now);
        } else if self
            .panic_time
            .and_then(|since| since.checked_add(self.stable_window))
            .is_some_and(|calm_from| calm_from < now)
        {
            self.panic_time = None;
            self.panic_peak = 0;
        }

        let panicking = self.panic_time.is_some();
        let mut desired = if panicking {
            // The stable window may want more than the panic one; provision for both,
            // and never shrink while panicking.
            self.panic_peak = self.panic_peak.max(stable_desired.max(panic_desired));
            self.panic_peak
        } else {
            stable_desired
        };

        if desired == 0 && current_ready > 0 && !self.idle_long_enough(now) {
            // Knative keeps the last instance through the grace period.
            desired = 1;
        }
        let desired = desired.max(self.config.min_scale);
        let desired = match self.config.max_scale {
            0 => desired,
            max => desired.min(max),
        };
        Decision {
            desired,
            panicking,
            stable_concurrency,
            panic_concurrency,
        }
    }

    /// Whether no request has been in flight for the stable window plus the grace.
    fn idle_long_enough(&self, now: Instant) -> bool {
        let Some(idle_since) = self.last_active.or(self.epoch) else {
            return true;
        };
        now.saturating_duration_since(idle_since)
            >= self
                .stable_window
                .saturating_add(self.config.scale_to_zero_grace)
    }

    /// Whole seconds since the first instant seen, which starts the clock.
    fn second(&mut self, now: Instant) -> u64 {
        let epoch = *self.epoch.get_or_insert(now);
        now.saturating_duration_since(epoch).as_secs()
    }
}

/// Per-second buckets of in-flight samples in a ring as long as the stable window.
#[derive(Clone, Debug)]
struct Window {
    buckets: Vec<Bucket>,
    /// The second averages start from until a window has passed: the first sample, or
    /// the first request after a window with none.
    first: Option<u64>,
    /// The latest second with a request in flight.
    last_busy: Option<u64>,
    /// The latest second with a sample.
    latest: u64,
}

/// The samples of one second.
#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    second: u64,
    /// Sum of the samples: a `u64` cannot overflow from `u32` samples counted in a `u32`.
    sum: u64,
    samples: u32,
}

impl Window {
    fn new(seconds: u64) -> Window {
        let len = usize::try_from(seconds).unwrap_or(usize::MAX);
        Window {
            buckets: vec![Bucket::default(); len],
            first: None,
            last_busy: None,
            latest: 0,
        }
    }

    fn len(&self) -> u64 {
        self.buckets.len() as u64
    }

    fn slot(&self, second: u64) -> usize {
        (second % self.len()) as usize
    }

    fn record(&mut self, second: u64, in_flight: u32) {
        if second + self.len() <= self.latest {
            return; // older than the window
        }
        let slot = self.slot(second);
        let bucket = &mut self.buckets[slot];
        if bucket.samples > 0 && bucket.second > second {
            return; // its slot already holds a newer second
        }
        if bucket.second != second || bucket.samples == 0 {
            *bucket = Bucket {
                second,
                sum: 0,
                samples: 0,
            };
        }
        bucket.sum += u64::from(in_flight);
        bucket.samples = bucket.samples.saturating_add(1);
        self.first = Some(self.first.map_or(second, |first| first.min(second)));
        if in_flight > 0 {
            if self
                .last_busy
                .is_none_or(|busy| busy + self.len() <= second)
            {
                self.first = Some(second);
            }
            self.last_busy = Some(self.last_busy.map_or(second, |busy| busy.max(second)));
        }
        self.latest = self.latest.max(second);
    }

    /// The mean of the sample seconds in the last `seconds` up to `now`: missing seconds
    /// count as zero, except `now` itself while it has no sample yet.
    fn average(&self, now: u64, seconds: u64) -> f64 {
        let Some(first) = self.first else {
            return 0.0;
        };
        let end = if self.mean(now).is_some() {
            now
        } else if now == 0 {
            return 0.0;
        } else {
            now - 1
        };
        let start = first.max((end + 1).saturating_sub(seconds));
        if end < start {
            return 0.0;
        }
        let sum: f64 = (start..=end).filter_map(|second| self.mean(second)).sum();
        sum / (end - start + 1) as f64
    }

    /// The mean of one second's samples, if it has any and they are still held.
    fn mean(&self, second: u64) -> Option<f64> {
        let bucket = &self.buckets[self.slot(second)];
        (bucket.samples > 0 && bucket.second == second)
            .then(|| bucket.sum as f64 / f64::from(bucket.samples))
    }
}

/// A window's length in whole seconds, at least one.
fn whole_seconds(window: Duration) -> u64 {
    (window.as_secs_f64().ceil() as u64).max(1)
}

fn finite_or(value: f64, fallback: f64) -> f64 {
    if value.is_finite() { value } else { fallback }
}

/// A non-negative, rate-limited count of instances as a `u32` (saturating).
fn to_count(value: f64) -> u32 {
    // `as` saturates, and NaN becomes 0.
    value as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, second: u64) -> Instant {
        start + Duration::from_secs(second)
    }

    #[test]
    fn memory_stays_at_one_bucket_a_second_of_window_after_an_hour() {
        let mut scaler = Autoscaler::new(Config::default());
        let start = Instant::now();
        let capacity = scaler.window.buckets.capacity();
        for second in 0..3600 {
            scaler.record(at(start, second), (second % 300) as u32);
            scaler.desired(at(start, second), 3);
        }
        assert_eq!(scaler.window.buckets.len(), 60);
        assert_eq!(scaler.window.buckets.capacity(), capacity);
    }

    #[test]
    fn samples_within_a_second_are_averaged() {
        let mut window = Window::new(60);
        window.record(0, 10);
        window.record(0, 30);
        assert_eq!(window.average(0, 60), 20.0);
    }

    #[test]
    fn a_missing_second_counts_as_zero_but_the_one_in_progress_waits() {
        let mut window = Window::new(60);
        window.record(0, 100);
        window.record(2, 100);
        // Seconds 0..=2, second 1 missing.
        assert!((window.average(2, 60) - 200.0 / 3.0).abs() < 1e-9);
        // Second 3 has no sample yet: still 0..=2.
        assert!((window.average(3, 60) - 200.0 / 3.0).abs() < 1e-9);
        // Second 4: second 3 was missed.
        assert_eq!(window.average(4, 60), 50.0);
    }

    #[test]
    fn the_average_is_over_the_window_once_it_has_passed() {
        let mut window = Window::new(60);
        for second in 0..120 {
            window.record(second, if second < 60 { 1000 } else { 10 });
        }
        assert_eq!(window.average(119, 60), 10.0);
        assert_eq!(window.average(119, 6), 10.0);
    }

    #[test]
    fn the_first_request_after_an_idle_window_restarts_the_average() {
        let mut window = Window::new(60);
        window.record(0, 10);
        for second in 1..=100 {
            window.record(second, 0);
        }
        window.record(101, 300);
        assert_eq!(window.average(101, 60), 300.0);
        // Within a window of a request, zeros count.
        window.record(102, 0);
        assert_eq!(window.average(102, 60), 150.0);
    }

    #[test]
    fn samples_older_than_the_window_are_dropped() {
        let mut window = Window::new(60);
        window.record(100, 5);
        window.record(30, 1000);
        assert_eq!(window.average(100, 60), 5.0);
    }

    #[test]
    fn the_panic_window_is_a_percentage_of_the_stable_window() {
        assert_eq!(Autoscaler::new(Config::default()).panic_seconds, 6);
        let config = Config {
            stable_window: Duration::from_secs(10),
            panic_window_percentage: 1.0,
            ..Config::default()
        };
        assert_eq!(Autoscaler::new(config).panic_seconds, 1);
    }

    #[test]
    fn nonsense_settings_do_not_divide_by_zero() {
        let config = Config {
            target: 0.0,
            max_scale_down_rate: 0.0,
            max_scale_up_rate: f64::NAN,
            stable_window: Duration::ZERO,
            scale_to_zero_grace: Duration::MAX,
            ..Config::default()
        };
        let mut scaler = Autoscaler::new(config);
        let start = Instant::now();
        scaler.record(start, 1);
        let decision = scaler.desired(start, 0);
        assert_eq!(decision.desired, 1);
        assert_eq!(scaler.desired(at(start, 100), 1).desired, 1);
    }

    #[test]
    fn a_window_longer_than_an_hour_counts_as_an_hour() {
        let scaler = Autoscaler::new(Config {
            stable_window: Duration::MAX,
            ..Config::default()
        });
        assert_eq!(scaler.window.buckets.len(), 3600);
        assert_eq!(scaler.stable_window, Duration::from_secs(3600));
        assert_eq!(scaler.panic_seconds, 360);
    }
}
