//! Compiled artifacts on disk, so that nothing is compiled on the request path and a
//! restart (or a second replica on the same node) loads instead of compiling.
//!
//! An artifact's name is the SHA-256 of the wasm bytes plus a hash of the engine's
//! `precompile_compatibility_hash` (wasmtime's version, settings and target): any change
//! to either gives a new name, and a stale artifact is never read.
//!
//! # Safety
//! wasmtime deserialises artifacts without checking them, so loading one is `unsafe`:
//! only files this module wrote into a directory it controls are loaded. The directory is
//! created 0700, and files are written under a temporary name and renamed into place, so
//! a half-written artifact is never read.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// Where compiled artifacts live: `MOTIF_CACHE_DIR`, else `$XDG_CACHE_HOME/motif/wasm`,
/// else `$HOME/.cache/motif/wasm`, else `/tmp/motif/wasm` (the only writable path in a
/// function's container).
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MOTIF_CACHE_DIR") {
        return dir.into();
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Path::new(&dir).join("motif/wasm");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return Path::new(&home).join(".cache/motif/wasm");
    }
    PathBuf::from("/tmp/motif/wasm")
}

/// What was loaded, and whether it had to be compiled first.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The component or module.
    pub artifact: T,
    /// True when this load compiled it (a cache miss).
    pub compiled: bool,
}

/// A compiled artifact cache in one directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// A cache in `dir`, created on first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Loads a component, compiling and storing it on a miss.
    pub fn component(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Loaded<Component>> {
        self.load(engine, wasm)
    }

    /// Loads a core module, compiling and storing it on a miss.
    pub fn module(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Loaded<Module>> {
        self.load(engine, wasm)
    }

    fn load<T: Artifact>(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Loaded<T>> {
        let path = self.path(engine, wasm, T::KIND);
        if path.exists() {
            // SAFETY: the file is one this cache wrote (see the module docs).
            if let Ok(artifact) = unsafe { T::deserialize_file(engine, &path) } {
                return Ok(Loaded {
                    artifact,
                    compiled: false,
                });
            }
        }
        let bytes = T::precompile(engine, wasm)?;
        self.store(&path, &bytes);
        // SAFETY: `bytes` was produced by this engine a moment ago, and the file holds
        // them unless the store failed, in which case they are read from memory.
        let artifact = match unsafe { T::deserialize_file(engine, &path) } {
            Ok(a) => a,
            Err(_) => unsafe { T::deserialize(engine, &bytes)? },
        };
        Ok(Loaded {
            artifact,
            compiled: true,
        })
    }

    fn path(&self, engine: &Engine, wasm: &[u8], kind: &str) -> PathBuf {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let engine_hash = h.finish();
        let digest = sha256_hex(wasm);
        self.dir
            .join(format!("{digest}-{engine_hash:016x}.{kind}.cwasm"))
    }

    /// Writes an artifact; a cache that cannot be written is a slower start, not an error.
    fn store(&self, path: &Path, bytes: &[u8]) {
        if let Err(e) = write_atomically(&self.dir, path, bytes) {
            tracing::warn!(dir = %self.dir.display(), "cannot store a compiled artifact: {e}");
        }
    }
}

/// What the cache stores: a component or a core module.
trait Artifact: Sized {
    const KIND: &'static str;
    fn precompile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Vec<u8>>;
    /// # Safety
    /// As `wasmtime`'s `deserialize_file`: the file must hold an artifact this engine made.
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
    /// # Safety
    /// As `wasmtime`'s `deserialize`: the bytes must be an artifact this engine made.
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;
}

impl Artifact for Component {
    const KIND: &'static str = "component";
    fn precompile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Vec<u8>> {
        engine.precompile_component(wasm)
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: passed on to the caller.
        unsafe { Component::deserialize_file(engine, path) }
    }
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: passed on to the caller.
        unsafe { Component::deserialize(engine, bytes) }
    }
}

impl Artifact for Module {
    const KIND: &'static str = "module";
    fn precompile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Vec<u8>> {
        engine.precompile_module(wasm)
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: passed on to the caller.
        unsafe { Module::deserialize_file(engine, path) }
    }
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: passed on to the caller.
        unsafe { Module::deserialize(engine, bytes) }
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = dir.join(format!(".tmp-{}-{:x}", std::process::id(), fastrand_u64()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn fastrand_u64() -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::time::SystemTime::now().hash(&mut h);
    std::thread::current().id().hash(&mut h);
    h.finish()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}
