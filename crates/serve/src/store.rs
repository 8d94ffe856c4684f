//! Functions, their immutable revisions, traffic and tags, in an embedded database
//! (redb) that survives restarts: the state of `motif serve`.
//!
//! Knative's model on one machine: every deploy with a new spec or artifact makes an
//! immutable revision `NAME-00001`, `NAME-00002`, ...; a deploy of what the latest
//! revision already is makes none. Each function has a route: traffic targets that
//! split requests between revisions (or "the latest") by percentage, and tags that name
//! one revision each. Not here: running revisions (the gateway and runtimes) and
//! scaling them ([`autoscale`](crate::autoscale)).
//!
//! ```no_run
//! # fn main() -> Result<(), motif_serve::store::StoreError> {
//! use motif_serve::store::Store;
//!
//! let store = Store::open("/var/lib/motif/serve.redb")?;
//! let spec = motif_api::FunctionSpec::default();
//! let deployed = store.deploy("hello", &spec, "sha256:4f2a...")?;
//! assert_eq!(deployed.revision, "hello-00001");
//! let route = store.resolve("hello")?;
//! assert_eq!(route.pick(42), "hello-00001");
//! # Ok(())
//! # }
//! ```
//!
//! # Guarantees
//! - Every call is one transaction: it is written whole, durably, or not at all.
//! - Deploys are serialised (one write transaction at a time), so concurrent deploys
//!   from any number of threads get distinct, consecutive revision numbers.
//! - A revision, once written, never changes; it goes only with its function.
//!
//! # Caveats
//! - One [`Store`] per file: the database locks it, and a second open is
//!   [`StoreError::InUse`]. Share the store between threads instead; it is `Sync`.
//! - A deploy whose spec has no `traffic` keeps the route as it is (a split set by
//!   [`Store::set_traffic`] survives new revisions); one with `traffic` replaces it.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use motif_api::{FunctionSpec, TrafficTarget, validate_name};
use redb::{Database, ReadableDatabase, ReadableTable};
use serde::Serialize;
use sha2::{Digest, Sha256};

mod error;
mod file;
mod record;
mod route;
mod subscriptions;
mod tables;

pub use error::StoreError;
pub use record::{Deployed, FunctionRecord, Revision};
pub use route::Route;

use error::{db, not_found};
use record::FunctionRow;
use route::{all_to_latest, validate_tag, validate_targets};
use tables::{
    FUNCTIONS, REVISIONS, SUBSCRIPTIONS, all_revisions, decode, encode, read_row, record,
    revision_exists, revision_name, split_revision,
};

