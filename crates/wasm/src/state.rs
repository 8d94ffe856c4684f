//! What a Store holds for one request: a deny-by-default WASI context, the `wasi:http`
//! context with the function's outbound allow-list, the call's context for the
//! `motif:function/context` import, and the limits.

use std::sync::Arc;
use std::time::Instant;

use motif_runtime::Context;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::engine::WasmEngine;
use crate::outbound::{AllowedHosts, OutboundHooks};

/// How much a guest may write to stdout or stderr per request; the rest is dropped. The
/// output goes to the function's logs, which are for lines, not dumps.
const LOG_CAPACITY: usize = 64 * 1024;

/// The data of one request's Store.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    http: WasiHttpCtx,
    hooks: OutboundHooks,
    pub(crate) limits: StoreLimits,
    pub(crate) call: Context,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl HostState {
    /// A state with nothing granted: no preopened directories, no environment but
    /// Knative's `K_SERVICE`, `K_CONFIGURATION` and `K_REVISION` when set, no sockets,
    /// no name lookups, stdin empty, stdout and stderr captured for the logs; outbound
    /// HTTP only to `allowed` hosts.
    pub fn new(call: Context, max_memory: usize, allowed: Arc<AllowedHosts>) -> Self {
        let stdout = MemoryOutputPipe::new(LOG_CAPACITY);
        let stderr = MemoryOutputPipe::new(LOG_CAPACITY);
        let mut wasi = WasiCtxBuilder::new();
        // Knative's K_* are the function's own identity, not the host's environment:
        // every shape sees them (CONTRACT.md §8 passes them to commands too).
        for (name, value) in knative_env(&call) {
            wasi.env(name, value);
        }
        let wasi = wasi
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: OutboundHooks {
                allowed,
                function: call.function.name.clone(),
            },
            limits: StoreLimitsBuilder::new()
                .memory_size(max_memory)
                .trap_on_grow_failure(true)
                .build(),
            call,
            stdout,
            stderr,
        }
    }

    /// A Store for one call of a function on `engine`: this state, the memory cap, and
    /// the call's deadline.
    pub(crate) fn store(
        engine: &WasmEngine,
        call: Context,
        allowed: Arc<AllowedHosts>,
    ) -> Store<Self> {
        let deadline = call.deadline;
        let state = Self::new(call, engine.settings().max_memory, allowed);
        let mut store = Store::new(engine.engine(), state);
        store.limiter(|s| &mut s.limits);
        WasmEngine::set_deadline(&mut store, deadline);
        store
    }

    /// Writes what the guest printed to the logs, a line each, with the trace id.
    pub fn flush_logs(&self) {
        for (stream, pipe) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let bytes = pipe.contents();
            for line in String::from_utf8_lossy(&bytes).lines() {
                tracing::info!(
                    target: "function",
                    function = %self.call.function.name,
                    trace_id = %self.call.trace.id(),
                    stream,
                    "{line}"
                );
            }
        }
    }

    /// Milliseconds left before the call's deadline.
    pub fn remaining_ms(&self) -> u64 {
        self.call
            .deadline
            .saturating_duration_since(Instant::now())
            .as_millis() as u64
    }
}

/// Knative's `K_SERVICE`, `K_CONFIGURATION` and `K_REVISION`, those that are set: the
/// only environment a wasm function gets from the host (CONTRACT.md §1).
pub(crate) fn knative_env(call: &Context) -> impl Iterator<Item = (&'static str, &str)> {
    let knative = &call.function.knative;
    [
        ("K_SERVICE", &knative.service),
        ("K_CONFIGURATION", &knative.configuration),
        ("K_REVISION", &knative.revision),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value.as_deref()?)))
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}
