//! How a [`Log`](super::Log) is opened: the fsync policy and the sizes.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// When appended records are flushed to stable storage (see the module's
/// "Guarantees" section for what each policy can lose).
///
/// Parsed from and displayed as `always`, `never` or an interval such as `100ms`, `1s`
/// or `250us`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// Every append is answered only after its records are written and fsynced;
    /// concurrent appends share one fsync (group commit).
    Always,
    /// Appends are answered once written; the writer fsyncs at most once per interval,
    /// and within an interval of the write at the latest while it runs.
    Interval(Duration),
    /// Appends are answered once written; the log fsyncs only when it is closed.
    Never,
}

/// Why a string is not an [`Fsync`] policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid fsync policy `{0}`: expected `always`, `never` or a positive interval such as `100ms`, `1s` or `250us`"
)]
pub struct ParseFsyncError(String);

impl FromStr for Fsync {
    type Err = ParseFsyncError;

    fn from_str(s: &str) -> Result<Fsync, ParseFsyncError> {
        let invalid = || ParseFsyncError(s.to_owned());
        match s {
            "always" => return Ok(Fsync::Always),
            "never" => return Ok(Fsync::Never),
            _ => {}
        }
        let digits = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
        let (number, unit) = s.split_at(digits);
        let number: u64 = number.parse().map_err(|_| invalid())?;
        let interval = match unit {
            "us" => Duration::from_micros(number),
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            _ => return Err(invalid()),
        };
        // A zero interval would mean "sync after every write but answer before it":
        // slower than `always` and weaker, so it is refused rather than guessed at.
        if interval.is_zero() {
            return Err(invalid());
        }
        Ok(Fsync::Interval(interval))
    }
}

impl fmt::Display for Fsync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fsync::Always => f.write_str("always"),
            Fsync::Never => f.write_str("never"),
            // The largest unit that states the interval exactly, so that the text parses
            // back to the same policy.
            Fsync::Interval(d) if d.subsec_nanos() == 0 => write!(f, "{}s", d.as_secs()),
            Fsync::Interval(d) if d.as_nanos() % 1_000_000 == 0 => write!(f, "{}ms", d.as_millis()),
            Fsync::Interval(d) => write!(f, "{}us", d.as_micros()),
        }
    }
}

/// The default size at which the active segment is rolled: large enough that a busy
/// broker rolls rarely, small enough that retention frees space in useful steps.
const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;

/// The default number of recent records kept in memory: at 1 KiB an event, 64 MiB that
/// spares tailing readers within ~65k records of the head any disk read.
const DEFAULT_CACHE_RECORDS: usize = 65_536;

/// How a [`Log`](super::Log) writes, rolls and caches.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// When appended records are flushed to stable storage.
    pub fsync: Fsync,
    /// The size (in bytes, framing included) past which the active segment is rolled
    /// before the next append. One append is never split across segments, so an append
    /// larger than this gets a segment of its own. Default 64 MiB.
    pub segment_bytes: u64,
    /// How many of the most recent records are kept in memory for tailing readers
    /// (0 disables the cache). Default 65 536.
    pub cache_records: usize,
}

impl Default for LogOptions {
    fn default() -> LogOptions {
        LogOptions {
            fsync: Fsync::Always,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            cache_records: DEFAULT_CACHE_RECORDS,
        }
    }
}
