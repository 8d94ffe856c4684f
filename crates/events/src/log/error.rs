//! Why a log or cursor operation failed.

use std::path::PathBuf;

/// Why a [`Log`](super::Log) or [`Cursors`](super::Cursors) operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A file system operation failed.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// What was being done: `open`, `write`, `fsync`, ...
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A record in a segment that is not the last one fails its checks (a torn tail of
    /// the last segment is cut on open instead), or segments do not follow each other.
    #[error("corrupt log segment `{}` at byte {position}: {reason}", path.display())]
    Corrupt {
        /// The segment.
        path: PathBuf,
        /// The byte position of the bad record in the segment.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// The records asked for were deleted by retention.
    #[error("offset is before the oldest retained record `{first}`")]
    Trimmed {
        /// The oldest retained offset, where a reader may resume.
        first: u64,
    },
    /// Another [`Log`](super::Log) (in this process or another) has the directory open.
    #[error("the log `{}` is already open, in this process or another", path.display())]
    Locked {
        /// The log's directory.
        path: PathBuf,
    },
    /// The log was closed; no more appends are accepted.
    #[error("the log is closed")]
    Closed,
    /// The log's writer failed in a way that leaves the files in an unknown state (a
    /// failed fsync, or a partial write that could not be undone); appends are refused
    /// until the log is reopened, which recovers from the files.
    #[error("the log stopped accepting appends after an earlier failure, reopen it: {reason}")]
    Stopped {
        /// The failure, with its causes.
        reason: String,
    },
    /// A record exceeds [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES).
    #[error("record of `{size}` bytes exceeds the maximum of `{max}` bytes")]
    TooLarge {
        /// The record's size.
        size: usize,
        /// The maximum.
        max: usize,
    },
    /// A record is empty (an encoded CloudEvent never is; see the module's framing notes
    /// for why the log refuses them).
    #[error("empty records cannot be appended")]
    Empty,
    /// The cursors file is not a JSON object of names to offsets.
    #[error("invalid cursors file `{}`", path.display())]
    BadCursors {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
}

impl LogError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> LogError {
        LogError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A copy for the second and later appends failed by one error (`io::Error` is not
    /// `Clone`; the kind and message are what callers see).
    pub(crate) fn duplicate(&self) -> LogError {
        match self {
            LogError::Io {
                action,
                path,
                source,
            } => LogError::Io {
                action,
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            LogError::Closed => LogError::Closed,
            LogError::Stopped { reason } => LogError::Stopped {
                reason: reason.clone(),
            },
            // The writer fails appends with the variants above only.
            other => LogError::Stopped {
                reason: other.chain(),
            },
        }
    }

    /// The error and its causes on one line, for [`LogError::Stopped`].
    pub(crate) fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}
