//! The function side of `scripts/bench-runtime.sh`: an echo function served by
//! `motif_runtime::serve`, with every setting from the environment as in production
//! (`PORT`, `MOTIF_HOST`, `MOTIF_FUNCTION_KIND`, and the contract's defaults for the
//! timeout, concurrency, body limit and drain).
//!
//! - `http` kind: answers 200 with the request body and, when the request had one, its
//!   `Content-Type`.
//! - `cloudevent` kind: returns the decoded event unchanged (`Ok(Some(event))`); the
//!   runtime decodes and validates it, adds the `traceparent` extension, and encodes the
//!   reply in the request's mode (binary mode for the benchmark's request).
//!
//! Logs go through `motif_runtime::log::init()` at its default level (`info`), which
//! writes nothing per successful request.

use motif_contract::Event;
use motif_runtime::{Config, Context, Handler, HandlerError, HttpRequest, HttpResponse};

/// Echoes what it is given.
struct Echo;

impl Handler for Echo {
    async fn handle_http(
        &self,
        request: HttpRequest,
        _cx: Context,
    ) -> Result<HttpResponse, HandlerError> {
        let content_type = request.headers().get(http::header::CONTENT_TYPE).cloned();
        let mut response = http::Response::new(request.into_body());
        if let Some(ct) = content_type {
            response
                .headers_mut()
                .insert(http::header::CONTENT_TYPE, ct);
        }
        Ok(response)
    }

    async fn handle_event(
        &self,
        event: Event,
        _cx: Context,
    ) -> Result<Option<Event>, HandlerError> {
        Ok(Some(event))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    motif_runtime::mark_process_start();
    motif_runtime::log::init();
    let config = Config::from_env()?;
    motif_runtime::serve(Echo, config).await?;
    Ok(())
}
