//! Segment files: the record framing, the file names, the sparse index, the recovery
//! scan and positional reads.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use super::{LogError, MAX_RECORD_BYTES};

/// A record's framing before its payload: the payload's length and its CRC-32, both
/// u32 little-endian.
pub(crate) const HEADER_BYTES: u64 = 8;

/// One index entry per this many bytes of segment: a read from disk scans at most this
/// much (plus one record) to reach its offset, and a full 64 MiB segment costs 2048
/// entries (32 KiB) of memory.
const INDEX_EVERY_BYTES: u64 = 32 << 10;

/// How much a read from a segment reads ahead: tailing readers behind the cache read
/// a few hundred records a call, so one syscall covers many of them.
const READ_AHEAD_BYTES: usize = 64 << 10;

/// How much the recovery scan reads a syscall.
const SCAN_READ_BYTES: usize = 1 << 20;

/// The file name of the segment whose first record has offset `base`.
pub(crate) fn file_name(base: u64) -> String {
    format!("{base:020}.log")
}

/// The first offset of a segment named `name`, or `None` if it names no segment.
pub(crate) fn parse_file_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".log")?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// The bytes a record of `payload` bytes takes in a segment.
pub(crate) fn framed_len(payload: usize) -> u64 {
    HEADER_BYTES + payload as u64
}

/// Appends `payload`, framed, to `buf`. The caller has checked its length.
pub(crate) fn frame(buf: &mut Vec<u8>, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    buf.extend_from_slice(payload);
}

/// Decodes a header into the payload's length and checksum.
fn header(bytes: &[u8]) -> (u64, u32) {
    let mut len = [0; 4];
    let mut crc = [0; 4];
    len.copy_from_slice(&bytes[..4]);
    crc.copy_from_slice(&bytes[4..8]);
    (u64::from(u32::from_le_bytes(len)), u32::from_le_bytes(crc))
}

/// Why a header's length cannot start a record that ends within `limit`, if it cannot.
fn bad_length(len: u64, position: u64, limit: u64) -> Option<String> {
    if len == 0 {
        // Zeros are what a file system leaves in a torn, extended tail; the log never
        // writes an empty record, so a zero length marks the end of the valid data.
        Some("a record of length 0".to_owned())
    } else if len > MAX_RECORD_BYTES as u64 {
        Some(format!(
            "a record length of {len} bytes exceeds the maximum"
        ))
    } else if position + HEADER_BYTES + len > limit {
        Some(format!("a record of {len} bytes is cut short"))
    } else {
        None
    }
}

/// Where a record starts: an entry of a segment's sparse index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndexEntry {
    /// The record's offset.
    pub offset: u64,
    /// Its byte position in the segment.
    pub position: u64,
}

/// A segment's sparse index: the first record, then one record every
/// [`INDEX_EVERY_BYTES`].
#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: Vec<IndexEntry>,
}

impl Index {
    /// Notes that record `offset` starts at `position`; records come in order.
    pub(crate) fn note(&mut self, offset: u64, position: u64) {
        let due = self
            .entries
            .last()
            .is_none_or(|last| position - last.position >= INDEX_EVERY_BYTES);
        if due {
            self.entries.push(IndexEntry { offset, position });
        }
    }

    /// The last indexed record at or before `offset`.
    fn lookup(&self, offset: u64) -> Option<IndexEntry> {
        let after = self.entries.partition_point(|e| e.offset <= offset);
        self.entries.get(after.checked_sub(1)?).copied()
    }
}

/// One segment file.
#[derive(Debug)]
pub(crate) struct Segment {
    /// The offset of its first record (its name).
    pub base: u64,
    /// The offset after its last acknowledged record.
    pub next: u64,
    /// Its acknowledged bytes: readers never read past them.
    pub size: u64,
    /// The file.
    pub path: PathBuf,
    /// The file, open for reading (and, for the active segment, for writing).
    pub file: Arc<File>,
    /// Its sparse index.
    pub index: Index,
}

/// What part of a segment a read wants.
pub(crate) struct Span {
    /// The file.
    pub path: PathBuf,
    /// The file, open.
    pub file: Arc<File>,
    /// The segment's acknowledged bytes.
    pub limit: u64,
    /// Where to start scanning.
    pub start: IndexEntry,
    /// The first offset wanted.
    pub from: u64,
    /// The offset after the last one wanted.
    pub to: u64,
}

