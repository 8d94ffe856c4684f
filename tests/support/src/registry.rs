//! Debian's `docker-registry` (distribution 2.8) on a free loopback port, no auth.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::http::{free_port, wait_ok};
use crate::tools::require_tool;

/// How long the registry may take to answer `GET /v2/` (it takes ~60 ms when idle).
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// How many ports to try: another process may take the free port before the registry
/// binds it.
const ATTEMPTS: usize = 3;

/// A running registry, stopped and its storage removed on drop.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts `docker-registry serve` on a free 127.0.0.1 port with its storage in a
    /// temporary directory, and waits until `GET /v2/` answers 200.
    pub fn start() -> io::Result<Registry> {
        require_tool("docker-registry", "docker-registry")?;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match Self::start_once() {
                Ok(registry) => return Ok(registry),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("the registry did not start")))
    }

    fn start_once() -> io::Result<Registry> {
        let dir = tempfile::Builder::new()
            .prefix("motif-registry-")
            .tempdir()?;
        let port = free_port();
        let storage = dir.path().join("data");
        fs::create_dir_all(&storage)?;
        let config = dir.path().join("config.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\n\
                 log: {{level: warn}}\n\
                 storage:\n  filesystem: {{rootdirectory: {}}}\n  delete: {{enabled: true}}\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: motif-test\n",
                storage.display()
            ),
        )?;
        let log = fs::File::create(dir.path().join("registry.log"))?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut registry = Registry { child, port, dir };
        if let Err(e) = wait_ok(&registry.host(), "/v2/", READY_TIMEOUT) {
            let exited = registry.child.try_wait().ok().flatten();
            return Err(io::Error::other(format!(
                "docker-registry did not turn ready on {} ({e}; {}): {}",
                registry.host(),
                exited.map_or("still running".to_owned(), |s| s.to_string()),
                registry.logs()
            )));
        }
        Ok(registry)
    }

    /// `127.0.0.1:PORT`, the registry part of references to it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Its storage root: blobs are under `docker/registry/v2/blobs/sha256/XX/<hex>/data`.
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where the registry stores the blob `sha256:<hex>`.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.storage_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(hex.get(..2).unwrap_or(hex))
            .join(hex)
            .join("data")
    }

    /// The requests it served so far, from its access log: `METHOD /path STATUS`.
    pub fn requests(&self) -> Vec<String> {
        self.logs()
            .lines()
            .filter(|line| !line.starts_with("time="))
            .filter_map(|line| {
                // 127.0.0.1 - - [date] "PUT /v2/x/blobs/uploads/... HTTP/1.1" 201 0 "" "agent"
                let (_, rest) = line.split_once('"')?;
                let (request, rest) = rest.split_once('"')?;
                let status = rest.split_whitespace().next()?;
                let mut parts = request.split_whitespace();
                Some(format!("{} {} {status}", parts.next()?, parts.next()?))
            })
            .filter(|r| r.contains(" /v2/"))
            .collect()
    }

    /// What the registry logged so far.
    pub fn logs(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The directory of its config, storage and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
