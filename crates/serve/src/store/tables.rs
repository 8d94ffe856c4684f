//! The store's tables and their records, encoded as JSON.

use redb::{ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{db, not_found};
use super::record::FunctionRow;
use super::{FunctionRecord, Revision, Route, StoreError};

/// Function name -> [`FunctionRow`] as JSON.
pub(super) const FUNCTIONS: TableDefinition<&str, &str> = TableDefinition::new("functions");
/// (function name, revision number) -> [`Revision`] as JSON: one function's revisions
/// are one key range, in order.
pub(super) const REVISIONS: TableDefinition<(&str, u32), &str> = TableDefinition::new("revisions");
/// (function name, subscription name) -> [`motif_api::Subscription`] as JSON: the
/// subscriptions `motif subscribe` added (those of a function's spec are in its
/// revisions).
pub(super) const SUBSCRIPTIONS: TableDefinition<(&str, &str), &str> =
    TableDefinition::new("subscriptions");
/// `format` -> the store's format version, to refuse files this code cannot read.
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("motif-serve-meta");
/// The format this code writes; bumped when a record changes incompatibly.
pub(super) const FORMAT: u64 = 1;

/// A function's record from its row and its revisions.
pub(super) fn record(
    revisions: &impl ReadableTable<(&'static str, u32), &'static str>,
    name: &str,
    row: FunctionRow,
) -> Result<FunctionRecord, StoreError> {
    let all = all_revisions(revisions, name)?;
    let latest_name = revision_name(name, row.latest);
    let latest = all
        .iter()
        .rev()
        .find(|revision| revision.number == row.latest)
        .cloned()
        .ok_or_else(|| not_found("revision", &latest_name))?;
    Ok(FunctionRecord {
        name: name.to_owned(),
        revisions: all.into_iter().map(|revision| revision.name).collect(),
        route: Route {
            latest: latest_name,
            targets: row.traffic,
        },
        latest,
    })
}

pub(super) fn all_revisions(
    revisions: &impl ReadableTable<(&'static str, u32), &'static str>,
    name: &str,
) -> Result<Vec<Revision>, StoreError> {
    let mut all = Vec::new();
    for entry in revisions.range((name, 0)..=(name, u32::MAX)).map_err(db)? {
        let (key, json) = entry.map_err(db)?;
        let (function, number) = key.value();
        all.push(decode(&revision_name(function, number), json.value())?);
    }
    Ok(all)
}

pub(super) fn read_row(
    functions: &impl ReadableTable<&'static str, &'static str>,
    name: &str,
) -> Result<Option<FunctionRow>, StoreError> {
    match functions.get(name).map_err(db)? {
        Some(json) => decode(name, json.value()).map(Some),
        None => Ok(None),
    }
}

pub(super) fn revision_exists(
    revisions: &impl ReadableTable<(&'static str, u32), &'static str>,
    function: &str,
    revision: &str,
) -> Result<bool, StoreError> {
    match split_revision(revision) {
        Some((owner, number)) if owner == function => {
            Ok(revisions.get((owner, number)).map_err(db)?.is_some())
        }
        _ => Ok(false),
    }
}

/// `NAME-00001`: five digits, as Knative; past 99999 the number simply grows wider.
pub(super) fn revision_name(function: &str, number: u32) -> String {
    format!("{function}-{number:05}")
}

/// The function and number of a revision name, if it is one as [`revision_name`] writes.
pub(super) fn split_revision(revision: &str) -> Option<(&str, u32)> {
    let (function, digits) = revision.rsplit_once('-')?;
    let number = digits.parse().ok().filter(|&n| n > 0)?;
    (revision_name(function, number) == revision).then_some((function, number))
}

pub(super) fn encode(value: &impl Serialize) -> Result<String, StoreError> {
    // The records are plain structs with string-keyed maps, which JSON always takes.
    serde_json::to_string(value)
        .map_err(|error| StoreError::invalid("spec", format!("cannot be stored: {error}")))
}

pub(super) fn decode<T: DeserializeOwned>(key: &str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|source| StoreError::Corrupt {
        key: key.to_owned(),
        source,
    })
}
