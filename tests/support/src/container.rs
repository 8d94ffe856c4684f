//! Running an image from an OCI image layout: `umoci unpack` makes a runtime bundle,
//! `runc run` runs it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

use crate::tools::{require_tool, run_tool};

/// A container started by `runc run` (as a child process), killed and deleted on drop,
/// with its bundle.
///
/// # Assumptions
///
/// Root, and a runc that can create cgroups (v1 or v2) and namespaces. The container
/// shares the host's network namespace, so a server in it is reached on 127.0.0.1.
#[derive(Debug)]
pub struct Container {
    id: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl Container {
    /// Unpacks `layout:tag` into a bundle (`umoci unpack`), adjusts its `config.json` for
    /// a test (no network namespace, so the host's loopback is the container's; no
    /// terminal; `env` set over the image's), and starts `runc run`. Its stdout and
    /// stderr go to a log, read with [`logs`](Self::logs).
    pub fn run(layout: &Path, tag: &str, env: &[(&str, &str)]) -> io::Result<Container> {
        require_tool("umoci", "umoci")?;
        require_tool("runc", "runc")?;
        let dir = tempfile::Builder::new().prefix("motif-bundle-").tempdir()?;
        let bundle = dir.path().join("bundle");
        let image = format!("{}:{tag}", layout.display());
        run_tool(
            "umoci",
            &[
                "unpack".as_ref(),
                "--image".as_ref(),
                image.as_ref(),
                bundle.as_os_str(),
            ],
        )?;

        let config_path = bundle.join("config.json");
        let mut config: Value = serde_json::from_slice(&fs::read(&config_path)?)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        adjust_config(&mut config, env);
        fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;

        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "motif-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let log = fs::File::create(dir.path().join("container.log"))?;
        let child = Command::new("runc")
            .args(["run", "--bundle"])
            .arg(&bundle)
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        Ok(Container { id, child, dir })
    }

    /// Its runc id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its bundle directory (`config.json`, `rootfs/`).
    pub fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    /// What the container (and runc) wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        fs::read_to_string(self.dir.path().join("container.log")).unwrap_or_default()
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

/// Makes an unpacked image's runtime config fit a test in this sandbox.
fn adjust_config(config: &mut Value, env: &[(&str, &str)]) {
    // Share the host's network namespace: the test reaches the server on 127.0.0.1, and
    // no network setup (CNI, slirp) is needed.
    if let Some(namespaces) = config
        .pointer_mut("/linux/namespaces")
        .and_then(Value::as_array_mut)
    {
        namespaces.retain(|ns| ns["type"] != "network");
    }
    if let Some(process) = config.get_mut("process").and_then(Value::as_object_mut) {
        // No terminal: stdio goes to the log file.
        process.insert("terminal".into(), Value::Bool(false));
        let mut vars: Vec<String> = process
            .get("env")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for (name, value) in env {
            let entry = format!("{name}={value}");
            let prefix = format!("{name}=");
            match vars.iter_mut().find(|v| v.starts_with(&prefix)) {
                Some(existing) => *existing = entry,
                None => vars.push(entry),
            }
        }
        process.insert("env".into(), Value::from(vars));
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("runc")
            .args(["kill", &self.id, "KILL"])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
        let _ = Command::new("runc")
            .args(["delete", "-f", &self.id])
            .stderr(Stdio::null())
            .status();
    }
}
