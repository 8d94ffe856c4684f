//! The wasm32-wasip2 build: the handler as a component's export. The host (motif-wasm)
//! does the contract; this side converts between the WIT values and the SDK's types and
//! drives the handler's future.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use motif_contract::Problem;

use crate::{Error, Event, Hooks, Request, Response};

/// The `motif:function` bindings (`invokers/wit`).
#[allow(missing_docs)] // generated; the WIT documents it
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "motif:function/cloudevent-function",
        pub_export_macro: true,
        export_macro_name: "export_cloudevent",
        default_bindings_module: "motif_function::__private::bindings",
    });
}

pub use bindings::export_cloudevent;
pub use bindings::exports::motif::function::handler::Guest as CloudEventGuest;
pub use bindings::motif::function::types::{Error as WitError, Event as WitEvent};
pub use wasip2;
pub use wasip2::exports::http::incoming_handler::Guest as HttpGuest;
pub use wasip2::http::types::{IncomingRequest, ResponseOutparam};

use wasip2::http::types::{Fields, IncomingBody, Method, OutgoingBody, OutgoingResponse};
use wasip2::io::streams::StreamError;

pub(crate) fn context() -> crate::Context {
    use bindings::motif::function::context as host;
    crate::Context {
        function_name: host::function_name(),
        revision: host::revision(),
        traceparent: host::traceparent(),
        remaining: std::time::Duration::from_millis(host::remaining_ms()),
    }
}

/// Runs a cloudevent handler on the event the host passed.
/// An instance serves one request, so the init hook runs before each handler.
pub fn run_cloudevent<F, Fut>(
    event: WitEvent,
    handler: F,
    hooks: Hooks,
) -> Result<Option<WitEvent>, WitError>
where
    F: FnOnce(Event) -> Fut,
    Fut: Future<Output = Result<Option<Event>, Error>>,
{
    let event = from_wit(event).map_err(|e| WitError {
        message: format!("the host passed an invalid event: {e}"),
        status: Some(400),
    })?;
    let run = async {
        init(hooks).await?;
        handler(event).await
    };
    match block_on(run) {
        Ok(reply) => Ok(reply.map(to_wit)),
        Err(e) => Err(WitError {
            status: Some(e.status),
            message: e.message,
        }),
    }
}

/// Runs an http handler on the request the host passed, and sets its response.
/// An instance serves one request, so the init hook runs before each handler.
pub fn run_http<F, Fut>(request: IncomingRequest, out: ResponseOutparam, handler: F, hooks: Hooks)
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response, Error>>,
{
    let response = match read_request(request) {
        Ok(request) => block_on(async {
            init(hooks).await?;
            handler(request).await
        })
        .unwrap_or_else(|e| problem(&e)),
        Err(e) => problem(&Error::with_status(400, e)),
    };
    write_response(out, response);
}

/// Runs the init hook, if any, with its failure as the request's.
async fn init(hooks: Hooks) -> Result<(), Error> {
    match hooks.init {
        Some(init) => init()
            .await
            .map_err(|e| Error::with_status(e.status, format!("init failed: {}", e.message))),
        None => Ok(()),
    }
}

/// Polls `future` to completion. Nothing in a wasm function wakes a task from outside
/// (no timers, no sockets), so a pending future is polled again at once.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::hint::spin_loop();
    }
}

fn problem(e: &Error) -> Response {
    let status =
        http::StatusCode::from_u16(e.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    Problem::for_status(status, e.message.clone()).to_response()
}

fn from_wit(e: WitEvent) -> Result<Event, motif_contract::Error> {
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

fn to_wit(mut event: Event) -> WitEvent {
    let data = event.take_data().map(|d| d.to_vec());
    WitEvent {
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

fn read_request(request: IncomingRequest) -> Result<Request, String> {
    let method = match request.method() {
        Method::Get => http::Method::GET,
        Method::Head => http::Method::HEAD,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Delete => http::Method::DELETE,
        Method::Connect => http::Method::CONNECT,
        Method::Options => http::Method::OPTIONS,
        Method::Trace => http::Method::TRACE,
        Method::Patch => http::Method::PATCH,
        Method::Other(m) => http::Method::from_bytes(m.as_bytes()).map_err(|e| e.to_string())?,
    };
    let mut builder = http::Request::builder()
        .method(method)
        .uri(request.path_with_query().unwrap_or_else(|| "/".into()));
    for (name, value) in request.headers().entries() {
        builder = builder.header(name, value);
    }
    let body = request.consume().map_err(|()| "the body was taken")?;
    let bytes = read_body(&body)?;
    IncomingBody::finish(body);
    builder.body(bytes.into()).map_err(|e| e.to_string())
}

fn read_body(body: &IncomingBody) -> Result<Vec<u8>, String> {
    let stream = body.stream().map_err(|()| "the body stream was taken")?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(bytes),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(format!("reading the body failed: {}", e.to_debug_string()));
            }
        }
    }
}

fn write_response(out: ResponseOutparam, response: Response) {
    let (parts, body) = response.into_parts();
    let headers = Fields::new();
    for (name, value) in &parts.headers {
        // The host refuses forbidden headers (e.g. hop-by-hop ones); skip them.
        let _ = headers.append(name.as_str(), value.as_bytes());
    }
    let outgoing = OutgoingResponse::new(headers);
    let _ = outgoing.set_status_code(parts.status.as_u16());
    let Ok(outgoing_body) = outgoing.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(outgoing));
    let Ok(stream) = outgoing_body.write() else {
        return;
    };
    // The host takes at most 4096 bytes per write without waiting.
    for chunk in body.chunks(4096) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing_body, None);
}
