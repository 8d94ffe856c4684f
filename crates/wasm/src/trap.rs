//! What a failed guest call means to the caller.

use http::StatusCode;
use motif_runtime::HandlerError;

/// Maps a guest failure to the contract's answer: 504 when the epoch deadline stopped it,
/// 500 for a trap (memory exhaustion included), with a message that names the cause
/// but carries no host stack trace.
pub(crate) fn to_handler_error(e: &wasmtime::Error) -> HandlerError {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => HandlerError::with_status(
            StatusCode::GATEWAY_TIMEOUT,
            "the function ran past its timeout (MOTIF_TIMEOUT) and was stopped",
        ),
        Some(trap) => HandlerError::new(format!("the function trapped: {trap}")),
        None => HandlerError::new(format!("the function failed: {}", root_cause(e))),
    }
}

fn root_cause(e: &wasmtime::Error) -> String {
    e.chain()
        .last()
        .map(ToString::to_string)
        .unwrap_or_default()
}
