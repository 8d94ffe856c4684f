//! A `motif serve` on free loopback ports with its state in the test's scratch space,
//! functions to deploy, and an HTTP client.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use motif_api::{FunctionSpec, Kind, Language};
use motif_serve::Settings;
use motif_serve::artifact::Source;
use motif_serve::server::{Bound, Endpoints};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub fn invoker() -> PathBuf {
    static INVOKER: OnceLock<PathBuf> = OnceLock::new();
    INVOKER
        .get_or_init(|| motif_test_support::motif_invoker().expect("build motif-invoker"))
        .clone()
}

/// The `wasi:http` fixture of `tests/wasm-guests` (`/hello`, `/echo`, `/state`, ...).
pub fn http_fixture() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        motif_test_support::wasm_guest("wasm32-wasip2", "http-fixture", "http_fixture.wasm")
            .expect("build the http fixture")
    })
    .clone()
}

/// `name` under the target's scratch space, emptied.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("serve")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `motif serve`.
pub struct Served {
    pub endpoints: Endpoints,
    pub state: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// Settings for a test: state in `dir`, a shared compile cache, short drains.
pub fn settings(dir: &Path) -> Settings {
    let mut settings = Settings::new(dir.join("state"));
    settings.cache_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-wasm-cache");
    settings.drain = Duration::from_secs(5);
    settings.ready_timeout = Duration::from_secs(10);
    settings
}

impl Served {
    pub async fn start(settings: Settings) -> Served {
        let any = "127.0.0.1:0".parse().unwrap();
        let state = settings.state_dir.clone();
        let bound = Bound::bind(settings, any, any)
            .await
            .expect("motif serve starts");
        let endpoints = bound.endpoints().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(bound.run(async {
            let _ = stopped.await;
        }));
        Served {
            endpoints,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops it as SIGTERM does, and waits until it has drained.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }

    /// Starts the drain now; the returned task ends when it is done.
    pub fn begin_stop(mut self) -> JoinHandle<std::io::Result<()>> {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap()
    }

    pub fn gateway(&self) -> SocketAddr {
        self.endpoints.gateway
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(self.state.join("admin-token"))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// `METHOD path` on the admin API with the token and a JSON body.
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let body = body.map_or_else(Vec::new, |b| serde_json::to_vec(&b).unwrap());
        send(
            self.endpoints.admin,
            Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", format!("Bearer {}", self.token()))
                .header("content-type", "application/json")
                .body(body)
                .unwrap(),
        )
        .await
    }

    /// Deploys through the admin API; panics unless it succeeds.
    pub async fn deploy(
        &self,
        name: &str,
        spec: &FunctionSpec,
        source: &Source,
    ) -> serde_json::Value {
        let reply = self
            .admin(
                Method::PUT,
                &format!("/v1/functions/{name}"),
                Some(serde_json::json!({ "spec": spec, "source": source })),
            )
            .await;
        assert_eq!(reply.status, 200, "deploy of {name}: {}", reply.text());
        reply.json()
    }

    /// `POST /` with `body` to function `host` (a host label) through the gateway.
    pub async fn post(&self, host: &str, body: &str) -> Reply {
        send(
            self.gateway(),
            Request::builder()
                .method(Method::POST)
                .uri("/")
                .header("host", format!("{host}.localhost"))
                .header("content-type", "text/plain")
                .body(body.as_bytes().to_vec())
                .unwrap(),
        )
        .await
    }

    /// The ready instances of `name`'s running revisions.
    pub async fn instances(&self, name: &str) -> Vec<serde_json::Value> {
        let function = self
            .admin(Method::GET, &format!("/v1/functions/{name}"), None)
            .await
            .json();
        function["running"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["instances"].as_array().unwrap().clone())
            .collect()
    }

    /// Waits until `name` runs `count` ready instances, for at most `timeout`.
    pub async fn wait_instances(&self, name: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let now = self.instances(name).await.len();
            if now == count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} still runs {now} instances, not {count}, after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// An answer: status, headers and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// Asserts an RFC 9457 problem with `status`.
    pub fn assert_problem(&self, status: u16) -> serde_json::Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.headers["content-type"],
            "application/problem+json",
            "{}",
            self.text()
        );
        let problem = self.json();
        assert_eq!(problem["status"], status);
        problem
    }
}

fn client() -> &'static Client<HttpConnector, Full<Bytes>> {
    static CLIENT: OnceLock<Client<HttpConnector, Full<Bytes>>> = OnceLock::new();
    CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build_http())
}

/// Sends `request` to `addr` over HTTP/1.1.
pub async fn send(addr: SocketAddr, request: Request<Vec<u8>>) -> Reply {
    try_send(addr, request)
        .await
        .expect("the request is answered")
}

/// Sends `request`; `Err` when the connection fails.
pub async fn try_send(addr: SocketAddr, request: Request<Vec<u8>>) -> Result<Reply, String> {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("http://{addr}{path}").parse().unwrap();
    let request = Request::from_parts(parts, Full::new(Bytes::from(body)));
    let response = client().request(request).await.map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

/// A command function's directory: `handler.sh` running `script` (stdin is the body).
pub fn command_function(dir: &Path, script: &str) -> Source {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let handler = dir.join("handler.sh");
    std::fs::write(&handler, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&handler, std::fs::Permissions::from_mode(0o755)).unwrap();
    Source::Process {
        program: invoker(),
        args: vec![
            "--command".into(),
            handler.canonicalize().unwrap().display().to_string(),
        ],
        env: vec![],
        dir: dir.to_owned(),
        program_is_artifact: false,
    }
}

/// The spec of an http command function answering text.
pub fn command_spec() -> FunctionSpec {
    FunctionSpec {
        language: Language::Command,
        kind: Kind::Http,
        env: [("MOTIF_RESPONSE_TYPE".to_owned(), "text/plain".to_owned())].into(),
        ..FunctionSpec::default()
    }
}

/// The spec of a wasm http function.
pub fn wasm_spec() -> FunctionSpec {
    FunctionSpec {
        language: Language::RustWasm,
        kind: Kind::Http,
        ..FunctionSpec::default()
    }
}
