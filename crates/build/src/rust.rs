//! Rust functions: the package read with `cargo_metadata` (name, binary targets,
//! `[package.metadata.motif]`), built natively, statically for an image, or to wasm.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;
use crate::tools;

/// What a Rust function's Cargo package says.
#[derive(Clone, Debug)]
pub struct Package {
    /// The package's name.
    pub name: String,
    /// The binary target that is the function.
    pub bin: String,
    /// `[package.metadata.motif] target = "wasm32-wasip2"`: the function is a component.
    pub wasm: bool,
    /// Cargo's target directory for it.
    pub target_dir: PathBuf,
    manifest: PathBuf,
}

impl Package {
    /// Reads `dir/Cargo.toml` with `cargo metadata --no-deps`.
    pub fn read(dir: &Path) -> Result<Package, Error> {
        let manifest = dir.join("Cargo.toml");
        let metadata = cargo_metadata::MetadataCommand::new()
            .manifest_path(&manifest)
            .no_deps()
            .exec()
            .map_err(|e| {
                Error::input(
                    format!(
                        "cannot read the Cargo package at {}: {e}",
                        manifest.display()
                    ),
                    "a Rust function is a Cargo package with one binary target",
                )
            })?;
        let manifest_abs = manifest
            .canonicalize()
            .map_err(Error::io("read", &manifest))?;
        let package = metadata
            .packages
            .iter()
            .find(|p| p.manifest_path.as_std_path() == manifest_abs)
            .or_else(|| metadata.root_package())
            .ok_or_else(|| {
                Error::input(
                    format!("{} is a workspace without a package", manifest.display()),
                    "point motif at the function's own package",
                )
            })?;
        let motif = &package.metadata["motif"];
        let bins: Vec<&str> = package
            .targets
            .iter()
            .filter(|t| t.is_bin())
            .map(|t| t.name.as_str())
            .collect();
        let bin = match motif["bin"].as_str() {
            Some(bin) if bins.contains(&bin) => bin.to_owned(),
            Some(bin) => {
                return Err(Error::input(
                    format!(
                        "[package.metadata.motif] bin = \"{bin}\" is not a binary of {}",
                        package.name
                    ),
                    format!("its binaries: {}", bins.join(", ")),
                ));
            }
            None => match bins.as_slice() {
                [one] => (*one).to_owned(),
                [] => {
                    return Err(Error::input(
                        format!("package {} has no binary target", package.name),
                        "a Rust function is a binary (src/main.rs with `motif_function::http!(handle)`)",
                    ));
                }
                many => {
                    return Err(Error::input(
                        format!(
                            "package {} has several binaries: {}",
                            package.name,
                            many.join(", ")
                        ),
                        "name the function's with `[package.metadata.motif] bin = \"NAME\"`",
                    ));
                }
            },
        };
        let wasm = match motif["target"].as_str() {
            None => false,
            Some("wasm32-wasip2") => true,
            Some(other) => {
                return Err(Error::input(
                    format!("[package.metadata.motif] target = \"{other}\" is not supported"),
                    "leave it out for a native function, or use \"wasm32-wasip2\"",
                ));
            }
        };
        Ok(Package {
            name: package.name.to_string(),
            bin,
            wasm,
            target_dir: metadata.target_directory.clone().into_std_path_buf(),
            manifest,
        })
    }

    fn cargo(&self) -> Result<Command, Error> {
        let cargo = tools::require("cargo", "Rust functions", "install Rust with rustup")?;
        let mut command = Command::new(cargo);
        command
            .arg("build")
            .arg("--manifest-path")
            .arg(&self.manifest)
            .args(["--bin", &self.bin]);
        Ok(command)
    }

    /// Builds the binary for this machine (the dev profile, for `motif run`).
    pub fn build_native(&self) -> Result<PathBuf, Error> {
        tools::run("cargo build", &mut self.cargo()?)?;
        Ok(self.target_dir.join("debug").join(&self.bin))
    }

    /// Builds the native binary with the release profile (what `motif deploy` runs).
    pub fn build_native_release(&self) -> Result<PathBuf, Error> {
        let mut command = self.cargo()?;
        command.arg("--release");
        tools::run("cargo build --release", &mut command)?;
        Ok(self.target_dir.join("release").join(&self.bin))
    }

    /// Builds a static release binary for `triple` (a musl target), adding the target
    /// with rustup first if it is missing.
    pub fn build_static(&self, triple: &str) -> Result<PathBuf, Error> {
        ensure_target(triple)?;
        let mut command = self.cargo()?;
        command.args(["--release", "--target", triple]);
        if triple.starts_with("aarch64") && std::env::consts::ARCH != "aarch64" {
            // Rust's own lld links a static musl binary for another architecture.
            command.env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld");
        }
        tools::run(
            &format!("cargo build --release --target {triple}"),
            &mut command,
        )?;
        Ok(self.target_dir.join(triple).join("release").join(&self.bin))
    }

    /// Builds the component (`wasm32-wasip2`, release).
    pub fn build_wasm(&self) -> Result<PathBuf, Error> {
        ensure_target("wasm32-wasip2")?;
        let mut command = self.cargo()?;
        command.args(["--release", "--target", "wasm32-wasip2"]);
        tools::run("cargo build --release --target wasm32-wasip2", &mut command)?;
        Ok(self
            .target_dir
            .join("wasm32-wasip2/release")
            .join(format!("{}.wasm", self.bin)))
    }
}

/// Adds a Rust target with rustup unless it is installed.
fn ensure_target(triple: &str) -> Result<(), Error> {
    let Some(rustup) = tools::which("rustup") else {
        // Without rustup the toolchain is what it is; cargo will say if the target is missing.
        return Ok(());
    };
    let installed = tools::output(
        "rustup target list --installed",
        Command::new(&rustup).args(["target", "list", "--installed"]),
    )?;
    if installed.lines().any(|l| l.trim() == triple) {
        return Ok(());
    }
    tools::run(
        &format!("rustup target add {triple}"),
        Command::new(&rustup).args(["target", "add", triple]),
    )
}
