//! The oci runtime with the real `umoci` and `runc`: an image of this machine's
//! `motif-invoker` serving a shell command, written as an OCI layout, deployed to a
//! `motif serve` on loopback and requested through its gateway; no container and no
//! instance directory is left after a delete, a shutdown or a failed start.
//!
//! They need root, `runc` and `umoci` (`apt-get install runc umoci`): without them
//! they print `skip:` and pass, unless `MOTIF_REQUIRE_RUNC=1` (scripts/test.sh sets it).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use motif_api::{FunctionSpec, Kind, Language};
use motif_build::oci::{Image, ImageConfig, Layer, LayerBuilder, Platform};
use motif_serve::Settings;
use motif_serve::artifact::{ArtifactError, Source};
use motif_serve::server::{Bound, Endpoints};
use motif_serve::serving::{ServeError, Serving};
use motif_test_support::{add_host_binaries, require_tool, run_tool};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Whether this machine can run containers; if not, says why (and fails instead with
/// `MOTIF_REQUIRE_RUNC=1`).
fn runc_available() -> bool {
    let mut missing: Vec<String> = ["runc", "umoci"]
        .iter()
        .filter_map(|tool| require_tool(tool, tool).err())
        .map(|e| e.to_string())
        .collect();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|line| line.starts_with("Uid:"))
        .and_then(|line| line.split_whitespace().nth(2))
        == Some("0");
    if !root {
        missing.push("runc runs containers as root only, and this test is not root".into());
    }
    if missing.is_empty() {
        return true;
    }
    let why = missing.join("; ");
    if std::env::var("MOTIF_REQUIRE_RUNC").is_ok_and(|v| v == "1") {
        panic!("{why} (MOTIF_REQUIRE_RUNC=1)");
    }
    eprintln!("skip: {why} (MOTIF_REQUIRE_RUNC=1 makes this a failure)");
    false
}

/// `name` under the target's scratch space, emptied.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("oci")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A layer of this machine's `motif-invoker` (without its debug info), `/bin/sh` and
/// `/bin/cat` with their shared libraries: built once, since it is tens of MB to gzip.
fn tools_layer() -> Layer {
    static LAYER: OnceLock<Layer> = OnceLock::new();
    LAYER
        .get_or_init(|| {
            let invoker = motif_test_support::motif_invoker().expect("build motif-invoker");
            let work = scratch("invoker");
            let invoker = motif_test_support::strip_debug(&invoker, &work).unwrap();
            let mut layer = LayerBuilder::new();
            add_host_binaries(
                &mut layer,
                &[
                    ("/usr/local/bin/motif-invoker", &invoker),
                    ("/bin/sh", Path::new("/bin/sh")),
                    ("/bin/cat", Path::new("/bin/cat")),
                ],
            )
            .unwrap();
            layer.finish().unwrap()
        })
        .clone()
}

/// An OCI layout in `dir` with one image, tagged `v1`, running `entrypoint`.
fn layout(dir: &Path, entrypoint: &[&str]) -> PathBuf {
    let config = ImageConfig {
        entrypoint: entrypoint.iter().map(|s| (*s).to_owned()).collect(),
        env: vec![
            "PATH=/usr/local/bin:/bin".into(),
            "PORT=8080".into(),
            "GREETING=from the image".into(),
        ],
        exposed_ports: vec!["8080/tcp".into()],
        ..ImageConfig::default()
    };
    let image = Image::assemble(None, vec![tools_layer()], &config, &Platform::host()).unwrap();
    let layout = dir.join("layout");
    image.write_layout(&layout, "v1").unwrap();
    layout
}

/// The invoker serving an http command function: the body back through a file in
/// `/tmp`, whether `/` is writable, and two variables (one of the image, one of motif).
fn echo_layout(dir: &Path) -> PathBuf {
    let script = r#"cat > /tmp/body && cat /tmp/body
if (: > /probe) 2>/dev/null; then echo ' root=writable'; else echo ' root=read-only'; fi
printf '%s|%s|%s' "$GREETING" "$K_REVISION" "$PORT""#;
    layout(
        dir,
        &[
            "/usr/local/bin/motif-invoker",
            "--command",
            "/bin/sh",
            "-c",
            script,
        ],
    )
}

