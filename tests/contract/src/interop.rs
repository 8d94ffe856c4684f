//! Interoperability with a client no one on this project wrote: the CloudEvents Python
//! SDK sends the conformance events of `cloudevents-conformance/yaml/v1.yaml` to an
//! invoker's `event-echo` role, in binary and in structured mode, and checks that each
//! comes back the same (`interop/cloudevents_sdk.py` says exactly how).
//!
//! The conformance data is read from `MOTIF_CONFORMANCE_DIR`, else `../shared/conformance`
//! beside the repository; without it the check passes with a `skipped:` notice. The SDK
//! is installed by the test command (`requirements.txt` beside this crate).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::{Invoker, repo_root, suite_dir};

/// The role the check needs.
pub const ROLE: &str = "event-echo";

/// Runs the SDK's exchanges against `invoker`'s `event-echo`.
pub async fn cloudevents_sdk(invoker: &Invoker) -> Result<(), String> {
    let Some(events) = conformance_file("cloudevents-conformance/yaml/v1.yaml") else {
        return Ok(());
    };
    let function = invoker.start(ROLE, &BTreeMap::new()).await?;
    let out = tokio::process::Command::new("python3")
        .arg(suite_dir().join("interop/cloudevents_sdk.py"))
        .arg(format!("{}/", function.base))
        .arg(&events)
        .output()
        .await
        .map_err(|e| format!("cannot run python3: {e}"))?;
    let logs = function.stop().await;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let hint = if stderr.contains("ModuleNotFoundError") {
        "\nhint: python3 -m pip install -r tests/contract/requirements.txt"
    } else {
        ""
    };
    Err(format!(
        "the cloudevents SDK's exchanges failed:\n{}{stderr}{hint}\n--- function logs ---\n{logs}",
        String::from_utf8_lossy(&out.stdout),
    ))
}

/// `relative` under the conformance data directory, or `None` (with a notice) when the
/// data is absent.
fn conformance_file(relative: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("MOTIF_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join("../shared/conformance"),
    };
    let file = dir.join(relative);
    if file.is_file() {
        Some(file)
    } else {
        eprintln!(
            "skipped: the cloudevents SDK interop check: {} not found (set MOTIF_CONFORMANCE_DIR)",
            file.display()
        );
        None
    }
}
