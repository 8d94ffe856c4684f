//! The `motif:function/cloudevent-function` world: the host decodes the event, the
//! guest's `handler.handle` runs in a fresh instance, and the host checks and encodes
//! the reply.

use std::sync::Arc;

use http::StatusCode;
use motif_contract::Event;
use motif_runtime::{Context, Handler, HandlerError};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, HasSelf, Linker};

use crate::engine::WasmEngine;
use crate::outbound::AllowedHosts;
use crate::state::HostState;
use crate::trap;

wasmtime::component::bindgen!({
    path: "../../invokers/wit",
    world: "motif:function/cloudevent-function",
    exports: { default: async },
});

use motif::function::types as guest;

/// The name of the interface a cloudevent function exports.
pub const EXPORT: &str = "motif:function/handler@0.1.0";

impl motif::function::context::Host for HostState {
    fn function_name(&mut self) -> String {
        self.call.function.name.clone()
    }
    fn revision(&mut self) -> Option<String> {
        self.call.function.knative.revision.clone()
    }
    fn traceparent(&mut self) -> String {
        self.call.trace.traceparent()
    }
    fn remaining_ms(&mut self) -> u64 {
        HostState::remaining_ms(self)
    }
}

impl motif::function::types::Host for HostState {}

/// Adds `motif:function/context` to `linker`: http functions import it too.
pub(crate) fn add_context_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    motif::function::context::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
}

/// A cloudevent function, pre-instantiated: each call instantiates it afresh.
pub struct CloudEventFunction {
    pre: CloudeventFunctionPre<HostState>,
    engine: WasmEngine,
    slots: Arc<Semaphore>,
    allowed: Arc<AllowedHosts>,
}

impl CloudEventFunction {
    /// Links `component` against WASI, `wasi:http` (for outbound requests) and
    /// `motif:function/context`, and pre-instantiates it, so that a request only
    /// allocates and runs.
    pub fn new(engine: &WasmEngine, component: &Component) -> wasmtime::Result<Self> {
        let mut linker = Linker::<HostState>::new(engine.engine());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        CloudeventFunction::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        let pre = CloudeventFunctionPre::new(linker.instantiate_pre(component)?)?;
        Ok(Self {
            pre,
            engine: engine.clone(),
            slots: engine.slots(),
            allowed: Arc::new(AllowedHosts::none()),
        })
    }

    /// Lets the function send HTTP requests to `allowed` hosts (none by default).
    pub fn with_allowed_hosts(mut self, allowed: AllowedHosts) -> Self {
        self.allowed = Arc::new(allowed);
        self
    }

    async fn call(&self, event: Event, cx: Context) -> Result<Option<Event>, HandlerError> {
        // The pool has a fixed number of slots: wait for one rather than fail.
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut store = HostState::store(&self.engine, cx, self.allowed.clone());
        let result = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            instance
                .motif_function_handler()
                .call_handle(&mut store, &to_guest(event))
                .await
        }
        .await;
        store.data().flush_logs();
        match result {
            Ok(Ok(Some(reply))) => from_guest(reply).map(Some).map_err(|e| {
                HandlerError::new(format!("the function returned an invalid event: {e}"))
            }),
            Ok(Ok(None)) => Ok(None),
            Ok(Err(e)) => Err(match e.status.and_then(|s| StatusCode::from_u16(s).ok()) {
                Some(status) => HandlerError::with_status(status, e.message),
                None => HandlerError::new(e.message),
            }),
            Err(e) => Err(trap::to_handler_error(&e)),
        }
    }
}

impl Handler for CloudEventFunction {
    async fn handle_event(&self, event: Event, cx: Context) -> Result<Option<Event>, HandlerError> {
        self.call(event, cx).await
    }
}

fn to_guest(mut event: Event) -> guest::Event {
    let data = event.take_data().map(|d| d.to_vec());
    guest::Event {
        id: event.id().to_owned(),
        source: event.source().to_owned(),
        type_: event.ty().to_owned(),
        datacontenttype: event.datacontenttype().map(str::to_owned),
        dataschema: event.dataschema().map(str::to_owned),
        subject: event.subject().map(str::to_owned),
        time: event.time().map(str::to_owned),
        extensions: event
            .extensions()
            .map(|(k, v)| (k.to_owned(), v.to_canonical().into_owned()))
            .collect(),
        data,
    }
}

fn from_guest(e: guest::Event) -> Result<Event, motif_contract::Error> {
    let mut b = Event::builder(e.id, e.source, e.type_);
    if let Some(v) = e.dataschema {
        b = b.dataschema(v);
    }
    if let Some(v) = e.subject {
        b = b.subject(v);
    }
    if let Some(v) = e.time {
        b = b.time(v);
    }
    for (k, v) in e.extensions {
        b = b.extension(k, v);
    }
    b = match (e.datacontenttype, e.data) {
        (Some(ct), Some(data)) => b.data(ct, data),
        (None, Some(data)) => b.data_untyped(data),
        (Some(ct), None) => b.data(ct, Vec::new()),
        (None, None) => b,
    };
    b.build()
}
