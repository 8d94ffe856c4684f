//! WASI preview 1 command modules (CONTRACT.md §7 and §8): the command contract in a
//! sandbox. One instance per request runs `_start`, with the request body on stdin, the
//! CGI environment (and `CE_*` attributes) as its only environment, stdout as the
//! response, and stderr into the logs.

use std::ffi::OsString;
use std::sync::Arc;

use bytes::Bytes;
use motif_contract::Event;
use motif_runtime::cgi::{self, Output, Run};
use motif_runtime::{Context, Handler, HandlerError, HttpRequest, HttpResponse};
use tokio::sync::Semaphore;
use wasmtime::{InstancePre, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

use crate::engine::WasmEngine;
use crate::trap;

/// What stderr may hold per request; it is for log lines.
const STDERR_CAPACITY: usize = 64 * 1024;

struct P1State {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
}

/// A preview 1 command module, pre-instantiated.
pub struct CommandModule {
    pre: InstancePre<P1State>,
    engine: WasmEngine,
    slots: Arc<Semaphore>,
    output: Output,
    max_output: usize,
}

impl CommandModule {
    /// Links `module` against WASI preview 1 and pre-instantiates it. `output` says what
    /// its stdout is; more than `max_output` bytes of it fail the call.
    pub fn new(
        engine: &WasmEngine,
        module: &Module,
        output: Output,
        max_output: usize,
    ) -> wasmtime::Result<Self> {
        let mut linker = Linker::<P1State>::new(engine.engine());
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s| &mut s.wasi)?;
        let pre = linker.instantiate_pre(module)?;
        Ok(Self {
            pre,
            engine: engine.clone(),
            slots: engine.slots(),
            output,
            max_output,
        })
    }

    /// One fresh instance running `_start`.
    async fn instantiate_and_start(
        &self,
        env: Vec<(OsString, OsString)>,
        stdin: Bytes,
        cx: &Context,
    ) -> Result<Vec<u8>, HandlerError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let stdout = MemoryOutputPipe::new(self.max_output);
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdin(MemoryInputPipe::new(stdin))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .args(&[cx.function.name.as_str()])
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .env("TRACEPARENT", cx.trace.traceparent());
        for (k, v) in &env {
            wasi.env(k.to_string_lossy(), v.to_string_lossy());
        }
        // Nothing is inherited but what the contract hands every function (§1).
        for (k, v) in crate::state::knative_env(cx) {
            wasi.env(k, v);
        }
        let state = P1State {
            wasi: wasi.build_p1(),
            limits: StoreLimitsBuilder::new()
                .memory_size(self.engine.settings().max_memory)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(self.engine.engine(), state);
        store.limiter(|s| &mut s.limits);
        WasmEngine::set_deadline(&mut store, cx.deadline);
        let result = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
            start.call_async(&mut store, ()).await
        }
        .await;
        let errors = String::from_utf8_lossy(&stderr.contents()).into_owned();
        for line in errors.lines() {
            tracing::info!(
                target: "function",
                function = %cx.function.name,
                trace_id = %cx.trace.id(),
                stream = "stderr",
                "{line}"
            );
        }
        let code = match result {
            Ok(()) => 0,
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(exit) => exit.0,
                None => return Err(trap::to_handler_error(&e)),
            },
        };
        if code != 0 {
            let last = errors.lines().rev().find(|l| !l.trim().is_empty());
            return Err(HandlerError::new(cgi::exited(code, last)));
        }
        Ok(stdout.contents().to_vec())
    }
}

impl Handler for CommandModule {
    async fn handle_http(
        &self,
        request: HttpRequest,
        cx: Context,
    ) -> Result<HttpResponse, HandlerError> {
        cgi::handle_http(self, request, cx).await
    }

    async fn handle_event(&self, event: Event, cx: Context) -> Result<Option<Event>, HandlerError> {
        cgi::handle_event(self, event, cx).await
    }
}

impl Run for CommandModule {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(
        &self,
        env: Vec<(OsString, OsString)>,
        stdin: Bytes,
        cx: &Context,
    ) -> Result<Vec<u8>, HandlerError> {
        self.instantiate_and_start(env, stdin, cx).await
    }
}
