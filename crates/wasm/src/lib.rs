//! The wasmtime host: serves WebAssembly functions behind `motif-runtime`.
//!
//! A function is one of three shapes: a component exporting `motif:function/handler` (a
//! cloudevent function, see `invokers/wit`); a `wasi:http` 0.2 proxy component (an http
//! function; any component built for `wasmtime serve` or Spin); or a WASI preview 1
//! command module (the command contract). Each request gets a fresh instance from a
//! pre-instantiated component, in a Store with a memory cap (`MOTIF_MAX_MEMORY`) and an
//! epoch deadline (`MOTIF_TIMEOUT`), and with nothing granted: no files, no environment,
//! no sockets, and outbound HTTP only to the hosts of the function's [`AllowedHosts`].
//! Compiled artifacts are cached on disk, keyed by the wasm's digest and the engine's
//! compatibility hash, so the request path never compiles.
//!
//! `wasi:http` 0.3 is not served: on the 48 line it needs wasmtime's experimental
//! component-model-async support.
//!
//! It is not a server: [`CloudEventFunction`], [`HttpProxyFunction`] and [`CommandModule`] are
//! [`motif_runtime::Handler`]s, served by `motif-runtime` like every other function.

#![deny(missing_docs)]

#[allow(unsafe_code)] // loads artifacts this cache wrote; see its Safety section
pub mod cache;
mod cloudevent;
mod command;
pub mod detect;
mod engine;
mod function;
mod http;
pub mod outbound;
mod state;
mod trap;

pub use cloudevent::{CloudEventFunction, EXPORT as CLOUDEVENT_EXPORT};
pub use command::CommandModule;
pub use engine::{DEFAULT_MAX_MEMORY, EPOCH_TICK, EngineSettings, WasmEngine};
pub use function::{LoadError, WasmFunction};
pub use http::{EXPORT_PREFIX as HTTP_EXPORT_PREFIX, HttpProxyFunction};
pub use outbound::AllowedHosts;
pub use state::HostState;
