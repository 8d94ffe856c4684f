//! The instance runtimes: how one instance of a revision starts, takes a request, and
//! stops. A wasm instance is the function loaded into this process (its component
//! compiled or read from the cache, pre-instantiated; each request still gets a fresh
//! wasm instance); a process instance is its invoker as a child process on a loopback
//! port ([`crate::instance`]), reached over HTTP/1.1 with pooled connections; an oci
//! instance is a process instance too, `runc run` of a container (`crate::oci`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use std::time::{Duration, Instant};

use axum::body::Body;
use http::header::{HeaderMap, HeaderValue};
use http::{Request, Response, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use motif_runtime::cgi::Output;
use motif_runtime::{Config, Server, strip_hop_by_hop};
use motif_wasm::cache::Cache;
use motif_wasm::{AllowedHosts, EngineSettings, WasmEngine, WasmFunction};
use tower::ServiceExt;

use crate::artifact::Runnable;
use crate::instance::{InstanceOptions, ProcessInstance, ProcessSpec};
use crate::loaded::{LoadKey, Loaded, WasmInstance};
use crate::logs::FunctionLog;

/// How many times (10 ms apart) a failed connection's process is checked for an exit.
const EXIT_SETTLE_POLLS: usize = 20;

/// What every instance of this server shares: one wasm engine and compile cache, one
/// pool of connections to process instances.
pub(crate) struct Host {
    wasm: std::sync::OnceLock<Result<WasmEngine, String>>,
    wasm_settings: EngineSettings,
    cache: Cache,
    loaded: Arc<Loaded>,
    client: Client<HttpConnector, Body>,
}

impl Host {
    /// A host whose wasm functions compile into `cache_dir`, of which the last
    /// `keep_loaded` stopped stay loaded.
    pub(crate) fn new(cache_dir: &Path, wasm_settings: EngineSettings, keep_loaded: usize) -> Host {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            // Instances come and go: an idle connection to a stopped one is useless.
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Host {
            wasm: std::sync::OnceLock::new(),
            wasm_settings,
            cache: Cache::new(cache_dir),
            loaded: Loaded::new(keep_loaded),
            client,
        }
    }

    /// The pooled HTTP client (for the broker's deliveries to URLs too).
    pub(crate) fn client(&self) -> &Client<HttpConnector, Body> {
        &self.client
    }

    /// The engine, made on first use: a server that runs no wasm reserves no pool.
    fn engine(&self) -> Result<WasmEngine, String> {
        self.wasm
            .get_or_init(|| {
                WasmEngine::new(self.wasm_settings.clone())
                    .map_err(|e| format!("cannot start the wasm engine: {e:#}"))
            })
            .clone()
    }
}

/// One ready instance of a revision.
pub(crate) enum Instance {
    /// Loaded into this process.
    Wasm(WasmInstance),
    /// A child process.
    Process(Box<ProcessInstance>),
    /// A container: a process instance whose process is `runc run`.
    Container(Box<ProcessInstance>),
}

/// How to start an instance of a revision.
pub(crate) struct Launch {
    pub runnable: Runnable,
    /// The function's environment: the contract's variables, Knative's `K_*`, its `env`.
    pub env: Vec<(String, String)>,
    pub ready_timeout: Duration,
    pub log: FunctionLog,
}

/// Why a request could not be handed to an instance, or the instance failed it.
#[derive(Debug)]
pub(crate) enum ForwardError {
    /// The instance's process is gone.
    Exited,
    /// The connection failed or broke.
    Broken(String),
}

impl Instance {
    /// Starts an instance; `source` names it in the log. Returns it ready, and how long
    /// that took.
    pub(crate) async fn start(
        host: &Host,
        launch: &Launch,
        source: String,
    ) -> Result<(Instance, Duration), String> {
        let started = Instant::now();
        match &launch.runnable {
            Runnable::Wasm { path } => {
                let instance = start_wasm(host, path, &launch.env).await?;
                Ok((Instance::Wasm(instance), started.elapsed()))
            }
            Runnable::Process {
                program,
                args,
                env,
                dir,
            } => {
                let mut all = launch.env.clone();
                all.extend(env.iter().cloned());
                let spec = ProcessSpec {
                    program: program.clone(),
                    args: args.iter().map(Into::into).collect(),
                    env: all,
                    dir: dir.clone(),
                };
                let options = InstanceOptions {
                    ready_timeout: launch.ready_timeout,
                    tee: Some((launch.log.clone(), source)),
                    ..InstanceOptions::default()
                };
                let instance = ProcessInstance::start(spec, options)
                    .await
                    .map_err(|e| error_chain(&e))?;
                let ready = instance.ready_after();
                Ok((Instance::Process(Box::new(instance)), ready))
            }
            Runnable::Oci { bundle } => {
                // A container is a process instance whose process is `runc run`.
                let instance = crate::oci::start(bundle, launch, source).await?;
                let ready = instance.ready_after();
                Ok((Instance::Container(Box::new(instance)), ready))
            }
        }
    }

    /// Its process, unless it runs in this one.
    fn process(&self) -> Option<&ProcessInstance> {
        match self {
            Instance::Wasm(_) => None,
            Instance::Process(process) | Instance::Container(process) => Some(process),
        }
    }

    /// `wasm`, `process` or `oci`.
    pub(crate) fn runtime(&self) -> &'static str {
        match self {
            Instance::Wasm(_) => "wasm",
            Instance::Process(_) => "process",
            Instance::Container(_) => "oci",
        }
    }

    /// Whether it can take requests: a process that exited cannot.
    pub(crate) fn is_alive(&self) -> bool {
        self.process().is_none_or(ProcessInstance::is_alive)
    }

    /// The process id of a process instance (`runc`'s, for a container).
    pub(crate) fn pid(&self) -> Option<u32> {
        self.process().map(ProcessInstance::pid)
    }

    /// Sends `request` (its URI already the function's own path) to the instance.
    pub(crate) async fn forward(
        &self,
        host: &Host,
        mut request: Request<Body>,
    ) -> Result<Response<Body>, ForwardError> {
        match self {
            Instance::Wasm(wasm) => {
                let response = wasm.router.clone().oneshot(request).await;
                Ok(response.unwrap_or_else(|never| match never {}))
            }
            Instance::Process(process) | Instance::Container(process) => {
                let path = request
                    .uri()
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                let uri = format!("http://{}{path}", process.addr());
                *request.uri_mut() = uri.parse::<Uri>().map_err(|e| {
                    ForwardError::Broken(format!("cannot address the instance: {e}"))
                })?;
                strip_hop_by_hop(request.headers_mut());
                match host.client.request(request).await {
                    Ok(response) => {
                        let (mut parts, body) = response.into_parts();
                        strip_hop_by_hop(&mut parts.headers);
                        Ok(Response::from_parts(parts, Body::new(body)))
                    }
                    Err(e) => {
                        // A killed process closes its sockets a moment before it can be
                        // seen to have exited: look again before blaming the connection.
                        for _ in 0..EXIT_SETTLE_POLLS {
                            if !process.is_alive() {
                                return Err(ForwardError::Exited);
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        Err(ForwardError::Broken(error_chain(&e)))
                    }
                }
            }
        }
    }

    /// Stops it: a process gets SIGTERM and `drain` to finish, a wasm instance is
    /// dropped (the requests it is running hold what they need).
    pub(crate) async fn stop(self, drain: Duration) {
        if let Instance::Process(process) | Instance::Container(process) = self {
            let pid = process.pid();
            if let Err(e) = (*process).stop(drain).await {
                tracing::warn!(pid, "cannot stop an instance: {}", error_chain(&e));
            }
        }
    }
}

async fn start_wasm(
    host: &Host,
    path: &Path,
    env: &[(String, String)],
) -> Result<WasmInstance, String> {
    let vars: BTreeMap<&str, &str> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut config = Config::from_lookup(|name| vars.get(name).map(|v| (*v).to_owned()))
        .map_err(|e| format!("invalid setting: {e}"))?;
    let engine = host.engine()?;
    let output = Output {
        response_type: vars
            .get("MOTIF_RESPONSE_TYPE")
            .map_or("application/octet-stream", |v| v)
            .to_owned(),
        reply_type: vars.get("MOTIF_REPLY_TYPE").map(|v| (*v).to_owned()),
    };
    let allowed_hosts = vars
        .get("MOTIF_ALLOWED_OUTBOUND_HOSTS")
        .map_or("", |v| v)
        .to_owned();
    let key = LoadKey {
        path: path.to_owned(),
        response_type: output.response_type.clone(),
        reply_type: output.reply_type.clone(),
        max_output: config.max_body,
        allowed_hosts: allowed_hosts.clone(),
    };
    let function = host.loaded.get_or_open(&key, || {
        let allowed = AllowedHosts::parse(
            allowed_hosts
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty()),
        )
        .map_err(|e| format!("invalid MOTIF_ALLOWED_OUTBOUND_HOSTS: {e}"))?;
        WasmFunction::open(path, engine, host.cache.clone(), output, config.max_body)
            .map(|f| f.with_allowed_hosts(allowed))
            .map_err(|e| error_chain(&e))
    })?;
    config.kind = function.kind().unwrap_or(config.kind);
    let server = Server::new(function.clone(), config);
    server.init().await.map_err(|e| error_chain(&e))?;
    Ok(WasmInstance::new(
        server.router(),
        key,
        function,
        host.loaded.clone(),
    ))
}

/// Sets `X-Forwarded-*` as a proxy does, so the function knows how it was called.
pub(crate) fn forwarded(
    headers: &mut HeaderMap,
    client: Option<std::net::SocketAddr>,
    host: Option<&str>,
) {
    if let Some(client) = client
        && let Ok(value) = HeaderValue::from_str(&client.ip().to_string())
    {
        headers.append("x-forwarded-for", value);
    }
    if let Some(host) = host
        && let Ok(value) = HeaderValue::from_str(host)
    {
        headers.insert("x-forwarded-host", value);
    }
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
}

/// An error and its causes on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
