//! This machine's binaries in image layers, so that a test makes a runnable base image
//! without a network: each binary with the shared libraries it loads.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use motif_build::oci::LayerBuilder;

use crate::tools::{require_tool, run_tool};

/// Adds each binary (`(image path, host path)`) to `layer`, and every shared library it
/// loads at the library's host path: the dynamic loader and every `=> /path` that `ldd`
/// lists. A static binary brings no libraries.
pub fn add_host_binaries(layer: &mut LayerBuilder, binaries: &[(&str, &Path)]) -> io::Result<()> {
    let mut libraries = BTreeSet::new();
    for (image_path, host_path) in binaries {
        layer.add_file_from(image_path, host_path)?;
        libraries.extend(motif_build::libraries::shared_libraries(host_path)?);
    }
    for library in libraries {
        let image_path = library.to_str().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("`{}` is not a UTF-8 path", library.display()),
            )
        })?;
        layer.add_file_from(image_path, &library)?;
    }
    Ok(())
}

/// A copy of `binary` in `dir` without its debug info (`objcopy --strip-debug`): a debug
/// build of `motif-invoker` is ~600 MB with it, ~60 MB without, and layers are gzipped
/// in memory. Without objcopy (binutils), a plain copy.
pub fn strip_debug(binary: &Path, dir: &Path) -> io::Result<PathBuf> {
    let name = binary.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` names no file", binary.display()),
        )
    })?;
    let out = dir.join(name);
    if require_tool("objcopy", "binutils").is_err() {
        std::fs::copy(binary, &out)?;
        return Ok(out);
    }
    run_tool(
        "objcopy",
        &[
            "--strip-debug".as_ref(),
            binary.as_os_str(),
            out.as_os_str(),
        ],
    )?;
    Ok(out)
}

/// Builds `motif-invoker` (debug, or release when the running test is a release build)
/// and returns its path; `MOTIF_INVOKER_BIN` overrides it.
///
/// It builds the whole workspace's binaries and examples, as the contract suite does
/// (`tests/contract/src/process.rs`): that resolves the same features as `cargo test
/// --workspace`, so nothing is compiled twice (a per-package build would compile
/// wasmtime a second time, and fill CI's disk).
pub fn motif_invoker() -> io::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("MOTIF_INVOKER_BIN") {
        return Ok(PathBuf::from(bin));
    }
    // The test binary is target/<profile>/deps/<name>-<hash>.
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| io::Error::other("cannot find the target directory"))?
        .to_owned();
    let mut args = vec!["build", "--quiet", "--workspace", "--bins", "--examples"];
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        args.push("--release");
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "`{cargo} {}` failed ({status})",
            args.join(" ")
        )));
    }
    Ok(profile_dir.join("motif-invoker"))
}

/// Builds `package` of `tests/wasm-guests` (its own Rust workspace) for `target` in
/// release and returns the path of `file` in its output: guests are built from source,
/// never committed as binaries.
pub fn wasm_guest(target: &str, package: &str, file: &str) -> io::Result<PathBuf> {
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasm-guests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
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
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "building the guest `{package}` failed ({status}); is the {target} target installed?"
        )));
    }
    Ok(guests
        .join("target")
        .join(target)
        .join("release")
        .join(file))
}
