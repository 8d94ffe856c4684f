//! The function server: contract endpoints under `/_/`, and one dispatch path that applies
//! the contract's limits in a deliberate order before the handler runs.
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

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use motif_contract::http::{self as binding, Message, Mode};
use motif_contract::media::{self, Accept, CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON};
use motif_contract::{Event, Problem};
use tokio::net::TcpListener;

use crate::config::{Config, Kind};
use crate::handler::{Context, FunctionInfo, Handler, HandlerError};
use crate::limit::Limiter;
use crate::metrics::Metrics;
use crate::trace::TraceContext;

/// How long an init or shutdown hook may run (CONTRACT.md §6).
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

const STARTING: u8 = 0;
const READY: u8 = 1;
const DRAINING: u8 = 2;

/// Why a server stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The init hook failed.
    #[error("init hook failed: {0}")]
    Init(HandlerError),
    /// The init hook ran past its cap.
    #[error("init hook did not finish within {}s", HOOK_TIMEOUT.as_secs())]
    InitTimeout,
    /// The server itself failed.
    #[error("server failed")]
    Io(#[source] std::io::Error),
}

static PROCESS_START: OnceLock<Instant> = OnceLock::new();

/// Notes the moment the process started, for `motif_cold_start_seconds`; call it first
/// thing in `main`. Without it, the cold start is measured from [`Server::new`].
pub fn mark_process_start() {
    PROCESS_START.get_or_init(Instant::now);
}

/// A function server for one handler.
pub struct Server<H> {
    shared: Arc<Shared<H>>,
}

struct Shared<H> {
    handler: H,
    config: Config,
    function: Arc<FunctionInfo>,
    metrics: Metrics,
    limiter: Limiter,
    state: AtomicU8,
}

impl<H: Handler> Server<H> {
    /// A server for `handler`, not yet listening.
    pub fn new(handler: H, config: Config) -> Self {
        PROCESS_START.get_or_init(Instant::now);
        Self {
            shared: Arc::new(Shared {
                function: Arc::new(FunctionInfo::from_config(&config)),
                limiter: Limiter::new(config.concurrency, config.queue),
                metrics: Metrics::default(),
                state: AtomicU8::new(STARTING),
                handler,
                config,
            }),
        }
    }

    /// The router, for driving the server without a socket (tests use
    /// `tower::ServiceExt::oneshot`). It answers 503 until [`Server::init`] succeeds.
    pub fn router(&self) -> Router {
        let not_allowed = || async {
            problem(&Problem::method_not_allowed(
                "the invoker's endpoints take GET",
            ))
        };
        Router::new()
            .route("/_/live", get(live).fallback(not_allowed))
            .route("/_/ready", get(ready::<H>).fallback(not_allowed))
            .route("/_/metrics", get(metrics::<H>).fallback(not_allowed))
            .fallback(dispatch::<H>)
            .with_state(self.shared.clone())
    }

    /// Runs the init hook (capped at 10 s) and marks the function ready.
    pub async fn init(&self) -> Result<(), ServeError> {
        match tokio::time::timeout(HOOK_TIMEOUT, self.shared.handler.init()).await {
            Err(_) => return Err(ServeError::InitTimeout),
            Ok(Err(e)) => return Err(ServeError::Init(e)),
            Ok(Ok(())) => {}
        }
        self.shared.state.store(READY, Ordering::SeqCst);
        let start = PROCESS_START.get().copied().unwrap_or_else(Instant::now);
        self.shared.metrics.set_cold_start(start.elapsed());
        Ok(())
    }

