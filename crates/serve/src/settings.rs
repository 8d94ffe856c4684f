//! How `motif serve` runs: where it keeps its state, and the serving layer's timings.

use std::path::PathBuf;
use std::time::Duration;

use motif_events::log::Fsync;

use crate::autoscale;

/// The settings of one `motif serve`. The defaults are Knative's where Knative has one.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The state directory: the database, the artifacts, the admin token, the endpoint
    /// file. Created `0700` if missing.
    pub state_dir: PathBuf,
    /// Where compiled wasm is cached [default: the wasm host's default cache].
    pub cache_dir: PathBuf,
    /// The autoscaler's stable window [default: 60 s]: how long a revision must be idle
    /// (plus the grace) before it scales to zero.
    pub stable_window: Duration,
    /// How long the last instance outlives an idle stable window [default: 30 s].
    pub scale_to_zero_grace: Duration,
    /// How often each revision is sampled and scaled [default: 250 ms]. The autoscaler
    /// averages per second; a quarter second reacts to a burst within one.
    pub tick: Duration,
    /// How long a request waits for an instance with room (a cold start, or one to
    /// free up) before a 503 [default: 60 s].
    pub cold_start_wait: Duration,
    /// How many requests a revision buffers while waiting for room [default: 1000]; more
    /// get a 503 with `Retry-After`.
    pub queue_limit: usize,
    /// How long an instance has to finish its requests when it is scaled down, retired
    /// or the server stops [default: 30 s], then SIGKILL.
    pub drain: Duration,
    /// How long a process instance has to answer on `/_/ready` [default: 30 s].
    pub ready_timeout: Duration,
    /// How many log lines are kept per function [default: 1000].
    pub log_lines: usize,
    /// The host names functions are reached under: `NAME.DOMAIN` [default: `localhost`].
    pub domain: String,
    /// Concurrent wasm instances across every wasm function [default: 1000]: the size
    /// of the one pooling allocator, whose slots are virtual memory reservations.
    pub wasm_instances: u32,
    /// How many stopped wasm functions stay loaded in memory [default: 64], so that a
    /// revision that scaled to zero starts again without reading the compile cache.
    pub wasm_keep_loaded: usize,
    /// When the broker's accepted events reach the disk [default: `always`: each is
    /// fsynced, in groups, before its 202].
    pub event_fsync: Fsync,
}

impl Settings {
    /// The defaults, with state in `state_dir`.
    pub fn new(state_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            state_dir: state_dir.into(),
            cache_dir: motif_wasm::cache::default_dir(),
            stable_window: autoscale::DEFAULT_STABLE_WINDOW,
            scale_to_zero_grace: autoscale::DEFAULT_SCALE_TO_ZERO_GRACE,
            tick: Duration::from_millis(250),
            cold_start_wait: Duration::from_secs(60),
            queue_limit: 1000,
            drain: Duration::from_secs(30),
            ready_timeout: Duration::from_secs(30),
            log_lines: 1000,
            domain: "localhost".into(),
            wasm_instances: 1000,
            wasm_keep_loaded: 64,
            event_fsync: Fsync::Always,
        }
    }
}