/// The store of `motif serve`: one database file. Cheap to share by reference between
/// threads; every method is one transaction.
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens the store at `path`, creating the file (owner-only, `0600`: it describes
    /// what runs) if it does not exist; its folder must.
    ///
    /// A file that is not a store (another program's, corrupted, or a newer format)
    /// is [`StoreError::NotAStore`], and is left as it was.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let db = file::open_database(path)?;
        Ok(Store { db })
    }

    /// Deploys `spec` running `artifact` (an image digest, or a wasm or program digest)
    /// as function `name`, creating the function on its first deploy.
    ///
    /// A new revision is made unless the spec (without `traffic`) and the artifact are
    /// the latest revision's; [`Deployed::created`] says which. A spec with `traffic`
    /// sets the route (validated as by [`Store::set_traffic`], after the new revision
    /// exists, so it may name it); the first deploy of one without sends everything to
    /// the latest revision.
    pub fn deploy(
        &self,
        name: &str,
        spec: &FunctionSpec,
        artifact: &str,
    ) -> Result<Deployed, StoreError> {
        validate_name(name).map_err(|message| StoreError::invalid("name", message))?;
        if artifact.trim().is_empty() {
            return Err(StoreError::invalid(
                "artifact",
                "a revision needs something to run: an image or program digest",
            ));
        }
        let mut config = spec.clone();
        let traffic = std::mem::take(&mut config.traffic);
        let digest = config_digest(&config, artifact)?;

        let txn = self.db.begin_write().map_err(db)?;
        let deployed = {
            let mut functions = txn.open_table(FUNCTIONS).map_err(db)?;
            let mut revisions = txn.open_table(REVISIONS).map_err(db)?;
            let row = read_row(&functions, name)?;
            let unchanged = row.as_ref().is_some_and(|row| row.digest == digest);
            let mut row = row.unwrap_or(FunctionRow {
                latest: 0,
                digest: String::new(),
                traffic: all_to_latest(),
            });
            if !unchanged {
                row.latest = row.latest.checked_add(1).ok_or_else(|| {
                    StoreError::invalid("name", format!("`{name}` has no revision numbers left"))
                })?;
                row.digest = digest.clone();
                let revision = Revision {
                    name: revision_name(name, row.latest),
                    function: name.to_owned(),
                    number: row.latest,
                    spec: config,
                    artifact: artifact.to_owned(),
                    digest,
                    created_millis: now_millis(),
                };
                revisions
                    .insert((name, row.latest), encode(&revision)?.as_str())
                    .map_err(db)?;
            }
            if !traffic.is_empty() {
                validate_targets(name, &traffic, |revision| {
                    revision_exists(&revisions, name, revision)
                })?;
                row.traffic = traffic;
            }
            functions.insert(name, encode(&row)?.as_str()).map_err(db)?;
            Deployed {
                revision: revision_name(name, row.latest),
                created: !unchanged,
            }
        };
        txn.commit().map_err(db)?;
        tracing::debug!(function = name, revision = %deployed.revision, created = deployed.created, "deployed");
        Ok(deployed)
    }

    /// The revision a [`Store::deploy`] of the same arguments would make now, or `None`
    /// when it would make none (the latest revision is the same spec and artifact). A
    /// deploy may start the revision before it is recorded, under the name it will have.
    pub fn preview(
        &self,
        name: &str,
        spec: &FunctionSpec,
        artifact: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut config = spec.clone();
        config.traffic.clear();
        let digest = config_digest(&config, artifact)?;
        let txn = self.db.begin_read().map_err(db)?;
        let functions = txn.open_table(FUNCTIONS).map_err(db)?;
        Ok(match read_row(&functions, name)? {
            Some(row) if row.digest == digest => None,
            Some(row) => Some(revision_name(name, row.latest.saturating_add(1))),
            None => Some(revision_name(name, 1)),
        })
    }

    /// Replaces the route of `name` with `targets`: each percentage at most 100, their
    /// sum exactly 100, each named revision one of this function's, each tag a DNS label
    /// used once. A target without a revision follows the latest.
    pub fn set_traffic(
        &self,
        name: &str,
        targets: Vec<TrafficTarget>,
    ) -> Result<Route, StoreError> {
        self.update_route(name, |_| Ok(targets))
    }

    /// Points `tag` at `revision` (adding a 0% target, or moving the tag from the target
    /// that had it): the tag routes to that revision alone, the split is unchanged.
    pub fn tag(&self, name: &str, tag: &str, revision: &str) -> Result<Route, StoreError> {
        validate_tag(tag).map_err(|message| StoreError::invalid("tag", message))?;
        match split_revision(revision) {
            Some((function, _)) if function == name => {
                self.revision(revision)?;
            }
            _ => {
                return Err(StoreError::invalid(
                    "revision",
                    format!("`{revision}` is not a revision of `{name}`"),
                ));
            }
        }
        let (tag, revision) = (tag.to_owned(), revision.to_owned());
        self.update_route(name, move |mut targets| {
            targets.retain_mut(|target| {
                if target.tag.as_deref() == Some(tag.as_str()) {
                    target.tag = None;
                    // A 0% target existed only for its tag.
                    return target.percent > 0;
                }
                true
            });
            targets.push(TrafficTarget {
                revision: Some(revision),
                percent: 0,
                tag: Some(tag),
            });
            Ok(targets)
        })
    }

    /// The route of `name`, with the latest revision resolved. Reads one small row, not
    /// the revisions: cheap enough for a gateway to call whenever a route changes.
    pub fn resolve(&self, name: &str) -> Result<Route, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let functions = txn.open_table(FUNCTIONS).map_err(db)?;
        let row = read_row(&functions, name)?.ok_or_else(|| not_found("function", name))?;
        Ok(Route {
            latest: revision_name(name, row.latest),
            targets: row.traffic,
        })
    }

    /// The function `name`, or `None` if there is none.
    pub fn get(&self, name: &str) -> Result<Option<FunctionRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let functions = txn.open_table(FUNCTIONS).map_err(db)?;
        let revisions = txn.open_table(REVISIONS).map_err(db)?;
        let Some(row) = read_row(&functions, name)? else {
            return Ok(None);
        };
        record(&revisions, name, row).map(Some)
    }

    /// Every function, by name.
    pub fn list(&self) -> Result<Vec<FunctionRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let functions = txn.open_table(FUNCTIONS).map_err(db)?;
        let revisions = txn.open_table(REVISIONS).map_err(db)?;
        let mut records = Vec::new();
        for entry in functions.iter().map_err(db)? {
            let (name, row) = entry.map_err(db)?;
            let row: FunctionRow = decode(name.value(), row.value())?;
            records.push(record(&revisions, name.value(), row)?);
        }
        Ok(records)
    }

    /// Every revision of `name`, oldest first.
    pub fn revisions(&self, name: &str) -> Result<Vec<Revision>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let revisions = txn.open_table(REVISIONS).map_err(db)?;
        let all = all_revisions(&revisions, name)?;
        if all.is_empty() {
            return Err(not_found("function", name));
        }
        Ok(all)
    }

    /// The revision named `revision` (`NAME-00002`).
    pub fn revision(&self, revision: &str) -> Result<Revision, StoreError> {
        let (function, number) =
            split_revision(revision).ok_or_else(|| not_found("revision", revision))?;
        let txn = self.db.begin_read().map_err(db)?;
        let revisions = txn.open_table(REVISIONS).map_err(db)?;
        let json = revisions.get((function, number)).map_err(db)?;
        let json = json.ok_or_else(|| not_found("revision", revision))?;
        decode(revision, json.value())
    }

    /// Deletes the function `name`, its revisions, its route and its subscriptions.
    pub fn delete(&self, name: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut functions = txn.open_table(FUNCTIONS).map_err(db)?;
            let mut revisions = txn.open_table(REVISIONS).map_err(db)?;
            if functions.remove(name).map_err(db)?.is_none() {
                return Err(not_found("function", name));
            }
            revisions
                .retain_in((name, 0)..=(name, u32::MAX), |_, _| false)
                .map_err(db)?;
            let mut subscriptions = txn.open_table(SUBSCRIPTIONS).map_err(db)?;
            subscriptions
                .retain_in((name, "")..=(name, "\u{10ffff}"), |_, _| false)
                .map_err(db)?;
        }
        txn.commit().map_err(db)?;
        tracing::debug!(function = name, "deleted");
        Ok(())
    }

    /// Rewrites the route of `name` with `change`, validating the result.
    fn update_route(
        &self,
        name: &str,
        change: impl FnOnce(Vec<TrafficTarget>) -> Result<Vec<TrafficTarget>, StoreError>,
    ) -> Result<Route, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let route = {
            let mut functions = txn.open_table(FUNCTIONS).map_err(db)?;
            let revisions = txn.open_table(REVISIONS).map_err(db)?;
            let mut row = read_row(&functions, name)?.ok_or_else(|| not_found("function", name))?;
            row.traffic = change(row.traffic)?;
            validate_targets(name, &row.traffic, |revision| {
                revision_exists(&revisions, name, revision)
            })?;
            functions.insert(name, encode(&row)?.as_str()).map_err(db)?;
            Route {
                latest: revision_name(name, row.latest),
                targets: row.traffic,
            }
        };
        txn.commit().map_err(db)?;
        Ok(route)
    }
}

/// `sha256:HEX` of the JSON of the spec and artifact. The JSON is deterministic: the
/// spec's fields serialise in declaration order, its maps are `BTreeMap`s, and unset
/// optional fields are skipped, so adding a field to the spec changes no digest.
fn config_digest(spec: &FunctionSpec, artifact: &str) -> Result<String, StoreError> {
    #[derive(Serialize)]
    struct Config<'a> {
        spec: &'a FunctionSpec,
        artifact: &'a str,
    }
    let json = encode(&Config { spec, artifact })?;
    let hash = Sha256::digest(json.as_bytes());
    let hex: String = hash.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("sha256:{hex}"))
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis().try_into().unwrap_or(u64::MAX))
}
