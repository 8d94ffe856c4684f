//! The native build: the handler behind `motif-runtime`, on `$PORT`.

use std::process::ExitCode;

use motif_runtime::{Config, Context, Handler, HandlerError, Kind};

use crate::{Error, Event, Hooks, Request, Response};

tokio::task_local! {
    static CALL: Context;
}

pub(crate) fn context() -> crate::Context {
    CALL.try_with(|cx| crate::Context {
        function_name: cx.function.name.clone(),
        revision: cx.function.knative.revision.clone(),
        traceparent: cx.trace.traceparent(),
        remaining: cx
            .deadline
            .saturating_duration_since(std::time::Instant::now()),
    })
    .expect("motif_function::context() is only available while a handler runs")
}

struct CloudEvents<F>(F, Hooks);

impl<F, Fut> Handler for CloudEvents<F>
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Event>, Error>> + Send,
{
    async fn init(&self) -> Result<(), HandlerError> {
        init(self.1).await
    }

    async fn shutdown(&self) {
        shutdown(self.1).await
    }

    async fn handle_event(&self, event: Event, cx: Context) -> Result<Option<Event>, HandlerError> {
        CALL.scope(cx, (self.0)(event))
            .await
            .map_err(into_handler_error)
    }
}

struct Http<F>(F, Hooks);

impl<F, Fut> Handler for Http<F>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, Error>> + Send,
{
    async fn init(&self) -> Result<(), HandlerError> {
        init(self.1).await
    }

    async fn shutdown(&self) {
        shutdown(self.1).await
    }

    async fn handle_http(&self, request: Request, cx: Context) -> Result<Response, HandlerError> {
        CALL.scope(cx, (self.0)(request))
            .await
            .map_err(into_handler_error)
    }
}

async fn init(hooks: Hooks) -> Result<(), HandlerError> {
    match hooks.init {
        Some(init) => init().await.map_err(into_handler_error),
        None => Ok(()),
    }
}

async fn shutdown(hooks: Hooks) {
    if let Some(shutdown) = hooks.shutdown {
        shutdown().await;
    }
}

fn into_handler_error(e: Error) -> HandlerError {
    let status =
        http::StatusCode::from_u16(e.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    HandlerError::with_status(status, e.message)
}

/// Serves a cloudevent handler until SIGTERM; what `cloudevent!` expands to natively.
pub fn serve_cloudevent<F, Fut>(handler: F, hooks: Hooks) -> ExitCode
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Event>, Error>> + Send,
{
    serve(CloudEvents(handler, hooks), Kind::CloudEvent)
}

/// Serves an http handler until SIGTERM; what `http!` expands to natively.
pub fn serve_http<F, Fut>(handler: F, hooks: Hooks) -> ExitCode
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, Error>> + Send,
{
    serve(Http(handler, hooks), Kind::Http)
}

fn serve<H: Handler>(handler: H, kind: Kind) -> ExitCode {
    motif_runtime::mark_process_start();
    motif_runtime::log::init();
    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: invalid setting: {e}");
            eprintln!("hint: see CONTRACT.md §5 for the settings and their units");
            return ExitCode::FAILURE;
        }
    };
    config.kind = kind;
    // Named after the binary unless MOTIF_FUNCTION_NAME or K_SERVICE name it.
    if std::env::var_os("MOTIF_FUNCTION_NAME").is_none()
        && config.knative.service.is_none()
        && let Some(name) = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
    {
        config.name = name;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(motif_runtime::serve(handler, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                eprintln!("  Caused by: {cause}");
                source = cause.source();
            }
            if matches!(e, motif_runtime::ServeError::Bind { .. }) {
                eprintln!(
                    "hint: is another process using $PORT? set PORT to a free port, or 0 to pick one"
                );
            }
            ExitCode::FAILURE
        }
    }
}
