//! The oci instance runtime: a revision whose artifact is an OCI image runs each
//! instance as a container, `runc run` of the image unpacked once by `umoci`, sharing
//! this machine's network so that it serves on a loopback port as a process instance
//! does. This is what a Knative pod is to the function, without a container daemon.
//!
//! A deploy of [`Source::Oci`](crate::artifact::Source::Oci) unpacks the image into
//! `artifacts/HEX/bundle/` ([`unpack`]); every instance then gets a bundle of its own,
//! `artifacts/HEX/run/ID/config.json`, which is the image's runtime config adjusted:
//!
//! - the shared `rootfs/` by its absolute path, read-only (as immutable as the revision),
//!   with a tmpfs on `/tmp` for scratch files, and this machine's `/etc/hosts` and
//!   `/etc/resolv.conf` as a kubelet mounts its own;
//! - no network namespace: the container binds `127.0.0.1:PORT` of this machine;
//! - no terminal, so its stdout and stderr go to the function's log through `runc`;
//! - the image's environment, then the function's (the contract's variables, `K_*`),
//!   then `PORT`;
//! - no `rlimits`: it gets `motif serve`'s own limits, as a process instance does (an
//!   image's runtime config caps open files at 1024, few for a busy server).
//!
//! `runc run --bundle DIR ID` is then started as a
//! [`ProcessInstance`](crate::instance::ProcessInstance) on that port, probed until
//! ready, and stopped as one: SIGTERM to `runc`, which forwards it to the container's
//! first process, the drain, then SIGKILL.
//!
//! # Guarantees
//! - Without `runc` and `umoci`, or without root, a deploy of an image is refused with
//!   what is missing and how to get it (`apt-get install runc umoci`), before anything
//!   is stored.
//! - An instance's container and its directory go with it: after a stop, a failed start,
//!   or a drop without a stop, `runc delete --force ID` (which kills the container if it
//!   still runs) and the directory's removal, in that order.
//!
//! # Caveats
//! - Root only: rootless containers need user namespaces and cgroup delegation that a
//!   plain `motif serve` cannot count on.
//! - Containers are in runc's default state directory (`/run/runc`), named
//!   `motif-PID-N-REVISION-N` (`PID`: `motif serve`'s). A `motif serve` that is killed
//!   outright sends `runc` SIGTERM (its parent-death signal), which stops the container;
//!   the instances' directories are removed when the state directory is opened again.
//! - The container shares the network of this machine, not only its loopback: the
//!   function can bind any port and reach anything this machine reaches.
//! - The container's first process is PID 1 of its namespace, which ignores a SIGTERM it
//!   has no handler for: such an image is killed after the drain (motif's invokers
//!   handle SIGTERM, and drain).
//! - The port is chosen before `runc` starts, so the window in which another process may
//!   take it (see [`crate::instance`]) is a container's start longer.
//! - The root is read-only, where a Knative container's is not: a program that writes
//!   outside `/tmp` fails (a wasm image's `motif-invoker` keeps no compile cache, and
//!   says so).
//! - No cgroup limits are set from the function's spec.
//! - `motif describe` shows an instance's pid as `runc`'s, not the container's.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use crate::artifact::ArtifactError;
use crate::instance::{InstanceOptions, ProcessInstance, ProcessSpec};
use crate::runtime::{Launch, error_chain};

/// The annotation that names an image in an OCI layout's `index.json`.
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Where Debian installs `runc` (`/usr/sbin`), which a user's `PATH` may lack.
const SBIN: [&str; 2] = ["/usr/sbin", "/sbin"];

/// Files of this machine that every container sees, read-only, as a kubelet gives a pod
/// its own: names resolve as they do here.
const HOST_FILES: [&str; 2] = ["/etc/hosts", "/etc/resolv.conf"];

/// Checks that this process is root and finds `tools` on `PATH`; otherwise says what is
/// missing and how to get it.
pub(crate) fn require_host(tools: &[&str]) -> Result<Vec<PathBuf>, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(SBIN.iter().map(PathBuf::from))
        .collect();
    require(tools, &dirs, effective_uid())
}