impl Segment {
    /// The span of records `from..to`, which must overlap this segment.
    pub(crate) fn span(&self, from: u64, to: u64) -> Span {
        let from = from.max(self.base);
        let start = self.index.lookup(from).unwrap_or(IndexEntry {
            offset: self.base,
            position: 0,
        });
        Span {
            path: self.path.clone(),
            file: Arc::clone(&self.file),
            limit: self.size,
            start,
            from,
            to: to.min(self.next),
        }
    }
}

/// Reads a file through a buffer, by position.
struct Reader<'a> {
    file: &'a File,
    path: &'a Path,
    /// Never read past this.
    limit: u64,
    read_ahead: usize,
    buf: Vec<u8>,
    /// The position of `buf[0]`.
    start: u64,
}

impl<'a> Reader<'a> {
    fn new(file: &'a File, path: &'a Path, limit: u64, read_ahead: usize) -> Reader<'a> {
        Reader {
            file,
            path,
            limit,
            read_ahead,
            buf: Vec::new(),
            start: 0,
        }
    }

    /// The `len` bytes at `position`, which the caller has checked lie below the limit.
    fn bytes(&mut self, position: u64, len: u64) -> Result<&[u8], LogError> {
        let end = position + len;
        if position < self.start || end > self.start + self.buf.len() as u64 {
            let want = len.max(self.read_ahead as u64).min(self.limit - position);
            // `want` is at least `len` (checked by the caller) and at most a record or
            // the read-ahead, so it fits in memory and in usize.
            self.buf.resize(want as usize, 0);
            self.file
                .read_exact_at(&mut self.buf, position)
                .map_err(|e| LogError::io("read", self.path, e))?;
            self.start = position;
        }
        let at = (position - self.start) as usize;
        Ok(&self.buf[at..at + len as usize])
    }
}

/// Reads the records of `span`, checking each one's checksum.
pub(crate) fn read_span(span: &Span) -> Result<Vec<(u64, Bytes)>, LogError> {
    let corrupt = |position, reason| LogError::Corrupt {
        path: span.path.clone(),
        position,
        reason,
    };
    let mut reader = Reader::new(&span.file, &span.path, span.limit, READ_AHEAD_BYTES);
    let mut records = Vec::with_capacity(span.to.saturating_sub(span.from) as usize);
    let (mut offset, mut position) = (span.start.offset, span.start.position);
    while offset < span.to {
        if position + HEADER_BYTES > span.limit {
            return Err(corrupt(position, format!("record {offset} is missing")));
        }
        let (len, crc) = header(reader.bytes(position, HEADER_BYTES)?);
        if let Some(reason) = bad_length(len, position, span.limit) {
            return Err(corrupt(position, reason));
        }
        if offset >= span.from {
            let payload = reader.bytes(position + HEADER_BYTES, len)?;
            if crc32fast::hash(payload) != crc {
                return Err(corrupt(
                    position,
                    format!("record {offset} fails its checksum"),
                ));
            }
            records.push((offset, Bytes::copy_from_slice(payload)));
        }
        position += HEADER_BYTES + len;
        offset += 1;
    }
    Ok(records)
}

/// What the recovery scan found in a segment.
pub(crate) struct Scan {
    /// The offset after the last valid record.
    pub next: u64,
    /// The bytes of valid records from the start.
    pub valid: u64,
    /// The file's length.
    pub len: u64,
    /// The index of the valid records.
    pub index: Index,
    /// The first invalid record's position, and what is wrong with it.
    pub problem: Option<(u64, String)>,
}

/// Scans the segment starting at offset `base`: every record up to the first that is
/// cut short or fails its checks.
pub(crate) fn scan(file: &File, path: &Path, base: u64) -> Result<Scan, LogError> {
    let len = file
        .metadata()
        .map_err(|e| LogError::io("stat", path, e))?
        .len();
    let mut reader = Reader::new(file, path, len, SCAN_READ_BYTES);
    let mut index = Index::default();
    let (mut offset, mut position) = (base, 0);
    let mut problem = None;
    while position < len {
        if position + HEADER_BYTES > len {
            problem = Some((position, "a record header is cut short".to_owned()));
            break;
        }
        let (size, crc) = header(reader.bytes(position, HEADER_BYTES)?);
        if let Some(reason) = bad_length(size, position, len) {
            problem = Some((position, reason));
            break;
        }
        if crc32fast::hash(reader.bytes(position + HEADER_BYTES, size)?) != crc {
            problem = Some((position, format!("record {offset} fails its checksum")));
            break;
        }
        index.note(offset, position);
        position += HEADER_BYTES + size;
        offset += 1;
    }
    Ok(Scan {
        next: offset,
        valid: position,
        len,
        index,
        problem,
    })
}
