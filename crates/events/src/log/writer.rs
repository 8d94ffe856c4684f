//! The writer thread: group commit of every pending append.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::segment::{self, Index, Segment};
use super::state::Shared;
use super::{Fsync, LogError};

/// The most bytes one batch gathers before it is written: bounds the writer's buffer
/// and the wait of the batch's first append, while 8 MiB (16k records of 512 bytes)
/// amortises an fsync well past the throughput a disk gives.
const MAX_BATCH_BYTES: u64 = 8 << 20;

/// Keeps the write buffer's memory down after a batch of large records.
const KEEP_BUFFER_BYTES: usize = 2 * MAX_BATCH_BYTES as usize;

/// One append, waiting for the writer.
pub(crate) struct Request {
    /// The records, each checked for size.
    pub records: Vec<Bytes>,
    /// Their framed size.
    pub bytes: u64,
    /// Where to answer: the offset of the first record.
    pub reply: oneshot::Sender<Result<u64, LogError>>,
}

/// The writer thread's state: it alone writes the active segment.
pub(crate) struct Writer {
    pub shared: Arc<Shared>,
    pub fsync: Fsync,
    pub segment_bytes: u64,
    /// The active segment's file and name.
    pub file: Arc<File>,
    pub path: PathBuf,
    /// The active segment's written bytes.
    pub size: u64,
    /// The next offset to assign.
    pub next: u64,
    /// Whether bytes were written since the last fsync.
    pub unsynced: bool,
    pub last_sync: Instant,
    /// Why the writer refuses appends, once it must.
    pub failed: Option<String>,
    pub buf: Vec<u8>,
}

/// Syncs a directory, so that the files created in it survive a power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LogError::io("fsync", dir, e))
}

impl Writer {
    /// Writes every request until the log is closed, then syncs what is left.
    pub(crate) fn run(mut self, requests: Receiver<Request>) -> Result<(), LogError> {
        while let Some(first) = self.next_request(&requests) {
            let mut bytes = first.bytes;
            let mut batch = vec![first];
            while bytes < MAX_BATCH_BYTES {
                let Ok(request) = requests.try_recv() else {
                    break;
                };
                bytes += request.bytes;
                batch.push(request);
            }
            self.write_batch(batch);
        }
        if let Some(reason) = self.failed {
            return Err(LogError::Stopped { reason });
        }
        if self.unsynced { self.sync() } else { Ok(()) }
    }

