//! One function request: the contract's limits, applied in a deliberate order before the
//! handler runs, and its answer encoded.
//!
//! The order, for every function request:
//! 1. route: `/_/*` is the invoker's; a cloudevent function takes `POST /` only;
//! 2. body: `MOTIF_MAX_BODY` (413), before any slot is taken, so a slow upload holds none;
//! 3. deadline: `MOTIF_TIMEOUT` (504) covers the wait for a slot and the handler;
//! 4. slot: `MOTIF_CONCURRENCY` and its queue (429 with `Retry-After`);
//! 5. decode (cloudevent: 400/415), handler (500), encode (406).
//!
//! These steps live in one function rather than a stack of tower layers: each needs the
//! same state (config, metrics, limiter), each answers with the same problem type, and
//! on the hot path one `async fn` costs less than five boxed services.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use motif_contract::http::{self as binding, Message, Mode};
use motif_contract::media::{self, Accept, CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON};
use motif_contract::{Event, Problem};

use crate::config::{Config, Kind};
use crate::handler::{Context, Handler, HandlerError};
use crate::server::{STARTING, Shared, problem};
use crate::trace::TraceContext;

pub(crate) async fn dispatch<H: Handler>(
    State(s): State<Arc<Shared<H>>>,
    req: Request,
) -> Response {
    if req.uri().path().starts_with("/_/") {
        return problem(&Problem::not_found(format!(
            "`{}` is not an invoker endpoint: /_/live, /_/ready and /_/metrics are",
            req.uri().path()
        )));
    }
    let start = Instant::now();
    let _in_flight = s.metrics.start();
    let res = s.handle(req).await;
    s.metrics.record(res.status().as_u16(), start.elapsed());
    res
}

impl<H: Handler> Shared<H> {
    async fn handle(&self, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        if self.config.kind == Kind::CloudEvent {
            if parts.uri.path() != "/" {
                return problem(&Problem::not_found(format!(
                    "`{}` is not served: a cloudevent function takes POST /",
                    parts.uri.path()
                )));
            }
            match parts.method {
                Method::POST => {}
                Method::OPTIONS => return webhook_preflight(&parts.headers),
                _ => {
                    let mut res = problem(&Problem::method_not_allowed(format!(
                        "{} is not allowed: a cloudevent function takes POST /",
                        parts.method
                    )));
                    res.headers_mut()
                        .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
                    return res;
                }
            }
        }
        if self.state.load(Ordering::Relaxed) == STARTING {
            return problem(&Problem::unavailable("function is starting"));
        }
        let body = match read_body(body, &parts.headers, self.config.max_body).await {
            Ok(b) => b,
            Err(res) => return res,
        };
        let trace = TraceContext::continue_from(
            parts.headers.get("traceparent").map(HeaderValue::as_bytes),
            parts
                .headers
                .get("tracestate")
                .and_then(|v| v.to_str().ok()),
        );
        let timeout = self.config.timeout;
        let cx = Context {
            function: self.function.clone(),
            trace,
            deadline: Instant::now() + timeout,
        };
        let trace_id = cx.trace.id();
        let call = async {
            let _slot = match self.limiter.acquire(&self.metrics).await {
                Ok(slot) => slot,
                Err(_) => return too_many(&self.config),
            };
            match self.config.kind {
                Kind::Http => self.call_http(parts, body, cx).await,
                Kind::CloudEvent => self.call_event(parts, body, cx).await,
            }
        };
        let res = match tokio::time::timeout(timeout, call).await {
            Ok(res) => res,
            Err(_) => problem(&Problem::timeout(timeout.as_secs_f64())),
        };
        if res.status().is_server_error() {
            tracing::warn!(
                %trace_id,
                status = res.status().as_u16(),
                "function request failed"
            );
        }
        res
    }

