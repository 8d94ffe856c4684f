//! `motif-invoker --wasm FILE --precompile`: compiles into the cache and exits, so that
//! the next start (or the next precompile) loads the artifact instead of compiling.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The smallest valid core module: the header and nothing else (a WASI p1 command module
/// as far as the host's shape detection goes).
const EMPTY_MODULE: &[u8] = b"\0asm\x01\0\0\0";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn precompile(wasm: &Path, cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motif-invoker"))
        .arg("--wasm")
        .arg(wasm)
        .arg("--precompile")
        .env("MOTIF_CACHE_DIR", cache)
        .env_remove("MOTIF_LOG")
        .output()
        .expect("motif-invoker runs")
}

fn artifacts(cache: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(cache)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[test]
fn precompile_writes_the_artifact_once_and_exits_zero() {
    let dir = scratch("precompile-once");
    let (wasm, cache) = (dir.join("empty.wasm"), dir.join("cache"));
    std::fs::write(&wasm, EMPTY_MODULE).unwrap();

    let first = precompile(&wasm, &cache);
    assert!(first.status.success(), "{first:?}");
    let stored = artifacts(&cache);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(
        stored[0].to_string_lossy().ends_with(".module.cwasm"),
        "{stored:?}"
    );
    assert!(String::from_utf8_lossy(&first.stderr).contains("compiled=true"));

    let second = precompile(&wasm, &cache);
    assert!(second.status.success(), "{second:?}");
    assert_eq!(artifacts(&cache), stored);
    let log = String::from_utf8_lossy(&second.stderr);
    assert!(
        log.contains("compiled=false"),
        "the artifact was compiled again: {log}"
    );
}

#[test]
fn precompiling_a_file_that_is_not_wasm_fails_with_a_hint() {
    let dir = scratch("precompile-not-wasm");
    let (wasm, cache) = (dir.join("not.wasm"), dir.join("cache"));
    std::fs::write(&wasm, b"#!/bin/sh\n").unwrap();

    let out = precompile(&wasm, &cache);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: `"), "{stderr}");
    assert!(stderr.contains("is not a wasm function"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(artifacts(&cache).is_empty());
}

#[test]
fn precompile_needs_a_wasm_file() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_motif-invoker"))
        .args(["--precompile", "--command", "true"])
        .env("PORT", "0")
        .env("MOTIF_HOST", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("motif-invoker runs");
    // Were the flag ignored, this would serve the command: stop it rather than wait.
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("--precompile without --wasm served instead of failing");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("give it --wasm FILE"), "{stderr}");
}
