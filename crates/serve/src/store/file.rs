//! The store's file: created owner-only, checked whole, refused when it is not a store.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use redb::{Database, DatabaseError, ReadableTable, StorageError, TableHandle};

use super::StoreError;
use super::error::db;
use super::tables::{FORMAT, FUNCTIONS, META, REVISIONS, SUBSCRIPTIONS};

/// Opens or creates the database at `path` (`0600` when created: it describes what
/// runs), checked and ready for the store's tables.
pub(super) fn open_database(path: &Path) -> Result<Database, StoreError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|source| StoreError::Open {
        path: path.to_owned(),
        source,
    })?;
    // A plain open trusts the file and may panic on pages damaged outside redb; the
    // check reads the whole file once, which a store of function records affords.
    let database = Database::builder()
        .set_check_integrity_on_open(true)
        .create(path)
        .map_err(|error| open_error(path, error))?;
    check_format(&database, path)?;
    Ok(database)
}

/// Refuses files with tables that are not the store's or a format it cannot read, and
/// creates the tables of a new store, so that reads find them.
fn check_format(database: &Database, path: &Path) -> Result<(), StoreError> {
    let not_a_store = |reason: String| StoreError::NotAStore {
        path: path.to_owned(),
        reason,
    };
    let txn = database.begin_write().map_err(db)?;
    let ours = [
        FUNCTIONS.name(),
        REVISIONS.name(),
        SUBSCRIPTIONS.name(),
        META.name(),
    ];
    let foreign: Vec<String> = txn
        .list_tables()
        .map_err(db)?
        .map(|table| table.name().to_owned())
        .filter(|table| !ours.contains(&table.as_str()))
        .collect();
    if !foreign.is_empty() {
        return Err(not_a_store(format!(
            "it holds tables `{}`",
            foreign.join("`, `")
        )));
    }
    {
        let mut meta = txn
            .open_table(META)
            .map_err(|error| not_a_store(error.to_string()))?;
        let format = meta.get("format").map_err(db)?.map(|v| v.value());
        match format {
            None => {
                meta.insert("format", FORMAT).map_err(db)?;
            }
            Some(FORMAT) => {}
            Some(other) => {
                return Err(not_a_store(format!(
                    "its format is {other}; this motif reads format {FORMAT}, upgrade motif"
                )));
            }
        }
        txn.open_table(FUNCTIONS)
            .map_err(|error| not_a_store(error.to_string()))?;
        txn.open_table(REVISIONS)
            .map_err(|error| not_a_store(error.to_string()))?;
        txn.open_table(SUBSCRIPTIONS)
            .map_err(|error| not_a_store(error.to_string()))?;
    }
    txn.commit().map_err(db)
}

fn open_error(path: &Path, error: DatabaseError) -> StoreError {
    let path: PathBuf = path.to_owned();
    match error {
        DatabaseError::DatabaseAlreadyOpen => StoreError::InUse { path },
        // redb reports a file without its magic number as invalid data.
        DatabaseError::Storage(StorageError::Io(source))
            if source.kind() == std::io::ErrorKind::InvalidData =>
        {
            StoreError::NotAStore {
                path,
                reason: format!("it is not a database ({source})"),
            }
        }
        DatabaseError::Storage(StorageError::Io(source)) => StoreError::Open { path, source },
        DatabaseError::Storage(StorageError::Corrupted(reason)) => StoreError::NotAStore {
            path,
            reason: format!("it is damaged beyond repair ({reason})"),
        },
        DatabaseError::UpgradeRequired(version) => StoreError::NotAStore {
            path,
            reason: format!("its database format {version} is older than this motif reads"),
        },
        other => db(other),
    }
}
