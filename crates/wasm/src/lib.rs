//! The wasmtime host: serves WebAssembly functions behind `motif-runtime`.
//!
//! A function is a component exporting `motif:function/handler` (a cloudevent function,
//! see `invokers/wit`). Each request gets a fresh instance from a pre-instantiated
//! component, in a Store with a memory cap (`MOTIF_MAX_MEMORY`) and an epoch deadline
//! (`MOTIF_TIMEOUT`), and with nothing granted: no files, no environment, no sockets.
//! Compiled artifacts are cached on disk, keyed by the wasm's digest and the engine's
//! compatibility hash, so the request path never compiles.
//!
//! It is not a server: [`CloudEventFunction`] is a [`motif_runtime::Handler`], served by
//! `motif-runtime` like every other function.

#![deny(missing_docs)]

#[allow(unsafe_code)] // loads artifacts this cache wrote; see its Safety section
pub mod cache;
mod cloudevent;
pub mod detect;
mod engine;
mod function;
mod state;
mod trap;

pub use cloudevent::{CloudEventFunction, EXPORT as CLOUDEVENT_EXPORT};
pub use engine::{DEFAULT_MAX_MEMORY, EPOCH_TICK, EngineSettings, WasmEngine};
pub use function::{LoadError, WasmFunction};
pub use state::HostState;
