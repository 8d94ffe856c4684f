//! The broker's durable append-only log, and the delivery cursors into it.
//!
//! The ingress [appends](Log::append) each accepted event (encoded by the caller) and
//! answers once the append resolves; each trigger's delivery worker tails the log from
//! its [cursor](Cursors), woken by [`Log::watch`]. Records are opaque bytes numbered by
//! offset, from 0 and without gaps. Not here: what a record means (the broker encodes
//! events) and replication (one directory on one machine).
//!
//! ```
//! use motif_events::log::{Log, LogOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let log = Log::open(dir.path(), LogOptions::default())?;
//! let first = log.append(vec!["one".into(), "two".into()]).await?;
//! assert_eq!((first, log.head()), (0, 2));
//!
//! // A tailing reader: reads what there is, then waits for the head to move on.
//! let mut head = log.watch();
//! let producer = log.clone();
//! tokio::spawn(async move { producer.append(vec!["three".into()]).await });
//! let (mut next, mut seen) = (0, Vec::new());
//! while seen.len() < 3 {
//!     let records = log.read(next, 100)?;
//!     match records.last() {
//!         Some((offset, _)) => next = offset + 1,
//!         None => {
//!             head.wait_for(|head| *head > next).await?;
//!         }
//!     }
//!     seen.extend(records.into_iter().map(|(_, record)| record));
//! }
//! assert_eq!(seen, ["one", "two", "three"]);
//! # Ok(())
//! # }
//! ```
//!
//! # On disk
//!
//! A directory of segment files, each named by the offset of its first record padded
//! to 20 digits (`00000000000000000000.log`), and a `LOCK` file. A record is its
//! payload's length (u32 little-endian), the payload's CRC-32 (u32 little-endian), and
//! the payload. Records are never empty, because zeros are what a torn extension of a
//! file reads as: a zero length ends the valid data. The active (last) segment is
//! rolled before an append that would take it past [`LogOptions::segment_bytes`].
//!
//! # Writing: group commit
//!
//! One writer thread owns the active segment. It takes every pending append (up to
//! 8 MiB of them), writes them with one `pwrite`, fsyncs once (as the [`Fsync`] policy
//! says), makes the records readable, and then answers each append. While it syncs,
//! new appends queue up for the next round, so a busy log pays one fsync for many
//! appends.
//!
//! # Reading
//!
//! The last [`LogOptions::cache_records`] records stay in memory, so a reader keeping
//! up with the head never touches the disk. Older records are read with `pread`
//! through a sparse index per segment (an entry every 32 KiB, built on open and on
//! append), and their checksums checked.
//!
//! # Guarantees
//!
//! - An append resolves `Ok` only once its records are written to the segment file
//!   and, under [`Fsync::Always`], flushed with `fdatasync` (with the directory, when
//!   the append started a segment). An append that fails left nothing a reader sees or
//!   recovery keeps: a partial write is cut off.
//! - An append's records get consecutive offsets; [`Log::head`] and [`Log::watch`]
//!   move only after the records are acknowledged, so a reader never sees a record
//!   that could still vanish under the policy.
//! - **Process crash** (a panic, `SIGKILL`, the OOM killer): every acknowledged record
//!   survives, under every policy, since the kernel holds the written pages.
//! - **Power loss or kernel crash**:
//!   - `Always`: every acknowledged record survives.
//!   - `Interval(d)`: the records acknowledged within about `d` (plus one fsync's
//!     time) before the crash may be lost, from the last segment only: a roll syncs
//!     the full segment first.
//!   - `Never`: whatever the kernel had not yet written back on its own (typically up
//!     to 30 s, `vm.dirty_expire_centisecs`) may be lost, in any segment; a full
//!     segment that lost its tail makes the next open fail with [`LogError::Corrupt`].
//!
//!   What recovery drops is always a tail: the records from the first bad one of the
//!   last segment on. Their offsets are then given to new records, so a cursor saved
//!   past the recovered head must be brought back to it.
//! - An append in flight at a crash is kept whole or cut off; its caller had no answer
//!   and retries, so a record may be stored twice (delivery is at least once).
//!
//! # Assumptions
//!
//! - `fdatasync` reaches stable storage: the disk honours cache flushes (or its cache
//!   survives power loss) and the file system keeps fsynced data through a crash (ext4,
//!   xfs). Where that is not so (some network file systems, a VM disk with an unsafe
//!   cache mode), `Always` is no stronger than `Interval`.
//! - One [`Log`] has a directory open at a time, which an advisory lock on `LOCK`
//!   enforces; nothing else writes the segments.
//! - A Unix system (positional reads and writes).
//!
//! # Caveats
//!
//! - Opening reads and checksums every segment, so it takes time in proportion to the
//!   log's size (at disk speed): retention keeps that short.
//! - [`Log::open`], [`Log::read`] (from disk, when the cache misses),
//!   [`Log::retain_from`] and [`Cursors::flush`] block; async callers use
//!   `spawn_blocking` for the ones that reach the disk.
//! - Dropping an append's future does not withdraw its records.
//! - Dropping the last handle (like [`Log::close`]) waits for the writer to write and
//!   sync what is pending, blocking the thread for about one fsync.
//! - The cache holds the callers' `Bytes`: a record sliced from a larger buffer keeps
//!   that buffer alive while cached.
//! - A failed write (a full disk) fails the appends of its batch and the log goes on;
//!   a failed fsync stops it ([`LogError::Stopped`]) until reopened, since the kernel
//!   may have dropped the pages it could not write (PostgreSQL's "fsyncgate").
//! - An append larger than [`LogOptions::segment_bytes`] gets a segment of its own,
//!   larger than that.

