//! Opening a log's directory: its segments, checked, and a torn tail cut off.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::segment::{self, Index, Segment};
use super::writer::sync_dir;
use super::{Fsync, LogError};

/// The segments of `dir`, oldest first, and the active (last) one, which is created if
/// there is none. Records after the first bad one in the last segment are cut off.
pub(crate) fn segments(dir: &Path, fsync: Fsync) -> Result<(VecDeque<Segment>, Segment), LogError> {
    let mut names = list(dir)?;
    let Some((last_base, last_path)) = names.pop() else {
        let path = dir.join(segment::file_name(0));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| LogError::io("create", &path, e))?;
        if fsync != Fsync::Never {
            sync_dir(dir)?;
        }
        return Ok((VecDeque::new(), empty(0, path, file)));
    };
    let mut sealed = VecDeque::with_capacity(names.len());
    for (base, path) in names {
        let segment = open_sealed(base, path)?;
        if let Some(previous) = sealed.back() {
            follows(previous, &segment)?;
        }
        sealed.push_back(segment);
    }
    let active = open_active(last_base, last_path)?;
    if let Some(previous) = sealed.back() {
        follows(previous, &active)?;
    }
    Ok((sealed, active))
}

/// The segment files of `dir` by first offset; other files are left alone.
fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>, LogError> {
    let io = |e| LogError::io("list", dir, e);
    let mut segments = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        if let Some(base) = name.to_str().and_then(segment::parse_file_name) {
            segments.push((base, entry.path()));
        }
    }
    segments.sort_unstable_by_key(|(base, _)| *base);
    Ok(segments)
}

fn empty(base: u64, path: PathBuf, file: File) -> Segment {
    Segment {
        base,
        next: base,
        size: 0,
        path,
        file: Arc::new(file),
        index: Index::default(),
    }
}

/// Opens a full segment: every record in it must be intact.
fn open_sealed(base: u64, path: PathBuf) -> Result<Segment, LogError> {
    let file = File::open(&path).map_err(|e| LogError::io("open", &path, e))?;
    let scan = segment::scan(&file, &path, base)?;
    if let Some((position, reason)) = scan.problem {
        return Err(LogError::Corrupt {
            path,
            position,
            reason: format!("{reason} (only the last segment may end in a torn record)"),
        });
    }
    Ok(Segment {
        base,
        next: scan.next,
        size: scan.valid,
        path,
        file: Arc::new(file),
        index: scan.index,
    })
}

/// Opens the last segment for appending, cutting off everything from its first bad
/// record: the tail of a write that a crash interrupted, never acknowledged.
fn open_active(base: u64, path: PathBuf) -> Result<Segment, LogError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| LogError::io("open", &path, e))?;
    let scan = segment::scan(&file, &path, base)?;
    if let Some((position, reason)) = scan.problem {
        let dropped = scan.len - scan.valid;
        tracing::warn!(
            path = %path.display(),
            position,
            dropped_bytes = dropped,
            kept_records = scan.next - base,
            reason,
            "cutting a torn or corrupt tail off the log's last segment"
        );
        file.set_len(scan.valid)
            .and_then(|()| file.sync_all())
            .map_err(|e| LogError::io("truncate", &path, e))?;
    }
    Ok(Segment {
        base,
        next: scan.next,
        size: scan.valid,
        path,
        file: Arc::new(file),
        index: scan.index,
    })
}

/// Checks that `next` starts where `previous` ends.
fn follows(previous: &Segment, next: &Segment) -> Result<(), LogError> {
    if previous.next == next.base {
        return Ok(());
    }
    Err(LogError::Corrupt {
        path: next.path.clone(),
        position: 0,
        reason: format!(
            "the segment starts at offset {} but the one before it ends at {}",
            next.base, previous.next
        ),
    })
}