fn spec() -> FunctionSpec {
    FunctionSpec {
        language: Language::Command,
        kind: Kind::Http,
        env: [("MOTIF_RESPONSE_TYPE".to_owned(), "text/plain".to_owned())].into(),
        ..FunctionSpec::default()
    }
}

/// A running `motif serve` with its state in `dir`.
struct Served {
    endpoints: Endpoints,
    serving: Arc<Serving>,
    state: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Served {
    async fn start(dir: &Path) -> Served {
        let mut settings = Settings::new(dir.join("state"));
        settings.cache_dir = dir.join("cache");
        settings.drain = Duration::from_secs(5);
        settings.ready_timeout = Duration::from_secs(20);
        let state = settings.state_dir.clone();
        let any = "127.0.0.1:0".parse().unwrap();
        let bound = Bound::bind(settings, any, any)
            .await
            .expect("motif serve starts");
        let endpoints = bound.endpoints().clone();
        let serving = bound.serving();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(bound.run(async {
            let _ = stopped.await;
        }));
        Served {
            endpoints,
            serving,
            state,
            stop,
            task,
        }
    }

    /// Stops it as SIGTERM does, and waits until it has drained.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }

    /// `METHOD path` on `addr`, with `headers`: the status and the body.
    async fn send(
        addr: std::net::SocketAddr,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> (u16, String) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request.body(Full::new(Bytes::from(body))).unwrap();
        let client = Client::builder(TokioExecutor::new()).build_http();
        let response = client.request(request).await.expect("an answer");
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// `POST /` with `body` to the function `name` through the gateway.
    async fn post(&self, name: &str, body: &str) -> (u16, String) {
        let headers = [
            ("host", format!("{name}.localhost")),
            ("content-type", "text/plain".to_owned()),
        ];
        Self::send(
            self.endpoints.gateway,
            Method::POST,
            "/",
            &headers,
            body.as_bytes().to_vec(),
        )
        .await
    }

    /// Deploys through the admin API, as `motif deploy` does.
    async fn admin_deploy(&self, name: &str, source: &Source) -> (u16, String) {
        let token = std::fs::read_to_string(self.state.join("admin-token")).unwrap();
        let headers = [
            ("authorization", format!("Bearer {}", token.trim())),
            ("content-type", "application/json".to_owned()),
        ];
        let body = serde_json::json!({ "spec": spec(), "source": source });
        Self::send(
            self.endpoints.admin,
            Method::PUT,
            &format!("/v1/functions/{name}"),
            &headers,
            serde_json::to_vec(&body).unwrap(),
        )
        .await
    }

    /// The ids of the containers runc knows whose bundle is in this server's state.
    fn containers(&self) -> Vec<String> {
        containers(&self.state)
    }

    /// The instance directories under the artifacts' `run/`.
    fn instance_dirs(&self) -> Vec<PathBuf> {
        instance_dirs(&self.state)
    }
}

/// The ids of the containers runc knows whose bundle is under `state`.
fn containers(state: &Path) -> Vec<String> {
    let listed = run_tool("runc", &["list", "--format", "json"]).unwrap();
    let listed: Value = serde_json::from_str(&listed).unwrap();
    listed
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|c| {
            c["bundle"]
                .as_str()
                .is_some_and(|b| Path::new(b).starts_with(state))
        })
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The instance directories under the artifacts' `run/` in `state`.
fn instance_dirs(state: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let Ok(artifacts) = std::fs::read_dir(state.join("artifacts")) else {
        return dirs;
    };
    for artifact in artifacts {
        if let Ok(run) = std::fs::read_dir(artifact.unwrap().path().join("run")) {
            dirs.extend(run.map(|entry| entry.unwrap().path()));
        }
    }
    dirs
}

fn oci(layout: &Path) -> Source {
    Source::Oci {
        layout: layout.to_owned(),
        tag: "v1".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_serves_through_the_gateway_and_a_delete_leaves_no_container() {
    if !runc_available() {
        return;
    }
    let dir = scratch("serves");
    let layout = echo_layout(&dir);
    let served = Served::start(&dir).await;
    let deployment = served
        .serving
        .deploy("echo", &spec(), &oci(&layout), None)
        .await
        .unwrap();
    assert!(deployment.created);
    assert_eq!(deployment.revision, "echo-00001");

    let (status, body) = served.post("echo", "hello").await;
    assert_eq!(status, 200, "{body}");
    let (echoed, vars) = body.split_once('\n').unwrap();
    assert_eq!(echoed, "hello root=read-only");
    let vars: Vec<&str> = vars.trim_end().split('|').collect();
    assert_eq!(vars[..2], ["from the image", "echo-00001"]);
    let port: u16 = vars[2].parse().unwrap();
    assert_ne!(port, 8080, "PORT is the instance's, not the image's");

    let running = served.containers();
    assert_eq!(running.len(), 1, "{running:?}");
    assert!(running[0].contains("echo-00001"), "{running:?}");
    assert_eq!(served.instance_dirs().len(), 1);

    // The same image again: the same artifact, unpacked once, and no new revision.
    let again = served
        .serving
        .deploy("echo", &spec(), &oci(&layout), None)
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(
        std::fs::read_dir(served.state.join("artifacts"))
            .unwrap()
            .count(),
        1
    );

    // Within the drain (5 s): runc passed SIGTERM on, and the invoker stopped at once.
    let deleting = std::time::Instant::now();
    served.serving.delete("echo").await.unwrap();
    let took = deleting.elapsed();
    assert!(took < Duration::from_secs(4), "the delete took {took:?}");
    assert_eq!(served.containers(), Vec::<String>::new());
    assert_eq!(served.instance_dirs(), Vec::<PathBuf>::new());
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shutdown_stops_the_containers_it_runs() {
    if !runc_available() {
        return;
    }
    let dir = scratch("shutdown");
    let layout = echo_layout(&dir);
    let served = Served::start(&dir).await;
    let (status, body) = served.admin_deploy("echo", &oci(&layout)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(served.post("echo", "hi").await.0, 200);
    assert_eq!(served.containers().len(), 1);
    assert_eq!(served.instance_dirs().len(), 1);
    let state = served.state.clone();
    served.stop().await;
    assert_eq!(containers(&state), Vec::<String>::new());
    assert_eq!(instance_dirs(&state), Vec::<PathBuf>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_container_that_exits_at_start_is_refused_with_its_output_and_leaves_nothing() {
    if !runc_available() {
        return;
    }
    let dir = scratch("exits");
    let layout = layout(&dir, &["/bin/sh", "-c", "echo 'no luck here' >&2; exit 3"]);
    let served = Served::start(&dir).await;
    let error = served
        .serving
        .deploy("broken", &spec(), &oci(&layout), None)
        .await
        .unwrap_err();
    let ServeError::NotReady { reason, logs, .. } = &error else {
        panic!("not a failed start: {error}");
    };
    assert!(reason.contains("exited"), "{reason}");
    assert!(
        logs.iter().any(|line| line.contains("no luck here")),
        "{logs:?}"
    );
    assert_eq!(served.containers(), Vec::<String>::new());
    assert_eq!(served.instance_dirs(), Vec::<PathBuf>::new());
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_the_layout_lacks_is_refused_with_422_and_the_tags_it_has() {
    if !runc_available() {
        return;
    }
    let dir = scratch("no-tag");
    let layout = echo_layout(&dir);
    let served = Served::start(&dir).await;
    let source = Source::Oci {
        layout: layout.clone(),
        tag: "v2".into(),
    };
    let error = served
        .serving
        .deploy("echo", &spec(), &source, None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ServeError::Artifact(ArtifactError::Invalid(_))),
        "{error}"
    );
    let (status, body) = served.admin_deploy("echo", &source).await;
    assert_eq!(status, 422, "{body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("has no image tagged `v2` (its tags: v1)"),
        "{detail}"
    );
    served.stop().await;
}