fn require(tools: &[&str], dirs: &[PathBuf], uid: Option<u32>) -> Result<Vec<PathBuf>, String> {
    let found: Vec<Option<PathBuf>> = tools
        .iter()
        .map(|tool| {
            dirs.iter()
                .map(|dir| dir.join(tool))
                .find(|path| path.is_file())
        })
        .collect();
    let missing: Vec<String> = tools
        .iter()
        .zip(&found)
        .filter(|(_, path)| path.is_none())
        .map(|(tool, _)| format!("`{tool}`"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} {} not installed (the oci runtime runs images with `runc` and `umoci`): \
             install them with `apt-get install runc umoci`, or deploy with `--runtime process`",
            missing.join(" and "),
            if missing.len() == 1 { "is" } else { "are" }
        ));
    }
    match uid {
        Some(0) => Ok(found.into_iter().flatten().collect()),
        uid => Err(format!(
            "the oci runtime runs containers with `runc` as root, and motif serve runs as {}: \
             run motif serve as root, or deploy with `--runtime process`",
            uid.map_or_else(|| "an unknown user".to_owned(), |uid| format!("uid {uid}"))
        )),
    }
}

/// This process's effective user id, from `/proc/self/status` (`Uid: REAL EFFECTIVE ...`).
fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The manifest digest of the image tagged `tag` in the layout `layout`.
pub(crate) fn manifest_digest(layout: &Path, tag: &str) -> Result<String, ArtifactError> {
    let file = layout.join("index.json");
    // The caller's input, not this server's state: a 422 that says what is wrong.
    let bytes = fs::read(&file).map_err(|e| {
        ArtifactError::Invalid(format!(
            "`{}` is not an OCI image layout: cannot read its `index.json`: {e}",
            layout.display()
        ))
    })?;
    let index: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ArtifactError::Invalid(format!("`{}` is not an image index: {e}", file.display()))
    })?;
    let manifests = index["manifests"].as_array().map_or(&[][..], Vec::as_slice);
    let Some(entry) = manifests
        .iter()
        .find(|m| m["annotations"][REF_NAME].as_str() == Some(tag))
    else {
        let tags: Vec<&str> = manifests
            .iter()
            .filter_map(|m| m["annotations"][REF_NAME].as_str())
            .collect();
        return Err(ArtifactError::Invalid(format!(
            "the image layout `{}` has no image tagged `{tag}` (its tags: {})",
            layout.display(),
            if tags.is_empty() {
                "none".to_owned()
            } else {
                tags.join(", ")
            }
        )));
    };
    let digest = entry["digest"].as_str().unwrap_or_default();
    let valid = digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    });
    if !valid {
        return Err(ArtifactError::Invalid(format!(
            "the image `{tag}` of `{}` has no sha256 digest (`{digest}`)",
            layout.display()
        )));
    }
    Ok(digest.to_owned())
}