    async fn call_http(
        &self,
        mut parts: http::request::Parts,
        body: Bytes,
        cx: Context,
    ) -> Response {
        strip_hop_by_hop(&mut parts.headers);
        if !body.is_empty() && !parts.headers.contains_key(header::CONTENT_TYPE) {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(media::OCTET_STREAM),
            );
        }
        let accept = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(Accept::parse);
        let req = http::Request::from_parts(parts, body);
        match unwind(self.handler.handle_http(req, cx)).await {
            Ok(mut res) => {
                // A success the client said it cannot take is a 406 (CONTRACT.md §4);
                // errors pass as they are (RFC 9110 §12.5.1 lets a server ignore Accept).
                let unacceptable = res.headers().get(header::CONTENT_TYPE).and_then(|ct| {
                    let ct = ct.to_str().ok()?;
                    let accept = accept.as_ref()?;
                    (res.status().is_success() && !accept.allows(ct)).then(|| ct.to_owned())
                });
                if let Some(ct) = unacceptable {
                    return problem(&Problem::not_acceptable(format!(
                        "the function responded with `{ct}`, which Accept does not allow"
                    )));
                }
                strip_hop_by_hop(res.headers_mut());
                res.map(Body::from)
            }
            Err(e) => handler_failed(&e, self.config.timeout),
        }
    }

    async fn call_event(&self, parts: http::request::Parts, body: Bytes, cx: Context) -> Response {
        let message = match binding::decode(&parts.headers, body) {
            Ok(m) => m,
            Err(e) => return problem(&Problem::from(&e)),
        };
        let accept = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map_or_else(Accept::any, Accept::parse);
        match message {
            Message::Event(event, mode) => {
                match unwind(self.handler.handle_event(event, cx.clone())).await {
                    Ok(None) => StatusCode::NO_CONTENT.into_response(),
                    Ok(Some(reply)) => encode_reply(traced(reply, &cx.trace), mode, &accept),
                    Err(e) => handler_failed(&e, self.config.timeout),
                }
            }
            Message::Batch(events) => {
                let mut replies = Vec::new();
                for (i, event) in events.into_iter().enumerate() {
                    let id = event.id().to_owned();
                    match unwind(self.handler.handle_event(event, cx.clone())).await {
                        Ok(Some(reply)) => replies.push(traced(reply, &cx.trace)),
                        Ok(None) => {}
                        Err(e) => {
                            let e = HandlerError {
                                message: format!(
                                    "event {i} of the batch (id `{id}`): {}",
                                    e.message
                                ),
                                ..e
                            };
                            return handler_failed(&e, self.config.timeout);
                        }
                    }
                }
                if replies.is_empty() {
                    StatusCode::NO_CONTENT.into_response()
                } else if accept.names(CLOUDEVENTS_BATCH_JSON) {
                    let (headers, body) = binding::encode_batch(&replies);
                    reply(headers, body)
                } else if replies.len() == 1 {
                    encode_reply(replies.pop().expect("one reply"), Mode::Structured, &accept)
                } else {
                    problem(&Problem::not_acceptable(format!(
                        "the batch produced {} reply events; ask for them with `Accept: {CLOUDEVENTS_BATCH_JSON}`",
                        replies.len()
                    )))
                }
            }
        }
    }
}

/// Runs a handler future, turning a panic into the handler's failure: the panic fails
/// this request alone, and the message (the function's own words) reaches the caller.
async fn unwind<T>(call: impl Future<Output = Result<T, HandlerError>>) -> Result<T, HandlerError> {
    use futures_util::FutureExt as _;
    match std::panic::AssertUnwindSafe(call).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            Err(HandlerError::new(format!("function panicked: {message}")))
        }
    }
}

/// Events the handler emits carry the distributed-tracing extension (CONTRACT.md §4),
/// unless it set its own.
fn traced(mut event: Event, trace: &TraceContext) -> Event {
    if event.extension("traceparent").is_none() {
        // Both values are visible ASCII, which every String attribute accepts.
        let _ = event.set_extension("traceparent", trace.traceparent());
        if let Some(state) = trace.tracestate() {
            let _ = event.set_extension("tracestate", state);
        }
    }
    event
}

/// A reply in the request's mode when `Accept` allows it, else in the other single mode,
/// else 406.
fn encode_reply(event: Event, request_mode: Mode, accept: &Accept) -> Response {
    let binary_ok = binding::binary_carries(&event)
        && (event.data().is_none()
            || accept.allows(event.datacontenttype().unwrap_or(media::OCTET_STREAM)));
    let structured_ok = accept.allows(CLOUDEVENTS_JSON);
    let mode = match (request_mode, binary_ok, structured_ok) {
        (Mode::Structured, _, true) | (_, false, true) => Mode::Structured,
        (_, true, _) => Mode::Binary,
        (_, false, false) => {
            return problem(&Problem::not_acceptable(format!(
                "the reply is `{}` in binary mode or `{CLOUDEVENTS_JSON}` in structured mode, and Accept allows neither",
                event.datacontenttype().unwrap_or(media::OCTET_STREAM)
            )));
        }
    };
    let (headers, body) = binding::encode_owned(event, mode);
    reply(headers, body)
}

