//! The Rust SDK of motif: write one handler, build it natively or to WebAssembly.
//!
//! A function is a binary crate with one handler and one macro line:
//!
//! ```no_run
//! use motif_function::{Error, Event};
//!
//! async fn handle(event: Event) -> Result<Option<Event>, Error> {
//!     let text = std::str::from_utf8(event.data().map_or(&[][..], |d| d))
//!         .map_err(|_| Error::with_status(400, "the data is not UTF-8"))?;
//!     let reply = Event::builder(format!("{}-reply", event.id()), "/uppercase", "uppercased")
//!         .data("text/plain", text.to_uppercase())
//!         .build()?;
//!     Ok(Some(reply))
//! }
//!
//! motif_function::cloudevent!(handle);
//! ```
//!
//! An http function takes a request instead, and is declared with [`http!`]:
//!
//! ```no_run
//! use motif_function::{Error, Request, Response};
//!
//! async fn handle(request: Request) -> Result<Response, Error> {
//!     let name = std::str::from_utf8(request.body()).unwrap_or("world");
//!     Ok(Response::new(format!("hello, {name}\n").into()))
//! }
//!
//! motif_function::http!(handle);
//! ```
//!
//! # Two builds, one source
//!
//! - **Native** (`cargo build --release`): the macro writes `main`, which serves the
//!   handler behind `motif-runtime` on `$PORT`, the whole contract included (health,
//!   metrics, limits, drain, CloudEvents decoding and encoding, problem+json errors).
//!   `cargo run --example uppercase` in this crate runs the first example above.
//! - **WebAssembly** (`cargo build --release --target wasm32-wasip2`): the macro exports
//!   the handler as a component. A cloudevent function exports the `motif:function`
//!   world (`invokers/wit`); an http function exports `wasi:http/incoming-handler`, so
//!   `wasmtime serve -S cli` runs it as well as `motif-invoker --wasm` (a binary crate
//!   imports `wasi:cli`, which `wasmtime serve` grants only with `-S cli`). The host does the
//!   contract; each request runs in a fresh instance.
//!
//! The same binary crate builds both ways; only the target differs:
//!
//! ```text
//! cargo run --example uppercase                          # native, on $PORT (8080)
//! cargo build --release --example uppercase --target wasm32-wasip2
//! motif-invoker --wasm target/wasm32-wasip2/release/examples/uppercase.wasm
//! ```
//!
//! # Lifecycle hooks
//!
//! An `init` hook runs before the function serves, a `shutdown` hook after its last
//! request (CONTRACT.md §6):
//!
//! ```no_run
//! use motif_function::{Error, Request, Response};
//!
//! async fn setup() -> Result<(), Error> {
//!     // read configuration, warm caches, connect; an Err keeps the function from serving
//!     Ok(())
//! }
//!
//! async fn teardown() {
//!     // flush what must not be lost
//! }
//!
//! async fn handle(_request: Request) -> Result<Response, Error> {
//!     Ok(Response::new("ready\n".into()))
//! }
//!
//! motif_function::http!(handle, init = setup, shutdown = teardown);
//! ```
//!
//! Natively, `init` runs once before `/_/ready` turns 200 (capped at 10 s; an `Err` exits
//! the process with its message) and `shutdown` once on SIGTERM after in-flight requests
//! finish (capped at 10 s). On wasm every request runs in a fresh instance, so `init` runs
//! before each request's handler (an `Err` fails that request with its status) and
//! `shutdown` never runs: an instance is discarded, not stopped.
//!
//! # What differs between the builds
//!
//! Both builds tell a handler about its call through [`context()`]: the function's
//! name, the revision and the traceparent of its span. On wasm, a component imports
//! `motif:function/context` only if it calls [`context()`].
//!
//! On wasm the handler's future is driven by a minimal executor inside the instance: it
//! may compute and `.await` other futures that complete without host I/O, but it cannot
//! wait on timers or sockets (a wasm function has no sockets; it may send HTTP only to
//! the hosts its manifest allows, through `wasi:http`). A panic is a 500 in both builds.

#![deny(missing_docs)]

use std::fmt;

pub use bytes::Bytes;
pub use http::{HeaderValue, Method, StatusCode, header};
pub use motif_contract::Event;

/// The request an http function takes: the whole body, read by the server.
pub type Request = http::Request<bytes::Bytes>;

/// The response an http function returns.
pub type Response = http::Response<bytes::Bytes>;

/// Why a handler failed: the caller gets `status` and a problem+json body whose detail
/// is the message, so say nothing secret in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: u16,
    message: String,
}

