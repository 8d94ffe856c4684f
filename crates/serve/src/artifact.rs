//! What a revision runs, kept in the state directory by digest so that a revision never
//! changes under its name: the wasm file, or a snapshot of a function's directory and
//! how to start it.
//!
//! A deploy names a [`Source`] on this machine (the admin API listens on loopback only,
//! for the user who started `motif serve`); [`Artifacts::ingest`] copies it into
//! `artifacts/HEX/` and returns `sha256:HEX`, the revision's `artifact`. The same
//! content gives the same digest, so an unchanged function makes no new revision.
//!
//! ```text
//! artifacts/HEX/package.json   how to run it (a Package)
//! artifacts/HEX/function.wasm  a wasm function
//! artifacts/HEX/files/         a process function's directory, as it was deployed
//! artifacts/HEX/bundle/        an OCI image, unpacked by `umoci` (see `oci`)
//! artifacts/HEX/run/ID/        an OCI instance's own bundle, while it runs
//! ```
//!
//! # Caveats
//! - A process function's snapshot leaves out `.git` and `target` (version control and
//!   Rust build output); a program outside the function's directory (an interpreter,
//!   `motif-invoker`) is referred to, not copied, unless the source says it is the
//!   function's own build output (a Rust binary).
//! - Snapshots are not garbage-collected when their revisions are deleted.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The placeholder for a snapshot's directory in a [`Package::Process`]'s program,
/// arguments and environment: the state directory may move, the snapshot's content not.
pub const DIR_PLACEHOLDER: &str = "{dir}";

/// What a deploy asks to run, as it is on this machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "runtime", rename_all = "camelCase")]
pub enum Source {
    /// A wasm component or WASI command module, run in `motif serve`'s own process.
    Wasm {
        /// The `.wasm` file.
        path: PathBuf,
    },
    /// A function behind its invoker as a child process, one per instance.
    #[serde(rename_all = "camelCase")]
    Process {
        /// The program (an interpreter, `motif-invoker`, or the function's own binary).
        program: PathBuf,
        /// Its arguments; those under `dir` are rewritten to the snapshot.
        args: Vec<String>,
        /// Environment added to the function's runtime environment.
        #[serde(default)]
        env: Vec<(String, String)>,
        /// The function's directory, snapshotted.
        dir: PathBuf,
        /// Whether `program` is the function's own build output (copied into the
        /// snapshot) rather than a tool of this machine (referred to).
        #[serde(default)]
        program_is_artifact: bool,
    },
    /// An OCI image, run with `runc` as a container per instance (as root).
    Oci {
        /// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/`).
        layout: PathBuf,
        /// The image's tag in it (`org.opencontainers.image.ref.name`).
        tag: String,
    },
}

/// How a stored artifact runs: [`Source`] with its paths inside the snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "runtime", rename_all = "camelCase")]
pub enum Package {
    /// `function.wasm` of the artifact's directory.
    Wasm,
    /// A process, its paths under the snapshot written with [`DIR_PLACEHOLDER`].
    #[serde(rename_all = "camelCase")]
    Process {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Environment added to the function's runtime environment.
        env: Vec<(String, String)>,
    },
    /// An OCI image unpacked into `bundle/` of the artifact's directory.
    Oci {
        /// The image's manifest digest, `sha256:HEX`.
        image: String,
    },
}

/// A package with its paths made real: what an instance starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runnable {
    /// A wasm file.
    Wasm {
        /// The file.
        path: PathBuf,
    },
    /// A process.
    Process {
        /// The program.
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
        /// Environment added to the function's runtime environment.
        env: Vec<(String, String)>,
        /// Its working directory: the snapshot.
        dir: PathBuf,
    },
    /// A container.
    Oci {
        /// The unpacked image: `config.json` and `rootfs/`, shared by its instances.
        bundle: PathBuf,
    },
}

/// Why an artifact cannot be stored or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    /// A file could not be read or written.
    #[error("cannot {action} `{path}`")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The source is not usable.
    #[error("{0}")]
    Invalid(String),
}

fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> ArtifactError + 'a {
    move |source| ArtifactError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// The artifacts of one state directory.
#[derive(Clone, Debug)]
pub struct Artifacts {
    dir: PathBuf,
}

impl Artifacts {
    /// The artifacts under `dir` (created on the first ingest).
    pub fn new(dir: impl Into<PathBuf>) -> Artifacts {
        Artifacts { dir: dir.into() }
    }

    /// Copies `source` in (unless an identical one is there) and returns its digest,
    /// `sha256:HEX`. Blocking: call it off the async workers.
    pub fn ingest(&self, source: &Source) -> Result<String, ArtifactError> {
        let mut hasher = Sha256::new();
        let (package, files) = match source {
            Source::Wasm { path } => {
                let bytes = fs::read(path).map_err(io_error("read", path))?;
                if !bytes.starts_with(b"\0asm") {
                    return Err(ArtifactError::Invalid(format!(
                        "`{}` is not a WebAssembly file",
                        path.display()
                    )));
                }
                hasher.update(b"wasm\0");
                hasher.update(&bytes);
                (Package::Wasm, Files::Wasm(bytes))
            }
            Source::Process {
                program,
                args,
                env,
                dir,
                program_is_artifact,
            } => {
                let dir = fs::canonicalize(dir).map_err(io_error("read", dir))?;
                if !dir.is_dir() {
                    return Err(ArtifactError::Invalid(format!(
                        "`{}` is not a directory",
                        dir.display()
                    )));
                }
                let mut list = Vec::new();
                walk(&dir, Path::new(""), &mut list)?;
                let program = if *program_is_artifact {
                    let name = program.file_name().ok_or_else(|| {
                        ArtifactError::Invalid(format!("`{}` names no file", program.display()))
                    })?;
                    let target = Path::new(".motif-serve/bin").join(name);
                    list.push((target.clone(), program.clone()));
                    format!("{DIR_PLACEHOLDER}/{}", target.display())
                } else {
                    placeholder(&program.to_string_lossy(), &dir)
                };
                list.sort();
                for (relative, path) in &list {
                    let meta = fs::metadata(path).map_err(io_error("read", path))?;
                    hasher.update(relative.as_os_str().as_encoded_bytes());
                    hasher.update([0, u8::from(meta.permissions().mode() & 0o111 != 0)]);
                    hasher.update(meta.len().to_le_bytes());
                    hash_file(&mut hasher, path)?;
                }
                let package = Package::Process {
                    program,
                    args: args.iter().map(|a| placeholder(a, &dir)).collect(),
                    env: env
                        .iter()
                        .map(|(k, v)| (k.clone(), placeholder(v, &dir)))
                        .collect(),
                };
                (package, Files::Tree(list))
            }
            Source::Oci { layout, tag } => {
                crate::oci::require_host(&["runc", "umoci"]).map_err(ArtifactError::Invalid)?;
                let image = crate::oci::manifest_digest(layout, tag)?;
                // The manifest names every layer and the config by digest: the image whole.
                hasher.update(b"oci\0");
                hasher.update(image.as_bytes());
                let files = Files::Image {
                    layout: layout.clone(),
                    tag: tag.clone(),
                };
                (Package::Oci { image }, files)
            }
        };
        let json = serde_json::to_vec_pretty(&package).expect("a package serialises");
        hasher.update(&json);
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let target = self.dir.join(&hex);
        if target.join("package.json").is_file() {
            return Ok(format!("sha256:{hex}"));
        }
        fs::create_dir_all(&self.dir).map_err(io_error("create", &self.dir))?;
        let staging = self.dir.join(format!(".{hex}.{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        let written = (|| {
            fs::create_dir_all(&staging).map_err(io_error("create", &staging))?;
            match files {
                Files::Wasm(bytes) => {
                    let file = staging.join("function.wasm");
                    fs::write(&file, bytes).map_err(io_error("write", &file))?;
                }
                Files::Tree(list) => {
                    let root = staging.join("files");
                    for (relative, path) in list {
                        let to = root.join(&relative);
                        if let Some(parent) = to.parent() {
                            fs::create_dir_all(parent).map_err(io_error("create", parent))?;
                        }
                        fs::copy(&path, &to).map_err(io_error("copy", &path))?;
                    }
                }
                Files::Image { layout, tag } => {
                    crate::oci::unpack(&layout, &tag, &staging.join("bundle"))?;
                }
            }
            // Written last: its presence marks a complete artifact.
            let file = staging.join("package.json");
            fs::write(&file, &json).map_err(io_error("write", &file))?;
            Ok(())
        })();
        if let Err(e) = written {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        if let Err(e) = fs::rename(&staging, &target) {
            let _ = fs::remove_dir_all(&staging);
            // Another deploy of the same content won the race: theirs is as good.
            if !target.join("package.json").is_file() {
                return Err(io_error("write", &target)(e));
            }
        }
        Ok(format!("sha256:{hex}"))
    }

    /// What the artifact `digest` runs.
    pub fn runnable(&self, digest: &str) -> Result<Runnable, ArtifactError> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                ArtifactError::Invalid(format!("`{digest}` is not an artifact digest"))
            })?;
        let dir = self.dir.join(hex);
        let file = dir.join("package.json");
        let json = fs::read(&file).map_err(io_error("read", &file))?;
        let package: Package = serde_json::from_slice(&json)
            .map_err(|e| ArtifactError::Invalid(format!("`{}` is damaged: {e}", file.display())))?;
        let files = dir.join("files");
        let real = |s: &str| s.replace(DIR_PLACEHOLDER, &files.to_string_lossy());
        Ok(match package {
            Package::Wasm => Runnable::Wasm {
                path: dir.join("function.wasm"),
            },
            Package::Process { program, args, env } => Runnable::Process {
                program: PathBuf::from(real(&program)),
                args: args.iter().map(|a| real(a)).collect(),
                env: env.iter().map(|(k, v)| (k.clone(), real(v))).collect(),
                dir: files,
            },
            Package::Oci { .. } => Runnable::Oci {
                bundle: dir.join("bundle"),
            },
        })
    }
}

