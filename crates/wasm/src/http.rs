//! `wasi:http` 0.2 proxy components: any component built for `wasmtime serve` or Spin,
//! served as an http function. Each request gets a fresh instance; the guest's
//! response body is collected (up to a cap) while it runs.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use motif_runtime::{Context, Handler, HandlerError, HttpRequest, HttpResponse};
use tokio::sync::{Semaphore, oneshot};
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::engine::WasmEngine;
use crate::outbound::AllowedHosts;
use crate::state::HostState;
use crate::trap;

/// The name of the interface an http function exports (any 0.2.x).
pub const EXPORT_PREFIX: &str = "wasi:http/incoming-handler@0.2";

/// A `wasi:http` proxy component, pre-instantiated: each call instantiates it afresh.
pub struct HttpProxyFunction {
    pre: ProxyPre<HostState>,
    engine: WasmEngine,
    slots: Arc<Semaphore>,
    allowed: Arc<AllowedHosts>,
    max_response: usize,
}

impl HttpProxyFunction {
    /// Links `component` against WASI, `wasi:http` and `motif:function/context` (which
    /// components of the `http-function` world import), and pre-instantiates it.
    /// Responses larger than `max_response` bytes are refused with a 500.
    pub fn new(
        engine: &WasmEngine,
        component: &Component,
        max_response: usize,
    ) -> wasmtime::Result<Self> {
        let mut linker = Linker::<HostState>::new(engine.engine());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        crate::cloudevent::add_context_to_linker(&mut linker)?;
        let pre = ProxyPre::new(linker.instantiate_pre(component)?)?;
        Ok(Self {
            pre,
            engine: engine.clone(),
            slots: engine.slots(),
            allowed: Arc::new(AllowedHosts::none()),
            max_response,
        })
    }

    /// Lets the function send HTTP requests to `allowed` hosts (none by default).
    pub fn with_allowed_hosts(mut self, allowed: AllowedHosts) -> Self {
        self.allowed = Arc::new(allowed);
        self
    }

    async fn call(&self, request: HttpRequest, cx: Context) -> Result<HttpResponse, HandlerError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut store = HostState::store(&self.engine, cx, self.allowed.clone());

        let (sender, receiver) = oneshot::channel();
        let resources = (|| -> wasmtime::Result<_> {
            let mut http = store.data_mut().http();
            let request = http.new_incoming_request(Scheme::Http, incoming(request))?;
            let out = http.new_response_outparam(sender)?;
            Ok((request, out))
        })();
        let (request, out) =
            resources.map_err(|e| HandlerError::new(format!("cannot pass the request: {e:#}")))?;

        // The guest writes the body while `handle` runs, so the body is read alongside
        // the call, not after it.
        let (response, called) = {
            let call = async {
                let proxy = self.pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, request, out)
                    .await
            };
            let response = async {
                match receiver.await {
                    Ok(Ok(response)) => Some(collect(response, self.max_response).await),
                    Ok(Err(code)) => Some(Err(HandlerError::new(format!(
                        "the function answered with an error: {code:?}"
                    )))),
                    // The guest dropped its response-outparam without setting it.
                    Err(_) => None,
                }
            };
            tokio::pin!(call, response);
            tokio::select! {
                response = &mut response => (response, call.await),
                called = &mut call => match called {
                    Ok(()) => (response.await, Ok(())),
                    // A trap: the response counts only if it is already complete (then
                    // reading it takes one poll; otherwise its writer lives in the store).
                    Err(e) => {
                        let complete = tokio::select! {
                            biased;
                            response = &mut response => response,
                            () = std::future::ready(()) => None,
                        };
                        (complete.filter(Result::is_ok), Err(e))
                    }
                },
            }
        };
        store.data().flush_logs();
        match (response, called) {
            (Some(Ok(response)), called) => {
                if let Err(e) = called {
                    // Complete before the guest failed: the caller has its answer.
                    tracing::warn!("the function failed after its response: {e:#}");
                }
                Ok(response)
            }
            (_, Err(e)) => Err(trap::to_handler_error(&e)),
            (Some(Err(e)), Ok(())) => Err(e),
            (None, Ok(())) => Err(HandlerError::new(
                "the function returned without setting a response",
            )),
        }
    }
}

impl Handler for HttpProxyFunction {
    async fn handle_http(
        &self,
        request: HttpRequest,
        cx: Context,
    ) -> Result<HttpResponse, HandlerError> {
        self.call(request, cx).await
    }
}

/// The request as `wasi:http` takes it: a body that cannot fail, and an authority
/// (from `Host`; `localhost` for an HTTP/1.0 client that sent none).
fn incoming(
    request: HttpRequest,
) -> http::Request<impl http_body::Body<Data = Bytes, Error = wasmtime_wasi_http::Error>> {
    let (mut parts, body) = request.into_parts();
    if parts.uri.authority().is_none() && !parts.headers.contains_key(http::header::HOST) {
        parts
            .headers
            .insert(http::header::HOST, HeaderValue::from_static("localhost"));
    }
    let body = Full::new(body).map_err(|never: Infallible| match never {});
    http::Request::from_parts(parts, body)
}

/// Reads the guest's response whole, refusing one larger than `max` bytes.
async fn collect(
    response: http::Response<HyperOutgoingBody>,
    max: usize,
) -> Result<HttpResponse, HandlerError> {
    let (parts, body) = response.into_parts();
    match Limited::new(body, max).collect().await {
        Ok(body) => Ok(http::Response::from_parts(parts, body.to_bytes())),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(HandlerError::new(format!(
            "the function's response is larger than {max} bytes"
        ))),
        Err(e) => Err(HandlerError::with_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the function's response body failed: {e}"),
        )),
    }
}