impl Error {
    /// A failure of the function itself: a 500.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_status(500, message)
    }

    /// A failure with an HTTP status (400-599; anything else becomes 500), e.g. 422 for
    /// an event the function cannot process.
    pub fn with_status(status: u16, message: impl Into<String>) -> Self {
        let status = if (400..=599).contains(&status) {
            status
        } else {
            500
        };
        Self {
            status,
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for Error {}

impl From<motif_contract::Error> for Error {
    /// An event the handler built is invalid: the function's fault, a 500.
    fn from(e: motif_contract::Error) -> Self {
        Self::new(format!("the function built an invalid event: {e}"))
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

/// What a handler may know about the call it is serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    function_name: String,
    revision: Option<String>,
    traceparent: String,
    remaining: std::time::Duration,
}

impl Context {
    /// The function's name (`MOTIF_FUNCTION_NAME`, else Knative's `K_SERVICE`).
    pub fn function_name(&self) -> &str {
        &self.function_name
    }

    /// Knative's revision (`K_REVISION`), when the function runs on Knative.
    pub fn revision(&self) -> Option<&str> {
        self.revision.as_deref()
    }

    /// The W3C `traceparent` of the handler's own span: send it on outgoing calls.
    pub fn traceparent(&self) -> &str {
        &self.traceparent
    }

    /// How long the handler has left before the caller gets a 504 (`MOTIF_TIMEOUT`),
    /// as of this call.
    pub fn remaining(&self) -> std::time::Duration {
        self.remaining
    }
}

/// The context of the call being served.
///
/// # Panics
///
/// Outside a handler, natively: there is no call to describe.
pub fn context() -> Context {
    #[cfg(not(target_arch = "wasm32"))]
    return native::context();
    #[cfg(target_arch = "wasm32")]
    return wasm::context();
}

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(target_arch = "wasm32")]
mod wasm;

/// What the macros expand to; not part of the API.
/// What an init hook returns: `Err` keeps the function from turning ready.
pub type InitFuture = std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// What a shutdown hook returns.
pub type ShutdownFuture = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// A function's lifecycle hooks (CONTRACT.md §6), as the macros' `init = …` and
/// `shutdown = …` name them.
#[doc(hidden)]
#[derive(Clone, Copy, Default)]
pub struct Hooks {
    /// Runs before the function serves.
    pub init: Option<fn() -> InitFuture>,
    /// Runs on drain, after the last request.
    pub shutdown: Option<fn() -> ShutdownFuture>,
}

#[doc(hidden)]
pub mod __private {
    #[cfg(not(target_arch = "wasm32"))]
    pub use crate::native::{serve_cloudevent, serve_http};
    #[cfg(target_arch = "wasm32")]
    pub use crate::wasm::*;
}

/// Makes `handler` (`async fn(Event) -> Result<Option<Event>, Error>`) the function: a
/// server natively, a `motif:function` component on `wasm32-wasip2`. Use it once, in
/// the function's `main.rs`; it defines `main`.
///
/// Lifecycle hooks are optional: `cloudevent!(handle, init = setup, shutdown = teardown)`
/// with `async fn setup() -> Result<(), Error>` and `async fn teardown()` (see
/// [the crate docs](crate#lifecycle-hooks)).
#[macro_export]
macro_rules! cloudevent {
    ($handler:path $(, init = $init:path)? $(, shutdown = $shutdown:path)? $(,)?) => {
        #[cfg(not(target_arch = "wasm32"))]
        fn main() -> ::std::process::ExitCode {
            $crate::__private::serve_cloudevent($handler, $crate::hooks!($($init)?; $($shutdown)?))
        }

        #[cfg(target_arch = "wasm32")]
        fn main() {}

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct Function;
            impl $crate::__private::CloudEventGuest for Function {
                fn handle(
                    event: $crate::__private::WitEvent,
                ) -> ::std::result::Result<
                    ::std::option::Option<$crate::__private::WitEvent>,
                    $crate::__private::WitError,
                > {
                    $crate::__private::run_cloudevent(event, $handler, $crate::hooks!($($init)?; $($shutdown)?))
                }
            }
            $crate::__private::export_cloudevent!(Function with_types_in $crate::__private::bindings);
        };
    };
}

/// Makes `handler` (`async fn(Request) -> Result<Response, Error>`) the function: a
/// server natively, a `wasi:http` proxy component on `wasm32-wasip2`. Use it once, in
/// the function's `main.rs`; it defines `main`.
///
/// Lifecycle hooks are optional, as for [`cloudevent!`]: `http!(handle, init = setup)`.
#[macro_export]
macro_rules! http {
    ($handler:path $(, init = $init:path)? $(, shutdown = $shutdown:path)? $(,)?) => {
        #[cfg(not(target_arch = "wasm32"))]
        fn main() -> ::std::process::ExitCode {
            $crate::__private::serve_http($handler, $crate::hooks!($($init)?; $($shutdown)?))
        }

        #[cfg(target_arch = "wasm32")]
        fn main() {}

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct Function;
            impl $crate::__private::HttpGuest for Function {
                fn handle(
                    request: $crate::__private::IncomingRequest,
                    out: $crate::__private::ResponseOutparam,
                ) {
                    $crate::__private::run_http(request, out, $handler, $crate::hooks!($($init)?; $($shutdown)?))
                }
            }
            $crate::__private::wasip2::http::proxy::export!(Function with_types_in $crate::__private::wasip2);
        };
    };
}

/// The [`Hooks`] of a macro's `init = …` and `shutdown = …`.
#[doc(hidden)]
#[macro_export]
macro_rules! hooks {
    ($($init:path)?; $($shutdown:path)?) => {{
        #[allow(unused_mut)]
        let mut hooks = $crate::Hooks::default();
        $(hooks.init = Some(|| ::std::boxed::Box::pin($init()));)?
        $(hooks.shutdown = Some(|| ::std::boxed::Box::pin($shutdown()));)?
        hooks
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_outside_the_error_range_become_500() {
        assert_eq!(Error::with_status(422, "x").status(), 422);
        assert_eq!(Error::with_status(200, "x").status(), 500);
        assert_eq!(Error::with_status(600, "x").status(), 500);
        assert_eq!(Error::new("x").status(), 500);
    }
}
