//! What the wasm host's test binaries share: building a guest from `tests/wasm-guests`.

use std::path::PathBuf;

/// Builds `package` of `tests/wasm-guests` for `target` and returns `file` of its release
/// output (guests are built from source, never committed as binaries).
pub fn build_guest(target: &str, package: &str, file: &str) -> Vec<u8> {
    let guests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/wasm-guests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            target,
            "-p",
            package,
        ])
        .current_dir(&guests)
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building the guest `{package}` failed (is the {target} target installed?)"
    );
    let path = guests
        .join("target")
        .join(target)
        .join("release")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
