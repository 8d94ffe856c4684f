//! The server every motif function runs behind, whatever its language or packaging.
//!
//! It implements the function contract (CONTRACT.md §1-6): `$PORT`, the invoker's
//! endpoints `/_/live`, `/_/ready` and `/_/metrics`, the `MOTIF_TIMEOUT`,
//! `MOTIF_CONCURRENCY`/`MOTIF_QUEUE` and `MOTIF_MAX_BODY` limits, CloudEvents decoding and
//! encoding in every mode, problem+json for every error, `traceparent` continuation,
//! init and shutdown hooks, and SIGTERM drain. A function is anything that implements
//! [`Handler`]; this crate brings one, [`Command`] (CONTRACT.md §8), and the binary
//! `motif-invoker` that serves it. It is not the gateway or autoscaler in front of
//! functions: that is Knative, or `motif serve`.
//!
//! ```no_run
//! use motif_runtime::{Config, Context, Handler, HandlerError, HttpRequest, HttpResponse};
//!
//! struct Echo;
//!
//! impl Handler for Echo {
//!     async fn handle_http(&self, req: HttpRequest, _cx: Context) -> Result<HttpResponse, HandlerError> {
//!         Ok(http::Response::new(req.into_body()))
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! motif_runtime::serve(Echo, Config::from_env()?).await?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod cgi;
mod command;
mod config;
mod dispatch;
mod handler;
mod limit;
pub mod log;
mod metrics;
mod server;
mod trace;

pub use command::Command;
pub use config::{Config, ConfigError, Kind, KnativeEnv};
pub use dispatch::strip_hop_by_hop;
pub use handler::{Context, FunctionInfo, Handler, HandlerError, HttpRequest, HttpResponse};
pub use metrics::Metrics;
pub use server::{HOOK_TIMEOUT, ServeError, Server, mark_process_start, serve, signal};
pub use trace::{TraceContext, TraceId};