enum Files {
    Wasm(Vec<u8>),
    /// (path in the snapshot, file on disk)
    Tree(Vec<(PathBuf, PathBuf)>),
    /// An image to unpack.
    Image {
        layout: PathBuf,
        tag: String,
    },
}

/// `value` with every occurrence of `dir` replaced by [`DIR_PLACEHOLDER`].
fn placeholder(value: &str, dir: &Path) -> String {
    value.replace(&*dir.to_string_lossy(), DIR_PLACEHOLDER)
}

/// The regular files under `root/relative`, skipping `.git` and `target`, following no
/// symbolic link out of the tree (a link is copied as the file it points to).
fn walk(
    root: &Path,
    relative: &Path,
    out: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<(), ArtifactError> {
    let dir = root.join(relative);
    let entries = fs::read_dir(&dir).map_err(io_error("read", &dir))?;
    for entry in entries {
        let entry = entry.map_err(io_error("read", &dir))?;
        let name = entry.file_name();
        if relative.as_os_str().is_empty() && (name == ".git" || name == "target") {
            continue;
        }
        let path = entry.path();
        let meta = fs::metadata(&path).map_err(io_error("read", &path))?;
        let rel = relative.join(&name);
        if meta.is_dir() {
            if entry.file_type().is_ok_and(|t| t.is_symlink()) {
                // A linked directory could lead anywhere, even back here.
                continue;
            }
            walk(root, &rel, out)?;
        } else if meta.is_file() {
            out.push((rel, path));
        }
    }
    Ok(())
}

fn hash_file(hasher: &mut Sha256, path: &Path) -> Result<(), ArtifactError> {
    let mut file = fs::File::open(path).map_err(io_error("read", path))?;
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(io_error("read", path))?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
    }
}
