//! The MUST rules of `shared/research/contracts.md` §12 ("The 15 MUST rules an
//! implementation is most likely to get wrong") that this crate holds: rules 1-8, at
//! least one test each, from vectors written from the spec text of contracts.md §1-3.
//! Every rejection is also checked as the problem the contract answers with: a 400 (415
//! for an unsupported event format) whose `detail` names the attribute at fault.
//!
//! Rules 9-15 are not this crate's, and are not tested here:
//! - rule 8, its second half (a reply is never a batch unless the request's `Accept`
//!   names `application/cloudevents-batch+json`): motif-runtime, which chooses the
//!   reply's mode. This crate gives it the means, tested below: `Message::Batch` keeps a
//!   batch apart from an event, and `media::Accept::names` ignores wildcards;
//! - rule 9 (202 is not a reply; `Prefer: reply`; replies re-enqueued to the broker and
//!   matched against every Trigger): motif-events (broker, delivery, replies);
//! - rule 10 (retryable statuses, backoff, duplicates, dead-letter sink): motif-events;
//! - rule 11 (Trigger `filter` and `filters`): motif-events, driven by
//!   `shared/conformance/derived/knative-trigger-filter-cases.yaml`;
//! - rules 12 and 13 (CESQL errors, arithmetic and casts): motif-events' CESQL
//!   evaluator, driven by the CESQL TCK in `shared/conformance/cesql-tests`;
//! - rule 14 (the Serving container contract: `PORT`, HTTP/1.1, SIGTERM drain, one
//!   port named `http1`, probes on the serving port): motif-runtime for the server, and
//!   motif-api's Function -> Knative compiler for the container spec;
//! - rule 15 (Serving resource rules: annotations on the template, traffic sums, owner
//!   references, labels, `status.url`, `Ready`): motif-api's compiler and
//!   motif-controller, checked against `shared/conformance/knative-crds`.

mod attributes;
mod binding;
mod format;

use motif_contract::{Error, Event};
use serde_json::Value;

use crate::support::decode_structured;

/// The REQUIRED members of a structured event, for bodies written inline.
pub(super) const MIN: &str = r#""specversion":"1.0","id":"1","source":"/s","type":"t""#;

pub(super) fn structured(members: &str) -> Result<Event, Error> {
    decode_structured(&format!("{{{MIN},{members}}}"))
}

/// A structured body of the REQUIRED members with `name` set to `value` (added, or
/// replacing the member of that name).
pub(super) fn body_with(name: &str, value: Value) -> String {
    let mut members = min_members();
    members.insert(name.into(), value);
    Value::Object(members).to_string()
}

/// A structured body of the REQUIRED members but `name`.
pub(super) fn body_without(name: &str) -> String {
    let mut members = min_members();
    members.remove(name);
    Value::Object(members).to_string()
}

fn min_members() -> serde_json::Map<String, Value> {
    serde_json::from_str(&format!("{{{MIN}}}")).expect("JSON")
}

pub(super) fn event() -> Event {
    Event::builder("1", "/s", "t")
        .build()
        .expect("a valid event")
}