mod cursor;
mod error;
mod options;
mod recover;
mod segment;
mod state;
mod writer;

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::{oneshot, watch};

pub use cursor::Cursors;
pub use error::LogError;
pub use options::{Fsync, LogOptions, ParseFsyncError};

use state::{ReadPlan, Shared, State};
use writer::{Request, Writer};

/// The largest record the log takes: large enough for any event an HTTP ingress
/// accepts, small enough that a corrupt length cannot make recovery allocate much.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// The durable append-only log (see the [module](self) docs).
///
/// Cheap to clone: clones share one log. `Send + Sync`.
#[derive(Clone)]
pub struct Log {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    /// The writer's queue; `None` once closed.
    requests: Mutex<Option<Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<Result<(), LogError>>>>,
    /// Holds the directory's lock while open; dropped after the writer stops.
    _lock: File,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("dir", &self.inner.shared.dir)
            .field("first", &self.first())
            .field("head", &self.head())
            .finish_non_exhaustive()
    }
}

impl Log {
    /// Opens the log in `dir`, creating it if need be, and recovers it: every segment
    /// is checked, and a torn or corrupt tail of the last one is cut off (with a
    /// warning naming the bytes dropped). A bad record in an older segment is an error.
    ///
    /// Blocking; starts the writer thread.
    pub fn open(dir: &Path, options: LogOptions) -> Result<Log, LogError> {
        std::fs::create_dir_all(dir).map_err(|e| LogError::io("create", dir, e))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| LogError::io("open", &lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LogError::Locked {
                    path: dir.to_owned(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(LogError::io("lock", &lock_path, e)),
        }
        let (sealed, active) = recover::segments(dir, options.fsync)?;
        let head = active.next;
        let (file, path, size) = (Arc::clone(&active.file), active.path.clone(), active.size);
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            state: Mutex::new(State {
                sealed,
                active,
                cache: Default::default(),
                cache_base: head,
                cache_capacity: options.cache_records,
            }),
            head: watch::Sender::new(head),
        });
        let writer = Writer {
            shared: Arc::clone(&shared),
            fsync: options.fsync,
            segment_bytes: options.segment_bytes,
            file,
            path,
            size,
            next: head,
            unsynced: false,
            last_sync: Instant::now(),
            failed: None,
            buf: Vec::new(),
        };
        let (requests, queue) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("motif-log-writer".into())
            .spawn(move || writer.run(queue))
            .map_err(|e| LogError::io("start the writer thread for", dir, e))?;
        Ok(Log {
            inner: Arc::new(Inner {
                shared,
                requests: Mutex::new(Some(requests)),
                writer: Mutex::new(Some(thread)),
                _lock: lock,
            }),
        })
    }

