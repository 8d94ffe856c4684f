//! The one abstraction every function plugs into: the command invoker, the Rust SDK and
//! the WebAssembly host each implement [`Handler`].

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::StatusCode;
use motif_contract::Event;

use crate::config::{Config, Kind};
use crate::trace::TraceContext;

/// A request as an `http` function receives it: the whole body, buffered.
pub type HttpRequest = http::Request<Bytes>;
/// The response an `http` function returns.
pub type HttpResponse = http::Response<Bytes>;

/// A function, as the server calls it.
///
/// The server owns decoding, limits and errors: `handle_event` only ever sees valid
/// CloudEvents, and both methods run under the contract's timeout (a future that runs
/// past it is dropped, so a handler must release what it holds on drop: the command
/// invoker kills its process group).
///
/// Only the method for the function's [`Kind`] is called; the other keeps its default.
pub trait Handler: Send + Sync + 'static {
    /// Runs once before `/_/ready` turns 200 (CONTRACT.md §6; the server caps it at 10 s).
    fn init(&self) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async { Ok(()) }
    }

    /// Runs once on drain, after in-flight requests (capped at 10 s).
    fn shutdown(&self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Handles a request to an `http` function.
    fn handle_http(
        &self,
        request: HttpRequest,
        cx: Context,
    ) -> impl Future<Output = Result<HttpResponse, HandlerError>> + Send {
        let _ = (request, cx);
        async {
            Err(HandlerError::new(
                "this function does not handle plain HTTP requests",
            ))
        }
    }

    /// Handles one event for a `cloudevent` function: `Ok(None)` means no reply.
    fn handle_event(
        &self,
        event: Event,
        cx: Context,
    ) -> impl Future<Output = Result<Option<Event>, HandlerError>> + Send {
        let _ = (event, cx);
        async {
            Err(HandlerError::new(
                "this function does not handle CloudEvents",
            ))
        }
    }
}

/// A shared handler: servers that serve the same function (several functions of one
/// wasm component in `motif serve`) share what it loaded.
impl<H: Handler> Handler for Arc<H> {
    fn init(&self) -> impl Future<Output = Result<(), HandlerError>> + Send {
        (**self).init()
    }

    fn shutdown(&self) -> impl Future<Output = ()> + Send {
        (**self).shutdown()
    }

    fn handle_http(
        &self,
        request: HttpRequest,
        cx: Context,
    ) -> impl Future<Output = Result<HttpResponse, HandlerError>> + Send {
        (**self).handle_http(request, cx)
    }

    fn handle_event(
        &self,
        event: Event,
        cx: Context,
    ) -> impl Future<Output = Result<Option<Event>, HandlerError>> + Send {
        (**self).handle_event(event, cx)
    }
}

/// What a handler knows about the call it is serving.
#[derive(Debug, Clone)]
pub struct Context {
    /// The function this process serves.
    pub function: Arc<FunctionInfo>,
    /// The trace this call belongs to; the handler runs as its span.
    pub trace: TraceContext,
    /// When the server gives up on this call (`MOTIF_TIMEOUT`).
    pub deadline: Instant,
}

/// The function's identity, for handlers and logs.
#[derive(Debug, Clone)]
pub struct FunctionInfo {
    /// Its name (`MOTIF_FUNCTION_NAME`, else `K_SERVICE`).
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// `K_SERVICE`, `K_CONFIGURATION`, `K_REVISION` when Knative set them.
    pub knative: crate::config::KnativeEnv,
}

impl FunctionInfo {
    pub(crate) fn from_config(config: &Config) -> Self {
        Self {
            name: config.name.clone(),
            kind: config.kind,
            knative: config.knative.clone(),
        }
    }
}

/// A handler that failed: the client gets its message as the problem's `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    /// Said to the caller, so it must not hold secrets or a host stack trace.
    pub message: String,
    /// 500 unless the handler says otherwise.
    pub status: StatusCode,
}

impl HandlerError {
    /// A failure answered with 500.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A failure answered with `status` (4xx or 5xx; anything else becomes 500).
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        let status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        Self {
            message: message.into(),
            status,
        }
    }
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HandlerError {}
