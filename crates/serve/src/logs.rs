//! A function's log: the last lines its instances wrote and what the serving layer did
//! with them (starts, failures, scaling), for `motif logs NAME [-f]`.
//!
//! Lines are kept in memory, a bounded ring per function, and streamed to followers as
//! they arrive. They do not survive a restart of `motif serve`, as a pod's log does not
//! survive its pod.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How many lines a follower may fall behind before it misses some: a slow terminal
/// must not hold memory without bound.
const FOLLOW_BUFFER: usize = 1024;

/// One line of a function's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When it was written, in milliseconds since the Unix epoch.
    pub millis: u64,
    /// Who wrote it: `REVISION/instance-N` for an instance's output, `REVISION` for the
    /// serving layer's own lines about a revision.
    pub source: String,
    /// The text, without its line break.
    pub text: String,
}

/// The log of one function: cheap to clone, shared by its revisions and instances.
#[derive(Clone, Debug)]
pub struct FunctionLog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    lines: Mutex<VecDeque<LogLine>>,
    capacity: usize,
    follow: broadcast::Sender<LogLine>,
}

impl FunctionLog {
    /// A log that keeps the last `capacity` lines.
    pub fn new(capacity: usize) -> FunctionLog {
        FunctionLog {
            inner: Arc::new(Inner {
                lines: Mutex::new(VecDeque::with_capacity(capacity.min(256))),
                capacity,
                follow: broadcast::channel(FOLLOW_BUFFER).0,
            }),
        }
    }

    /// Appends a line from `source`.
    pub fn push(&self, source: &str, text: impl Into<String>) {
        let line = LogLine {
            millis: now_millis(),
            source: source.to_owned(),
            text: text.into(),
        };
        // Nobody following is not an error.
        let _ = self.inner.follow.send(line.clone());
        if self.inner.capacity == 0 {
            return;
        }
        let mut lines = self
            .inner
            .lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if lines.len() == self.inner.capacity {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The last `n` lines kept, oldest first.
    pub fn tail(&self, n: usize) -> Vec<LogLine> {
        let lines = self
            .inner
            .lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        lines
            .iter()
            .skip(lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }

    /// The last `n` lines and every line after them, with none lost or repeated in
    /// between (the subscription is taken under the same lock as the tail).
    pub fn follow(&self, n: usize) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
        let lines = self
            .inner
            .lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let receiver = self.inner.follow.subscribe();
        let tail = lines
            .iter()
            .skip(lines.len().saturating_sub(n))
            .cloned()
            .collect();
        (tail, receiver)
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis().try_into().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_last_lines_and_followers_get_new_ones() {
        let log = FunctionLog::new(2);
        log.push("f-00001", "a");
        log.push("f-00001", "b");
        let (tail, mut follow) = log.follow(10);
        log.push("f-00001/instance-1", "c");
        let texts: Vec<_> = tail.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["a", "b"]);
        let next = follow.try_recv().unwrap();
        assert_eq!(
            (next.source.as_str(), next.text.as_str()),
            ("f-00001/instance-1", "c")
        );
        let texts: Vec<_> = log.tail(5).into_iter().map(|l| l.text).collect();
        assert_eq!(texts, ["b", "c"]);
    }
}
