//! The function contract suite: every case in `cases/*.toml` is an HTTP request and what
//! the function must answer, run over a real loopback socket against a fresh invoker
//! process for each invoker that implements the case's function role.
//!
//! - `roles.toml` says what each role does, in words every invoker can implement;
//! - `functions/<invoker>/roles.toml` says how that invoker starts each role;
//! - `cases/*.toml` hold the cases; `lifecycle.rs` holds the checks that are sequences
//!   in time (drain, hooks) rather than one request; `interop.rs` has a real CloudEvents
//!   SDK talk to each invoker.

#![deny(missing_docs)]

mod case;
mod check;
pub mod interop;
pub mod lifecycle;
mod process;

pub use case::{Case, Expect, Request, Suite};
pub use process::{
    Function, FunctionView, Invoker, http_client, motif_invoker, native_binaries,
    python_roles_wasm, rust_roles_wasm, wasm_guests,
};

use std::path::PathBuf;

/// The suite's directory (this crate's root).
pub fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's root (two levels above the suite).
pub fn repo_root() -> PathBuf {
    suite_dir().join("../..")
}

/// Runs one case against one invoker: starts the function, sends the setup requests and
/// the request, checks the answer, stops the function.
pub async fn run_case(invoker: &Invoker, case: &Case) -> Result<(), String> {
    let function = invoker.start(&case.function, &case.env).await?;
    let result = check::run(&function, case).await;
    let logs = function.stop().await;
    result.map_err(|e| format!("{e}\n--- function logs ---\n{logs}"))
}