/// Unpacks `layout:tag` into the runtime bundle `bundle` (`config.json`, `rootfs/`)
/// with `umoci unpack`. Blocking.
pub(crate) fn unpack(layout: &Path, tag: &str, bundle: &Path) -> Result<(), ArtifactError> {
    let umoci = require_host(&["umoci"]).map_err(ArtifactError::Invalid)?;
    let image = format!("{}:{tag}", layout.display());
    let output = Command::new(&umoci[0])
        .args(["unpack", "--image", &image])
        .arg(bundle)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ArtifactError::Io {
            action: "run",
            path: umoci[0].clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(ArtifactError::Invalid(format!(
            "`umoci unpack` cannot unpack `{image}` ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

static NEXT_CONTAINER: AtomicU64 = AtomicU64::new(1);

/// Starts a container of the unpacked image `bundle` as a process instance, ready;
/// `source` (`REVISION/N`) names it in the log. On failure nothing of it is left.
/// Removes the instance directories a killed server left under `artifacts` (its
/// containers went with it: `runc run` deletes a container whose process exits, and
/// `runc` got SIGTERM when its parent died). Only a server holding the state directory
/// (its store's lock) calls it, so no directory of a running instance is touched.
pub(crate) fn remove_stale_instances(artifacts: &Path) {
    let Ok(entries) = fs::read_dir(artifacts) else {
        return;
    };
    for entry in entries.flatten() {
        let run = entry.path().join("run");
        if run.is_dir()
            && let Err(e) = fs::remove_dir_all(&run)
        {
            tracing::warn!("cannot remove `{}`: {e}", run.display());
        }
    }
}

pub(crate) async fn start(
    bundle: &Path,
    launch: &Launch,
    source: String,
) -> Result<ProcessInstance, String> {
    let runc = require_host(&["runc"])?.remove(0);
    // Unique on this machine: runc's state directory is shared by every `motif serve`.
    let id = format!(
        "motif-{}-{}-{}",
        std::process::id(),
        NEXT_CONTAINER.fetch_add(1, Ordering::Relaxed),
        source.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
    );
    let port = crate::instance::free_port()
        .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?
        .port();
    let mut env = launch.env.clone();
    env.push(("PORT".into(), port.to_string()));
    let prepared = {
        let (bundle, id, runc) = (bundle.to_owned(), id.clone(), runc.clone());
        tokio::task::spawn_blocking(move || Container::prepare(&bundle, id, runc, &env))
            .await
            .map_err(|e| format!("cannot prepare the container: {e}"))?
    };
    let container = prepared?;
    let spec = ProcessSpec {
        program: runc,
        args: vec![
            "run".into(),
            "--bundle".into(),
            container.dir.clone().into(),
            id.clone().into(),
        ],
        env: vec![],
        dir: container.dir.clone(),
    };
    let options = InstanceOptions {
        ready_timeout: launch.ready_timeout,
        tee: Some((launch.log.clone(), source)),
        port: Some(port),
        ..InstanceOptions::default()
    };
    tracing::debug!(%id, port, "container starting");
    match ProcessInstance::start(spec, options).await {
        Ok(mut instance) => {
            instance.hold(Box::new(container));
            Ok(instance)
        }
        Err(e) => {
            let _ = tokio::task::spawn_blocking(move || drop(container)).await;
            Err(format!("the container `{id}`: {}", error_chain(&e)))
        }
    }
}

/// A container's name and directory: deleted, with the directory, when dropped.
#[derive(Debug)]
struct Container {
    id: String,
    /// Its own bundle: `config.json`, whose root is the image's shared `rootfs/`.
    dir: PathBuf,
    runc: PathBuf,
}

impl Container {
    /// Writes the bundle of container `id` of the image unpacked in `bundle`, with `env`
    /// over the image's environment. Blocking.
    fn prepare(
        bundle: &Path,
        id: String,
        runc: PathBuf,
        env: &[(String, String)],
    ) -> Result<Container, String> {
        let bundle = fs::canonicalize(bundle)
            .map_err(|e| format!("cannot read the image `{}`: {e}", bundle.display()))?;
        let file = bundle.join("config.json");
        let image: Value = fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
            .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
        let dir = bundle
            .parent()
            .map_or_else(|| bundle.join("run"), |artifact| artifact.join("run"))
            .join(&id);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        // From here on, dropping it removes what was made.
        let container = Container { id, dir, runc };
        let host_files: Vec<&Path> = HOST_FILES
            .iter()
            .map(Path::new)
            .filter(|file| file.is_file())
            .collect();
        let config = runtime_config(image, &bundle, &container.id, env, &host_files);
        let file = container.dir.join("config.json");
        let json = serde_json::to_vec_pretty(&config).expect("a config serialises");
        fs::write(&file, json).map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
        Ok(container)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        // `--force` kills it first if it still runs: its `runc run` was killed, or the
        // instance was dropped without a stop. A container already gone is no error.
        let deleted = Command::new(&self.runc)
            .args(["delete", "--force", &self.id])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output();
        match deleted {
            Ok(output) if output.status.success() => {}
            Ok(output) => tracing::warn!(
                id = %self.id,
                "cannot delete the container ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            Err(e) => tracing::warn!(id = %self.id, "cannot run `runc delete`: {e}"),
        }
        match fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                tracing::warn!(dir = %self.dir.display(), "cannot remove a container's directory: {e}");
            }
            _ => tracing::debug!(id = %self.id, "container deleted"),
        }
    }
}

/// The runtime config of container `id`: the image's (`image`, unpacked in the absolute
/// directory `bundle`) adjusted as the module says, with `env` (`PORT` included) over
/// the image's environment and `host_files` bound read-only.
fn runtime_config(
    mut config: Value,
    bundle: &Path,
    id: &str,
    env: &[(String, String)],
    host_files: &[&Path],
) -> Value {
    let rootfs = config["root"]["path"]
        .as_str()
        .unwrap_or("rootfs")
        .to_owned();
    config["root"] = json!({ "path": bundle.join(rootfs), "readonly": true });
    config["hostname"] = json!(id);

    if let Some(namespaces) = config["linux"]["namespaces"].as_array_mut() {
        namespaces.retain(|ns| ns["type"] != "network");
    }

    let process = &mut config["process"];
    process["terminal"] = json!(false);
    if let Some(process) = process.as_object_mut() {
        process.remove("consoleSize");
        process.remove("rlimits");
    }
    let mut vars: Vec<String> = process["env"]
        .as_array()
        .map(|vars| {
            vars.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for (name, value) in env {
        // Replaced in place: a program reads the first of two entries of a name.
        let prefix = format!("{name}=");
        vars.retain(|var| !var.starts_with(&prefix));
        vars.push(format!("{name}={value}"));
    }
    process["env"] = json!(vars);

    let mut added = vec![json!({
        "destination": "/tmp",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "nodev", "mode=1777"],
    })];
    added.extend(host_files.iter().map(|file| {
        json!({
            "destination": file,
            "type": "bind",
            "source": file,
            "options": ["rbind", "ro", "nosuid", "nodev", "noexec"],
        })
    }));
    let destinations: Vec<Value> = added.iter().map(|m| m["destination"].clone()).collect();
    let mut mounts: Vec<Value> = config["mounts"].as_array().cloned().unwrap_or_default();
    mounts.retain(|m| !destinations.contains(&m["destination"]));
    mounts.extend(added);
    config["mounts"] = json!(mounts);
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpacked() -> Value {
        json!({
            "ociVersion": "1.0.0",
            "process": {
                "terminal": true,
                "args": ["/usr/local/bin/motif-invoker", "--command", "/function/handler"],
                "env": ["PATH=/usr/bin:/bin", "PORT=8080", "GREETING=hello"],
                "cwd": "/function",
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            },
            "root": {"path": "rootfs"},
            "hostname": "umoci-default",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/tmp", "type": "bind", "source": "/somewhere"},
            ],
            "linux": {
                "namespaces": [
                    {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                    {"type": "uts"}, {"type": "mount"},
                ],
            },
        })
    }

    #[test]
    fn the_runtime_config_shares_the_network_and_a_read_only_root_with_a_scratch_tmp() {
        let env = [
            ("PORT".to_owned(), "41234".to_owned()),
            ("K_REVISION".to_owned(), "echo-00001".to_owned()),
        ];
        let config = runtime_config(
            unpacked(),
            Path::new("/state/artifacts/abc/bundle"),
            "motif-1-2-echo-00001-1",
            &env,
            &[Path::new("/etc/hosts")],
        );
        assert_eq!(
            config["root"],
            json!({"path": "/state/artifacts/abc/bundle/rootfs", "readonly": true})
        );
        assert_eq!(config["hostname"], "motif-1-2-echo-00001-1");
        let namespaces: Vec<&str> = config["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|ns| ns["type"].as_str().unwrap())
            .collect();
        assert_eq!(namespaces, ["pid", "ipc", "uts", "mount"]);
        assert_eq!(config["process"]["terminal"], false);
        assert!(config["process"].get("rlimits").is_none());
        assert_eq!(
            config["process"]["env"],
            json!([
                "PATH=/usr/bin:/bin",
                "GREETING=hello",
                "PORT=41234",
                "K_REVISION=echo-00001"
            ])
        );
        assert_eq!(config["process"]["cwd"], "/function");
        let mounts: Vec<(&str, &str)> = config["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["destination"].as_str().unwrap(),
                    m["type"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            mounts,
            [("/proc", "proc"), ("/tmp", "tmpfs"), ("/etc/hosts", "bind")]
        );
    }

    #[test]
    fn a_missing_tool_or_user_says_what_to_install_or_do() {
        let empty = scratch("tools");
        let error = require(&["runc", "umoci"], std::slice::from_ref(&empty), Some(0)).unwrap_err();
        assert!(
            error.starts_with("`runc` and `umoci` are not installed")
                && error.contains("apt-get install runc umoci"),
            "{error}"
        );
        fs::write(empty.join("umoci"), "").unwrap();
        let error = require(&["runc", "umoci"], std::slice::from_ref(&empty), Some(0)).unwrap_err();
        assert!(error.starts_with("`runc` is not installed"), "{error}");
        fs::write(empty.join("runc"), "").unwrap();
        let found = require(&["runc", "umoci"], std::slice::from_ref(&empty), Some(0)).unwrap();
        assert_eq!(found, [empty.join("runc"), empty.join("umoci")]);
        let error = require(&["runc"], std::slice::from_ref(&empty), Some(1000)).unwrap_err();
        assert!(
            error.contains("as root") && error.contains("uid 1000"),
            "{error}"
        );
        fs::remove_dir_all(&empty).unwrap();
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("motif-oci-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Whether runc can run here; if not, says why (a failure with `MOTIF_REQUIRE_RUNC=1`).
    fn runc_available() -> bool {
        let Err(why) = require_host(&["runc"]) else {
            return true;
        };
        if std::env::var("MOTIF_REQUIRE_RUNC").is_ok_and(|v| v == "1") {
            panic!("{why} (MOTIF_REQUIRE_RUNC=1)");
        }
        eprintln!("skip: {why} (MOTIF_REQUIRE_RUNC=1 makes this a failure)");
        false
    }

    fn runc_state(id: &str) -> Option<Value> {
        let output = Command::new("runc").args(["state", id]).output().unwrap();
        output
            .status
            .success()
            .then(|| serde_json::from_slice(&output.stdout).unwrap())
    }

    #[test]
    fn a_dropped_container_is_deleted_even_while_it_runs_and_its_directory_removed() {
        if !runc_available() {
            return;
        }
        // An image of /bin/sh waiting on its stdin, unpacked as umoci would.
        let artifact = scratch("dropped");
        let bundle = artifact.join("bundle");
        let rootfs = bundle.join("rootfs");
        let sh = Path::new("/bin/sh");
        let mut files = motif_build::libraries::shared_libraries(sh).unwrap();
        files.push(sh.to_owned());
        for file in files {
            let to = rootfs.join(file.strip_prefix("/").unwrap());
            fs::create_dir_all(to.parent().unwrap()).unwrap();
            fs::copy(&file, &to).unwrap();
        }
        let output = Command::new("runc")
            .args(["spec", "--bundle"])
            .arg(&bundle)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let file = bundle.join("config.json");
        let mut image: Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        image["process"]["args"] = json!(["/bin/sh", "-c", "read line"]);
        fs::write(&file, image.to_string()).unwrap();

        let runc = require_host(&["runc"]).unwrap().remove(0);
        let id = format!("motif-test-{}-dropped", std::process::id());
        let container = Container::prepare(&bundle, id.clone(), runc.clone(), &[]).unwrap();
        let dir = container.dir.clone();
        assert_eq!(dir, artifact.join("run").join(&id));
        let mut run = Command::new(&runc)
            .args(["run", "--bundle"])
            .arg(&dir)
            .arg(&id)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while runc_state(&id).is_none_or(|state| state["status"] != "running") {
            assert!(std::time::Instant::now() < deadline, "{id} does not run");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }

        drop(container);
        assert_eq!(runc_state(&id), None);
        assert!(!dir.exists());
        // Its `runc run` ends with it, without a word on its stdin.
        let status = run.wait().unwrap();
        assert!(!status.success(), "{status}");
        fs::remove_dir_all(&artifact).unwrap();
    }

    #[test]
    fn the_manifest_digest_is_read_from_the_layouts_index() {
        let dir = scratch("layout");
        let digest = format!("sha256:{}", "ab".repeat(32));
        fs::write(
            dir.join("index.json"),
            json!({"schemaVersion": 2, "manifests": [
                {"digest": digest, "annotations": {REF_NAME: "v1"}},
            ]})
            .to_string(),
        )
        .unwrap();
        assert_eq!(manifest_digest(&dir, "v1").unwrap(), digest);
        let error = manifest_digest(&dir, "v2").unwrap_err().to_string();
        assert!(
            error.contains("no image tagged `v2` (its tags: v1)"),
            "{error}"
        );
        let error = manifest_digest(&dir.join("nothing"), "v1").unwrap_err();
        assert!(
            matches!(&error, ArtifactError::Invalid(e) if e.contains("is not an OCI image layout")),
            "{error}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
