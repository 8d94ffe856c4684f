//! What the store hands out: revisions, functions and the outcome of a deploy.

use motif_api::{FunctionSpec, TrafficTarget};
use serde::{Deserialize, Serialize};

use super::Route;

/// One immutable revision of a function: a snapshot of what runs and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    /// `FUNCTION-NNNNN` (`hello-00002`), as Knative names revisions.
    pub name: String,
    /// The function's name.
    pub function: String,
    /// The revision's number, from 1, one more than the function's previous revision.
    pub number: u32,
    /// The spec it was deployed with, without `traffic` (the route's business, not the
    /// revision's: changing only the traffic makes no revision, as on Knative).
    pub spec: FunctionSpec,
    /// What runs: an image digest or a wasm or program digest.
    pub artifact: String,
    /// `sha256:` of the canonical JSON of the spec and the artifact; an equal digest
    /// means an unchanged deploy.
    pub digest: String,
    /// When it was made, in milliseconds since the Unix epoch.
    pub created_millis: u64,
}

/// The outcome of [`Store::deploy`](super::Store::deploy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployed {
    /// The function's latest revision after the deploy.
    pub revision: String,
    /// Whether the deploy made that revision (`false`: the spec and artifact were the
    /// latest revision's already).
    pub created: bool,
}

/// A function as stored: its latest revision, every revision's name and its route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionRecord {
    /// The function's name.
    pub name: String,
    /// The latest revision, whose spec is the function's spec.
    pub latest: Revision,
    /// Every revision's name, oldest first.
    pub revisions: Vec<String>,
    /// How requests are split between the revisions.
    pub route: Route,
}

/// The row of a function: small, rewritten on every deploy and route change; the
/// revisions sit in their own table, written once.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FunctionRow {
    /// The number of the latest revision.
    pub latest: u32,
    /// The latest revision's digest, to tell an unchanged deploy.
    pub digest: String,
    /// The route's targets as set.
    pub traffic: Vec<TrafficTarget>,
}
