//! The embedded serving layer of `motif serve`: Knative Serving's semantics on one
//! machine, so that a function deployed here behaves as it will on Knative.
//!
//! - [`store`]: functions, their immutable revisions (`NAME-00001`, ...), traffic splits
//!   and tags, in an embedded database that survives restarts. An unchanged function
//!   makes no new revision.
//! - [`autoscale`]: the per-revision autoscaler: a concurrency target, min and max
//!   scale, a panic mode for bursts, and scale to zero after an idle window.
//! - [`instance`]: one instance of a revision as a process: its invoker on a free
//!   loopback port, started until ready, its last log lines kept, stopped with a drain.
//!
//! The gateway, the wasm and oci instance runtimes and `motif serve` itself are to come.

pub mod autoscale;
pub mod instance;
pub mod store;