    /// Appends `records` and resolves to the offset of the first, once they are
    /// written and, under [`Fsync::Always`], synced; the records get consecutive
    /// offsets. Concurrent appends share a write and an fsync (group commit).
    ///
    /// Each record must hold 1 to [`MAX_RECORD_BYTES`] bytes, else nothing is
    /// appended. An empty `records` appends nothing and resolves to the head.
    pub async fn append(&self, records: Vec<Bytes>) -> Result<u64, LogError> {
        let mut bytes = 0;
        for record in &records {
            if record.is_empty() {
                return Err(LogError::Empty);
            }
            if record.len() > MAX_RECORD_BYTES {
                return Err(LogError::TooLarge {
                    size: record.len(),
                    max: MAX_RECORD_BYTES,
                });
            }
            bytes += segment::framed_len(record.len());
        }
        if records.is_empty() {
            return Ok(self.head());
        }
        let (reply, answer) = oneshot::channel();
        {
            let requests = self
                .inner
                .requests
                .lock()
                .expect("the log's queue lock is poisoned");
            let queue = requests.as_ref().ok_or(LogError::Closed)?;
            let request = Request {
                records,
                bytes,
                reply,
            };
            queue.send(request).map_err(|_| LogError::Closed)?;
        }
        // The writer answers every request it takes, unless it panicked.
        answer.await.map_err(|_| LogError::Closed)?
    }

    /// The next offset to assign: every offset below it is readable (and acknowledged,
    /// so durable as the policy says).
    pub fn head(&self) -> u64 {
        *self.inner.shared.head.borrow()
    }

    /// The head, for tailing readers to await new records.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.inner.shared.head.subscribe()
    }

    /// The oldest retained offset (the head, when nothing is retained).
    pub fn first(&self) -> u64 {
        self.inner.shared.lock().first()
    }

    /// Up to `max_records` records from offset `from` (fewer at the head; none from the
    /// head on), each with its offset. [`LogError::Trimmed`] if `from` was deleted by
    /// retention.
    ///
    /// From memory when the records are cached; else blocks on disk reads.
    pub fn read(&self, from: u64, max_records: usize) -> Result<Vec<(u64, Bytes)>, LogError> {
        let ReadPlan { spans, cached } = self.inner.shared.lock().plan_read(from, max_records)?;
        if spans.is_empty() {
            return Ok(cached);
        }
        // Outside the lock: a segment deleted meanwhile stays readable through its
        // open file.
        let mut records = Vec::new();
        for span in &spans {
            records.extend(segment::read_span(span)?);
        }
        records.extend(cached);
        Ok(records)
    }

    /// Deletes the full segments all of whose records are before `offset` (never the
    /// active one), and returns how many it deleted. Blocking.
    pub fn retain_from(&self, offset: u64) -> Result<usize, LogError> {
        let deleted = self.inner.shared.lock().trim(offset);
        let mut result = Ok(deleted.len());
        for segment in &deleted {
            if let Err(e) = std::fs::remove_file(&segment.path) {
                // Already out of the log: a file left behind comes back on the next open.
                if result.is_ok() {
                    result = Err(LogError::io("delete", &segment.path, e));
                }
            }
        }
        result
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.inner.shared.dir
    }

    /// Closes the log for every handle: pending appends are written and synced, later
    /// ones fail with [`LogError::Closed`]. Returns the writer's last error, if it
    /// stopped on one. Dropping the last handle closes the log too.
    pub fn close(self) -> Result<(), LogError> {
        self.inner.stop()
    }
}

impl Inner {
    fn stop(&self) -> Result<(), LogError> {
        // Dropping the queue's sender ends the writer once it has written the rest.
        drop(
            self.requests
                .lock()
                .expect("the log's queue lock is poisoned")
                .take(),
        );
        let Some(thread) = self
            .writer
            .lock()
            .expect("the log's writer lock is poisoned")
            .take()
        else {
            return Ok(());
        };
        thread.join().unwrap_or_else(|_| {
            Err(LogError::Stopped {
                reason: "the log's writer thread panicked".to_owned(),
            })
        })
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            let dir = self.shared.dir.display();
            tracing::error!(dir = %dir, error = %e.chain(), "closing the log failed");
        }
    }
}
