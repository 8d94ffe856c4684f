//! motif-contract's integration tests, as one binary (one link, one run).
//!
//! - `conformance`: every event of the cloudevents/conformance YAML data, sent as the
//!   conformance tool would send it, decoded, and round-tripped through both modes;
//! - `schema`: the JSON format's output against the CloudEvents 1.0.2 JSON schema;
//! - `must_rules`: the MUST rules of `shared/research/contracts.md` §12 that belong to
//!   this crate, one or more tests each, from vectors written from the spec text;
//! - `roundtrip`: property tests: every valid event survives every mode.
//!
//! The conformance data and the schema are read at test time from `../shared/conformance`
//! beside the workspace (or `MOTIF_CONFORMANCE_DIR`); the tests that need them pass with
//! a `skipped:` line on stderr when it is absent, and the others run regardless.

mod conformance;
mod must_rules;
mod roundtrip;
mod schema;
mod support;