/// A 200 carrying an encoded event. The headers are moved in whole rather than added to
/// a response one by one.
fn reply(headers: HeaderMap, body: Bytes) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.headers_mut() = headers;
    res
}

/// The CloudEvents webhook abuse-protection handshake (HTTP Webhook 1.0.2 §4).
fn webhook_preflight(headers: &HeaderMap) -> Response {
    let mut res = StatusCode::OK.into_response();
    let h = res.headers_mut();
    h.insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
    if headers.contains_key("webhook-request-origin") {
        h.insert("webhook-allowed-origin", HeaderValue::from_static("*"));
        h.insert("webhook-allowed-rate", HeaderValue::from_static("*"));
    }
    res
}

/// After a body passes the limit, how much more of it is read and thrown away before the
/// 413 is sent, and for how long. Without this "lingering" read the server would close
/// the connection while the client is still sending, and most clients would report a
/// broken pipe instead of the 413 (nginx's `lingering_close` does the same).
const LINGER_BYTES: u64 = 64 * 1024 * 1024;
const LINGER_TIME: Duration = Duration::from_secs(2);

async fn read_body(mut body: Body, headers: &HeaderMap, max: usize) -> Result<Bytes, Response> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut over = declared.is_some_and(|len| len > max as u64);
    // Most bodies arrive in one frame: kept as it is, with no copy.
    let mut first: Option<Bytes> = None;
    let mut rest: Vec<Bytes> = Vec::new();
    let (mut total, mut discarded) = (0usize, 0u64);
    let mut linger_until = None;
    loop {
        let frame = if over {
            let until =
                *linger_until.get_or_insert_with(|| tokio::time::Instant::now() + LINGER_TIME);
            match tokio::time::timeout_at(until, body.frame()).await {
                Ok(frame) => frame,
                Err(_) => break,
            }
        } else {
            body.frame().await
        };
        let Some(frame) = frame else { break };
        let data = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue, // trailers
            },
            Err(e) if over => {
                tracing::debug!("client stopped sending an oversized body: {e}");
                break;
            }
            Err(e) => {
                return Err(problem(&Problem::bad_request(format!(
                    "request body could not be read: {e}"
                ))));
            }
        };
        if over {
            discarded += data.len() as u64;
            if discarded > LINGER_BYTES {
                break;
            }
            continue;
        }
        total += data.len();
        if total > max {
            over = true;
            (first, rest) = (None, Vec::new());
            continue;
        }
        match &first {
            None => first = Some(data),
            Some(_) => rest.push(data),
        }
    }
    if over {
        return Err(problem(&Problem::payload_too_large(max)));
    }
    Ok(match (first, rest.is_empty()) {
        (None, _) => Bytes::new(),
        (Some(only), true) => only,
        (Some(first), false) => {
            let mut all = Vec::with_capacity(total);
            all.extend_from_slice(&first);
            for chunk in &rest {
                all.extend_from_slice(chunk);
            }
            all.into()
        }
    })
}

fn too_many(config: &Config) -> Response {
    let mut res = problem(&Problem::too_many_requests(format!(
        "all {} slots are busy and {} requests are waiting (MOTIF_CONCURRENCY, MOTIF_QUEUE); retry later",
        config.concurrency, config.queue
    )));
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

/// A handler's failure, as the contract's problem for its status where there is one.
fn handler_failed(e: &HandlerError, timeout: Duration) -> Response {
    let detail = e.message.as_str();
    let p = match e.status {
        // A handler that enforces the deadline itself (the wasm host's epoch) answers as
        // the server's own timeout would.
        StatusCode::GATEWAY_TIMEOUT => {
            let mut p = Problem::timeout(timeout.as_secs_f64());
            p.detail = e.message.clone();
            p
        }
        status => Problem::for_status(status, detail),
    };
    problem(&p)
}

/// Removes the connection-scoped headers (RFC 9110 §7.6.1), and those a `Connection`
/// header names: they never pass between client and handler, nor through a proxy.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    const HOP_BY_HOP: [HeaderName; 6] = [
        header::CONNECTION,
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
    ];
    if let Some(named) = headers.get(header::CONNECTION).cloned()
        && let Ok(named) = named.to_str()
    {
        for name in named.split(',') {
            if let Ok(name) = HeaderName::try_from(name.trim()) {
                headers.remove(name);
            }
        }
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
    headers.remove(header::UPGRADE);
}
