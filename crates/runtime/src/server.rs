//! The function server's life: listening, the invoker's endpoints under `/_/`, the init
//! hook before ready, and the drain on SIGTERM. Each function request goes through
//! [`crate::dispatch`].

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{self};
use motif_contract::Problem;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::handler::{FunctionInfo, Handler, HandlerError};
use crate::limit::Limiter;
use crate::metrics::Metrics;

/// How long an init or shutdown hook may run (CONTRACT.md §6).
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) const STARTING: u8 = 0;
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

pub(crate) struct Shared<H> {
    pub(crate) handler: H,
    pub(crate) config: Config,
    pub(crate) function: Arc<FunctionInfo>,
    pub(crate) metrics: Metrics,
    pub(crate) limiter: Limiter,
    pub(crate) state: AtomicU8,
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
            .fallback(crate::dispatch::dispatch::<H>)
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

pub(crate) fn problem(p: &Problem) -> Response {
    p.to_response().map(Body::from)
}
