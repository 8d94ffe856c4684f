//! What the writer thread and the readers share: the segments, the cache of recent
//! records and the head.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::watch;

use super::LogError;
use super::segment::{self, Segment, Span};

/// The state behind a [`Log`](super::Log) that outlives its handles until the writer
/// thread ends.
pub(crate) struct Shared {
    /// The log's directory.
    pub dir: PathBuf,
    /// The segments and the cache.
    pub state: Mutex<State>,
    /// The head, published after the state's.
    pub head: watch::Sender<u64>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("the log's state lock is poisoned")
    }
}

/// How to read a range of records.
#[derive(Default)]
pub(crate) struct ReadPlan {
    /// The parts of segments to read from disk, in order.
    pub spans: Vec<Span>,
    /// The records after them, from the cache.
    pub cached: Vec<(u64, Bytes)>,
}

/// The segments and the recent records.
pub(crate) struct State {
    /// The full segments, oldest first.
    pub sealed: VecDeque<Segment>,
    /// The segment appended to.
    pub active: Segment,
    /// The most recent records, ending at the head.
    pub cache: VecDeque<Bytes>,
    /// The offset of `cache[0]` (the head when the cache is empty).
    pub cache_base: u64,
    /// The most records the cache keeps.
    pub cache_capacity: usize,
}

impl State {
    /// The oldest retained offset.
    pub(crate) fn first(&self) -> u64 {
        self.sealed.front().map_or(self.active.base, |s| s.base)
    }

    /// The next offset to assign.
    pub(crate) fn head(&self) -> u64 {
        self.active.next
    }

    /// Makes `records`, written to the active segment from byte `position`, readable.
    pub(crate) fn commit<'a>(
        &mut self,
        records: impl Iterator<Item = &'a Bytes>,
        mut position: u64,
    ) {
        for record in records {
            self.active.index.note(self.active.next, position);
            position += segment::framed_len(record.len());
            self.active.next += 1;
            if self.cache_capacity > 0 {
                if self.cache.len() == self.cache_capacity {
                    self.cache.pop_front();
                    self.cache_base += 1;
                }
                self.cache.push_back(record.clone());
            } else {
                self.cache_base = self.active.next;
            }
        }
        self.active.size = position;
    }

    /// Makes `next` the active segment.
    pub(crate) fn roll(&mut self, next: Segment) {
        let full = std::mem::replace(&mut self.active, next);
        self.sealed.push_back(full);
    }

    /// Plans a read of up to `max` records from `from`: the spans to read from disk and
    /// the records the cache holds after them.
    pub(crate) fn plan_read(&self, from: u64, max: usize) -> Result<ReadPlan, LogError> {
        let first = self.first();
        if from < first {
            return Err(LogError::Trimmed { first });
        }
        let end = self.head().min(from.saturating_add(max as u64));
        if from >= end {
            return Ok(ReadPlan::default());
        }
        let disk_end = end.min(self.cache_base);
        let mut spans = Vec::new();
        if from < disk_end {
            for segment in self.sealed.iter().chain(std::iter::once(&self.active)) {
                if segment.next <= from || segment.size == 0 {
                    continue;
                }
                if segment.base >= disk_end {
                    break;
                }
                spans.push(segment.span(from, disk_end));
            }
        }
        // `from < end <= head`, so the skipped records are fewer than the cache holds.
        let skip = from.saturating_sub(self.cache_base) as usize;
        let cached = (from.max(self.cache_base)..end)
            .zip(self.cache.range(skip..))
            .map(|(offset, record)| (offset, record.clone()))
            .collect();
        Ok(ReadPlan { spans, cached })
    }

    /// Removes the full segments all of whose records are before `offset`.
    pub(crate) fn trim(&mut self, offset: u64) -> Vec<Segment> {
        let count = self.sealed.iter().take_while(|s| s.next <= offset).count();
        self.sealed.drain(..count).collect()
    }
}
