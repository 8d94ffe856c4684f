//! What the wasm host's test binaries share: building a guest from `tests/wasm-guests`.

// Each test binary uses some of these helpers, none uses all of them.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

/// Builds `package` of `tests/wasm-guests` for `target` and returns `file` of its release
/// output (guests are built from source, never committed as binaries).
pub fn build_guest(target: &str, package: &str, file: &str) -> Vec<u8> {
    let path =
        motif_test_support::wasm_guest(target, package, file).unwrap_or_else(|e| panic!("{e}"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `tests/wasm-guests`, where the guests' sources are.
pub fn guests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/wasm-guests")
}

/// `name` under the target directory's scratch space (`CARGO_TARGET_TMPDIR`), emptied
/// and created: where a test binary puts what it builds, never /tmp or the source tree.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// Says that tests skip, and why, on the process's stderr itself rather than through
/// the test harness's capture, so that the notice shows in `cargo test`'s output.
pub fn skip(why: &str) {
    let _ = writeln!(std::io::stderr().lock(), "skip: {why}");
}
