//! The JavaScript and Python invokers (and the WIT package the Python guest builds
//! against), embedded in the binary so that one installed `motif` works anywhere, and
//! unpacked on first use into the data directory, keyed by their contents' digest.

use std::path::{Path, PathBuf};
use std::process::Command;

use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::tools;

static NODE_BIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../invokers/node/bin");
static NODE_LIB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../invokers/node/lib");
static NODE_PACKAGE: &[u8] = include_bytes!("../../../invokers/node/package.json");
static NODE_LOCK: &[u8] = include_bytes!("../../../invokers/node/package-lock.json");
static PYTHON: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../invokers/python/motif");
static PYTHON_REQUIREMENTS: &[u8] = include_bytes!("../../../invokers/python/requirements.txt");
static WIT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../invokers/wit");

/// Every embedded file under its path in the unpacked tree (`__pycache__` left out).
fn files() -> Vec<(PathBuf, &'static [u8])> {
    let mut files = vec![
        (PathBuf::from("node/package.json"), NODE_PACKAGE),
        (PathBuf::from("node/package-lock.json"), NODE_LOCK),
        (
            PathBuf::from("python/requirements.txt"),
            PYTHON_REQUIREMENTS,
        ),
    ];
    for (prefix, dir) in [
        ("node/bin", &NODE_BIN),
        ("node/lib", &NODE_LIB),
        ("python/motif", &PYTHON),
        ("wit", &WIT),
    ] {
        collect(dir, Path::new(prefix), &mut files);
    }
    files.retain(|(path, _)| {
        !path.components().any(|c| c.as_os_str() == "__pycache__")
            && path.extension().is_none_or(|e| e != "pyc")
    });
    files.sort();
    files
}

fn collect(dir: &'static Dir<'static>, prefix: &Path, out: &mut Vec<(PathBuf, &'static [u8])>) {
    for file in dir.files() {
        out.push((prefix.join(file.path()), file.contents()));
    }
    for sub in dir.dirs() {
        collect(sub, prefix, out);
    }
}

/// The unpacked invokers: `node/` (with its `node_modules` once [`Invokers::node`] ran),
/// `python/motif`, `wit/`.
#[derive(Clone, Debug)]
pub struct Invokers {
    root: PathBuf,
}

impl Invokers {
    /// Unpacks the embedded invokers under `data_dir/invokers/<digest>` unless there.
    pub fn unpack(data_dir: &Path) -> Result<Invokers, Error> {
        let files = files();
        let mut digest = Sha256::new();
        for (path, bytes) in &files {
            digest.update(path.to_string_lossy().as_bytes());
            digest.update([0]);
            digest.update((bytes.len() as u64).to_le_bytes());
            digest.update(bytes);
        }
        let digest: String = digest.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let root = data_dir.join("invokers").join(digest);
        if !root.join(".complete").exists() {
            let temp = root.with_extension(format!("tmp-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&temp);
            for (path, bytes) in &files {
                let dest = temp.join(path);
                let parent = dest.parent().expect("has a parent");
                std::fs::create_dir_all(parent).map_err(Error::io("create", parent))?;
                std::fs::write(&dest, bytes).map_err(Error::io("write", &dest))?;
            }
            std::fs::write(temp.join(".complete"), b"").map_err(Error::io("write", &temp))?;
            let _ = std::fs::remove_dir_all(&root);
            std::fs::rename(&temp, &root).map_err(Error::io("create", &root))?;
        }
        Ok(Invokers { root })
    }

    /// The Node invoker with its dependencies installed (`npm ci` once).
    pub fn node(&self) -> Result<PathBuf, Error> {
        let dir = self.root.join("node");
        if !dir.join("node_modules/.complete").exists() {
            let npm = tools::require(
                "npm",
                "JavaScript functions",
                "install Node.js 20 or later with npm (apt-get install nodejs npm)",
            )?;
            tools::run(
                "installing the JavaScript invoker's dependencies",
                Command::new(npm)
                    .args([
                        "ci",
                        "--omit=dev",
                        "--ignore-scripts",
                        "--no-audit",
                        "--no-fund",
                    ])
                    .args(["--loglevel=error"])
                    .current_dir(&dir),
            )?;
            let marker = dir.join("node_modules/.complete");
            std::fs::write(&marker, b"").map_err(Error::io("write", &marker))?;
        }
        Ok(dir)
    }

    /// The Node invoker's entry point.
    pub fn node_main(&self) -> PathBuf {
        self.root.join("node/bin/motif-node.js")
    }

    /// The folder holding the `motif` Python package (for PYTHONPATH).
    pub fn python(&self) -> PathBuf {
        self.root.join("python")
    }

    /// The Python invoker's dependencies for this machine's Python, installed once with
    /// pip into their own folder (for PYTHONPATH).
    pub fn python_deps(&self, python: &Path) -> Result<PathBuf, Error> {
        self.python_deps_for(python, None)
    }

    /// The Python invoker's dependencies as wheels for `platform_tag` (e.g.
    /// `manylinux2014_x86_64`) and `python_version` (e.g. `3.11`), for an image.
    pub fn python_deps_for(
        &self,
        python: &Path,
        target: Option<(&str, &str)>,
    ) -> Result<PathBuf, Error> {
        let name = match target {
            None => "deps-host".to_owned(),
            Some((platform, version)) => format!("deps-{platform}-{version}"),
        };
        let dir = self.root.join("python").join(".deps").join(name);
        if dir.join(".complete").exists() {
            return Ok(dir);
        }
        crate::steps::pip_install(
            python,
            &self.root.join("python/requirements.txt"),
            &dir,
            target,
            "installing the Python invoker's dependencies",
        )?;
        std::fs::write(dir.join(".complete"), b"").map_err(Error::io("write", &dir))?;
        Ok(dir)
    }

    /// The root of the unpacked tree.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invokers_are_embedded() {
        let files = files();
        let has = |p: &str| files.iter().any(|(path, _)| path == Path::new(p));
        assert!(has("node/bin/motif-node.js"));
        assert!(has("node/lib/main.js"));
        assert!(has("python/motif/__main__.py"));
        assert!(has("python/motif/guest/__main__.py"));
        assert!(
            files
                .iter()
                .any(|(p, _)| p.starts_with("wit") && p.extension().is_some_and(|e| e == "wit"))
        );
    }
}
