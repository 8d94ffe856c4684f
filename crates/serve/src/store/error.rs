//! What can go wrong with the store, each with the value at fault.

use std::path::PathBuf;

/// An error of the [`Store`](super::Store).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The function or revision does not exist.
    #[error("no {kind} `{name}`")]
    NotFound {
        /// `function` or `revision`.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// A value given to the store is wrong; nothing was written.
    #[error("`{field}`: {message}")]
    Invalid {
        /// The field at fault, as a dotted path (`traffic[1].percent`).
        field: String,
        /// What is wrong, and what would be right.
        message: String,
    },
    /// The file could not be created or opened.
    #[error("cannot open the store `{path}`")]
    Open {
        /// The store's file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another store (in this or another process) has the file open.
    #[error("the store `{path}` is in use by another process or store")]
    InUse {
        /// The store's file.
        path: PathBuf,
    },
    /// The file exists but is not a store of this version of motif: another program's
    /// database, a corrupted file or a newer format.
    #[error("`{path}` is not a motif serve store: {reason}")]
    NotAStore {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// The database failed while reading or writing.
    #[error("the store's database failed")]
    Database {
        /// The database's error.
        #[source]
        source: redb::Error,
    },
    /// A stored record does not decode: the file was changed by something else.
    #[error("the stored record of `{key}` is unreadable")]
    Corrupt {
        /// The record's key.
        key: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    pub(super) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub(super) fn not_found(kind: &'static str, name: &str) -> StoreError {
    StoreError::NotFound {
        kind,
        name: name.to_owned(),
    }
}

/// Every redb error (transaction, table, storage, commit) converts into `redb::Error`.
pub(super) fn db(error: impl Into<redb::Error>) -> StoreError {
    StoreError::Database {
        source: error.into(),
    }
}