    /// Serves on `listener` until `shutdown` resolves, then drains (CONTRACT.md §1):
    /// `/_/ready` turns 503 at once; requests keep being served until none is in flight
    /// or `MOTIF_DRAIN_SECONDS` pass; then new connections are refused, the shutdown hook
    /// runs (capped at 10 s), and this returns.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let addr = listener.local_addr().map_err(ServeError::Io)?;
        let shared = self.shared.clone();
        tracing::info!(
            %addr,
            function = %shared.function.name,
            kind = ?shared.config.kind,
            k_service = shared.config.knative.service.as_deref(),
            k_configuration = shared.config.knative.configuration.as_deref(),
            k_revision = shared.config.knative.revision.as_deref(),
            "listening"
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(listener, self.router())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future();
        let mut server = tokio::spawn(server);

        tokio::select! {
            init = self.init() => init?,
            res = &mut server => {
                return res.map_err(|e| ServeError::Io(std::io::Error::other(e)))?.map_err(ServeError::Io);
            }
        }
        tracing::info!("ready");

        shutdown.await;
        shared.state.store(DRAINING, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + shared.config.drain;
        tracing::info!(in_flight = shared.metrics.in_flight(), "draining");
        while shared.metrics.in_flight() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = stop.send(());
        // Connections close as their last response is written; one still busy when the
        // window ends is abandoned with the process.
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if tokio::time::timeout(left.max(Duration::from_millis(100)), &mut server)
            .await
            .is_err()
        {
            tracing::warn!(
                in_flight = shared.metrics.in_flight(),
                "drain window ended with requests in flight"
            );
        }
        if tokio::time::timeout(HOOK_TIMEOUT, shared.handler.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                "shutdown hook did not finish within {}s",
                HOOK_TIMEOUT.as_secs()
            );
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Binds `$PORT` and serves until SIGTERM or SIGINT, then drains: the whole life of a
/// function process.
pub async fn serve<H: Handler>(handler: H, config: Config) -> Result<(), ServeError> {
    let addr = SocketAddr::new(config.host, config.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    Server::new(handler, config).run(listener, signal()).await
}

/// Resolves on SIGTERM (how Knative and `motif serve` stop a function) or SIGINT.
pub async fn signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler installs");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

async fn live() -> &'static str {
    "ok"
}

async fn ready<H>(State(s): State<Arc<Shared<H>>>) -> Response {
    match s.state.load(Ordering::SeqCst) {
        READY => "ok".into_response(),
        DRAINING => problem(&Problem::unavailable("function is draining")),
        _ => problem(&Problem::unavailable("function is starting")),
    }
}

async fn metrics<H>(State(s): State<Arc<Shared<H>>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

async fn dispatch<H: Handler>(State(s): State<Arc<Shared<H>>>, req: Request) -> Response {
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
        let trace_id = cx.trace.trace_id();
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
                trace_id,
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
        let req = http::Request::from_parts(parts, body);
        match unwind(self.handler.handle_http(req, cx)).await {
            Ok(mut res) => {
                strip_hop_by_hop(res.headers_mut());
                res.map(Body::from)
            }
            Err(e) => handler_failed(&e),
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
                    Err(e) => handler_failed(&e),
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
                            return handler_failed(&e);
                        }
                    }
                }
                if replies.is_empty() {
                    StatusCode::NO_CONTENT.into_response()
                } else if accept.names(CLOUDEVENTS_BATCH_JSON) {
                    let (headers, body) = binding::encode_batch(&replies);
                    (StatusCode::OK, headers, body).into_response()
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
    let binary_ok = event.data().is_none()
        || accept.allows(event.datacontenttype().unwrap_or(media::OCTET_STREAM));
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
    let (headers, body) = binding::encode(&event, mode);
    (StatusCode::OK, headers, body).into_response()
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
    let mut chunks: Vec<Bytes> = Vec::new();
    let (mut total, mut discarded) = (0usize, 0u64);
    let linger_until = tokio::time::Instant::now() + LINGER_TIME;
    loop {
        let frame = if over {
            match tokio::time::timeout_at(linger_until, body.frame()).await {
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
            chunks.clear();
            continue;
        }
        chunks.push(data);
    }
    if over {
        return Err(problem(&Problem::payload_too_large(max)));
    }
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.pop().expect("one chunk"),
        _ => chunks.concat().into(),
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
fn handler_failed(e: &HandlerError) -> Response {
    let detail = e.message.as_str();
    let p = match e.status {
        StatusCode::INTERNAL_SERVER_ERROR => Problem::handler_failed(detail),
        StatusCode::BAD_REQUEST => Problem::bad_request(detail),
        StatusCode::NOT_FOUND => Problem::not_found(detail),
        StatusCode::METHOD_NOT_ALLOWED => Problem::method_not_allowed(detail),
        StatusCode::NOT_ACCEPTABLE => Problem::not_acceptable(detail),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::unsupported_media_type(detail),
        StatusCode::SERVICE_UNAVAILABLE => Problem::unavailable(detail),
        status => Problem::new(status, "function-error", "Function error", detail),
    };
    problem(&p)
}

pub(crate) fn problem(p: &Problem) -> Response {
    p.to_response().map(Body::from)
}

/// Connection-scoped headers (RFC 9110 §7.6.1) never pass between client and handler.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
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
    headers.remove(header::UPGRADE);
}
