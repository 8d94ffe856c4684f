//! The embedded serving layer of `motif serve`: Knative Serving's semantics on one
//! machine, so that a function deployed here behaves as it will on Knative.
//!
//! - [`server`]: the whole of `motif serve`: the [`gateway`] on one port (functions by
//!   host, `NAME.localhost`, or by path, `/NAME/`), the [`admin`] API on loopback behind
//!   a token, and the drain on SIGTERM.
//! - [`serving`]: deploys, traffic, deletes; one running revision per reachable revision.
//! - [`store`]: functions, their immutable revisions (`NAME-00001`, ...), traffic splits
//!   and tags, in an embedded database that survives restarts. An unchanged function
//!   makes no new revision.
//! - [`artifact`]: what a revision runs, kept by digest in the state directory.
//! - `revision` and `runtime`: a revision's instances (wasm in this process, or the
//!   invoker as a child process), the buffer that holds requests during a cold start,
//!   and the loop that scales it with the [`autoscale`] decisions.
//! - [`autoscale`]: the per-revision autoscaler: a concurrency target, min and max
//!   scale, a panic mode for bursts, and scale to zero after an idle window.
//! - [`instance`]: one instance of a revision as a process: its invoker on a free
//!   loopback port, started until ready, its last log lines kept, stopped with a drain.
//! - `oci`: one instance of a revision as a container: an OCI image unpacked by `umoci`
//!   and run by `runc` on this machine's network (as root), a process instance of `runc`.
//! - [`logs`]: each function's log, for `motif logs`.
//! - `events`: the broker of [`motif_events`] on the gateway (`broker.localhost`), its
//!   deliveries through the gateway's routes, the triggers and ping sources of every
//!   function.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use motif_serve::{Settings, server::Bound};
//!
//! let settings = Settings::new("/var/lib/motif");
//! let bound = Bound::bind(settings, "127.0.0.1:8080".parse()?, "127.0.0.1:0".parse()?).await?;
//! println!("gateway on {}", bound.endpoints().gateway);
//! bound.run(motif_runtime::signal()).await?;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod artifact;
pub mod autoscale;
mod events;
pub mod gateway;
pub mod instance;
mod loaded;
pub mod logs;
mod oci;
mod revision;
mod runtime;
pub mod server;
pub mod serving;
mod settings;
pub mod store;

pub use revision::{InstanceStatus, RevisionStatus};
pub use settings::Settings;
