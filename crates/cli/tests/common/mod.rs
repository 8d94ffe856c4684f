//! Shared by the CLI's tests: running the real `motif` binary with its own config and a
//! shared data directory, in a directory of the test's.

#![allow(dead_code, unused_imports)]

pub mod readme;
mod server;

use std::path::{Path, PathBuf};

pub use server::Server;
use std::process::{Command, Output};

/// The workspace's root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The data directory all tests share (unpacked invokers, their npm and pip
/// dependencies, base-image blobs): filled once, reused by every run.
pub fn data_dir() -> PathBuf {
    let dir = workspace().join("target/motif-test-data");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `motif` with `args`, in `cwd`, with a config directory of its own under `cwd`.
pub fn motif(cwd: &Path, args: &[&str]) -> Output {
    motif_command(cwd, args).output().expect("motif runs")
}

/// The `motif` command, not yet run.
pub fn motif_command(cwd: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_motif"));
    command
        .args(args)
        .current_dir(cwd)
        .env("MOTIF_CONFIG_DIR", cwd.join(".motif-config"))
        .env("MOTIF_DATA_DIR", data_dir())
        .env_remove("MOTIF_OUTPUT")
        .env_remove("MOTIF_REPOSITORY")
        .env_remove("MOTIF_LANGUAGE")
        .env_remove("MOTIF_TEMPLATE")
        .env_remove("PORT");
    command
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts success, showing both streams otherwise.
#[track_caller]
pub fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "motif failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// Runs `git` in `dir`, asserting success.
#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=motif test",
            "-c",
            "user.email=test@motif.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The workspace's `motif-invoker`, built once per test binary.
pub fn invoker() -> &'static Path {
    static INVOKER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    INVOKER.get_or_init(|| motif_test_support::motif_invoker().expect("motif-invoker builds"))
}

/// `name` under `group` in the target's scratch space, emptied.
pub fn scratch_dir(group: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `motif` in `dir` with the server state directory `dir/state` and the workspace's
/// invoker.
pub fn motif_at(dir: &Path, args: &[&str]) -> Output {
    motif_command(dir, args)
        .env("MOTIF_STATE_DIR", dir.join("state"))
        .env("MOTIF_INVOKER_BIN", invoker())
        .output()
        .unwrap()
}