    /// Waits for an append; under [`Fsync::Interval`] syncs when the interval ends while
    /// waiting. `None` once the log is closed.
    fn next_request(&mut self, requests: &Receiver<Request>) -> Option<Request> {
        loop {
            let due = match self.fsync {
                Fsync::Interval(interval) if self.unsynced && self.failed.is_none() => {
                    self.last_sync + interval
                }
                _ => return requests.recv().ok(),
            };
            match requests.recv_timeout(due.saturating_duration_since(Instant::now())) {
                Ok(request) => return Some(request),
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = self.sync() {
                        tracing::error!(error = %e.chain(), "the log's periodic fsync failed");
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Writes a batch: the requests that fit in the active segment with one write and
    /// one fsync, then (after a roll) the rest likewise.
    fn write_batch(&mut self, batch: Vec<Request>) {
        if let Some(reason) = &self.failed {
            let stopped = LogError::Stopped {
                reason: reason.clone(),
            };
            fail(batch, stopped);
            return;
        }
        let mut rest = batch.into_iter().peekable();
        while let Some(request) = rest.peek() {
            let full = self.size > 0 && self.size + request.bytes > self.segment_bytes;
            if full && let Err(e) = self.roll() {
                fail(rest, e);
                return;
            }
            let limit = self.segment_bytes;
            let mut size = self.size;
            let mut chunk = Vec::new();
            // The first request fits: the segment is empty, or it was not rolled.
            while let Some(request) = rest.next_if(|r| chunk.is_empty() || size + r.bytes <= limit)
            {
                size += request.bytes;
                chunk.push(request);
            }
            if let Err(e) = self.write_chunk(chunk) {
                fail(rest, e);
                return;
            }
        }
    }

    /// Writes, syncs per policy, publishes and answers the requests of one segment.
    /// On error the requests are answered with it, and it is returned for the rest.
    fn write_chunk(&mut self, chunk: Vec<Request>) -> Result<(), LogError> {
        if self.buf.capacity() > KEEP_BUFFER_BYTES {
            self.buf = Vec::new();
        }
        self.buf.clear();
        for record in chunk.iter().flat_map(|r| &r.records) {
            segment::frame(&mut self.buf, record);
        }
        let position = self.size;
        if let Err(e) = self
            .write_at(position)
            .and_then(|()| self.sync_per_policy())
        {
            let returned = e.duplicate();
            fail(chunk, e);
            return Err(returned);
        }
        let first = self.next;
        let count: u64 = chunk.iter().map(|r| r.records.len() as u64).sum();
        self.shared
            .lock()
            .commit(chunk.iter().flat_map(|r| &r.records), position);
        self.size += self.buf.len() as u64;
        self.next += count;
        // After the state: a reader woken by the head finds the records.
        self.shared.head.send_replace(self.next);
        let mut offset = first;
        for request in chunk {
            let count = request.records.len() as u64;
            // An append whose future was dropped has no one to answer; its records stay.
            let _ = request.reply.send(Ok(offset));
            offset += count;
        }
        Ok(())
    }

    /// Writes the buffer at `position`, undoing a partial write on error so that no
    /// record that was refused reappears when the log is next opened.
    fn write_at(&mut self, position: u64) -> Result<(), LogError> {
        let Err(e) = self.file.write_all_at(&self.buf, position) else {
            self.unsynced = true;
            return Ok(());
        };
        let error = LogError::io("write", &self.path, e);
        if let Err(undo) = self.file.set_len(position) {
            self.failed = Some(format!(
                "{}; cutting the partial write off failed too: {undo}",
                error.chain()
            ));
        }
        Err(error)
    }

    fn sync_per_policy(&mut self) -> Result<(), LogError> {
        match self.fsync {
            Fsync::Always => self.sync(),
            Fsync::Interval(interval) if self.last_sync.elapsed() >= interval => self.sync(),
            Fsync::Interval(_) | Fsync::Never => Ok(()),
        }
    }

    /// Syncs the active segment. A failed fsync stops the writer: the kernel may have
    /// dropped the pages it could not write, so no later fsync could vouch for them.
    fn sync(&mut self) -> Result<(), LogError> {
        if let Err(e) = self.file.sync_data() {
            let error = LogError::io("fsync", &self.path, e);
            // Best effort: the unsynced records were not acknowledged (under `Always`).
            let _ = self.file.set_len(self.shared.lock().active.size);
            self.failed = Some(error.chain());
            return Err(error);
        }
        self.unsynced = false;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Starts a new active segment at the next offset. Unless the policy is `Never`, the
    /// full segment is synced first and the directory after, so that a power loss
    /// cannot leave a hole before a newer segment.
    fn roll(&mut self) -> Result<(), LogError> {
        let syncs = self.fsync != Fsync::Never;
        if syncs && self.unsynced {
            self.sync()?;
        }
        let path = self.shared.dir.join(segment::file_name(self.next));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| LogError::io("create", &path, e))?;
        if syncs && let Err(e) = sync_dir(&self.shared.dir) {
            // The new file may or may not survive a power loss, and creating it again
            // would fail: only a reopen sorts that out.
            self.failed = Some(e.chain());
            return Err(e);
        }
        let file = Arc::new(file);
        self.shared.lock().roll(Segment {
            base: self.next,
            next: self.next,
            size: 0,
            path: path.clone(),
            file: Arc::clone(&file),
            index: Index::default(),
        });
        self.file = file;
        self.path = path;
        self.size = 0;
        self.unsynced = false;
        Ok(())
    }
}

/// Answers every request with `error`.
fn fail(requests: impl IntoIterator<Item = Request>, error: LogError) {
    for request in requests {
        let _ = request.reply.send(Err(error.duplicate()));
    }
}
