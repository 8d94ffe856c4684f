//! The commands that work on `motif serve`, the serving layer of this machine: `motif
//! serve` itself, and `deploy`, `list`, `describe`, `delete`, `logs` and `traffic`
//! without `--cluster`, `events` and `subscribe`.
//!
//! They find the server through its state directory (`--state-dir`, `MOTIF_STATE_DIR`,
//! else `$XDG_STATE_HOME/motif/serve`, else `~/.local/state/motif/serve`): its
//! `serve.json` says where the admin API listens, its `admin-token` (owner-only) is the
//! bearer token. No server running exits 5; a function that is not there exits 6.

pub mod deploy;
pub mod events;
pub mod logs;
pub mod serve;
pub mod subscribe;
pub mod traffic;
pub mod view;

use std::path::PathBuf;

use motif_serve::server::Endpoints;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{CliError, Kind};

/// The state directory flag every local command takes.
#[derive(Clone, Debug, clap::Args)]
pub struct StateArgs {
    /// The state directory of `motif serve` [default: $XDG_STATE_HOME/motif/serve, else
    /// ~/.local/state/motif/serve].
    #[arg(long, env = "MOTIF_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

impl StateArgs {
    /// The directory.
    pub fn dir(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(default_state_dir)
    }
}

fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("motif/serve");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".local/state/motif/serve")
}

/// A client of a running `motif serve`'s admin API.
pub struct Admin {
    base: String,
    token: String,
    client: reqwest::Client,
    /// Where functions are served.
    pub endpoints: Endpoints,
}

impl Admin {
    /// Finds the server of `state`.
    pub fn connect(state: &StateArgs) -> Result<Admin, CliError> {
        let dir = state.dir();
        let (endpoints, token) = Endpoints::read(&dir).map_err(|e| {
            CliError::new(
                Kind::Network,
                anyhow::Error::new(e).context(format!(
                    "no motif serve is running with the state directory `{}`",
                    dir.display()
                )),
            )
            .hint("start one with `motif serve` (or pass the --state-dir it uses); deploy to Kubernetes with --cluster")
        })?;
        Ok(Admin {
            base: format!("http://{}", endpoints.admin),
            token,
            client: reqwest::Client::new(),
            endpoints,
        })
    }

    /// Sends a request with a JSON body (or none) and decodes the JSON answer.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, CliError> {
        let response = self.send(method, path, body).await?;
        let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            CliError::new(
                Kind::Other,
                anyhow::Error::new(e).context("motif serve answered something unexpected"),
            )
        })
    }

    /// Whether motif serve has the function `name`.
    pub async fn exists(&self, name: &str) -> Result<bool, CliError> {
        let response = self
            .client
            .get(format!("{}/v1/functions/{name}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(false),
            status if status.is_success() => Ok(true),
            _ => Err(problem_error(response).await),
        }
    }

    /// Sends a request; an error status becomes a [`CliError`] from its problem.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<reqwest::Response, CliError> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(problem_error(response).await)
    }

    fn unreachable(&self, e: reqwest::Error) -> CliError {
        CliError::new(
            Kind::Network,
            anyhow::Error::new(e).context(format!(
                "cannot reach motif serve's admin API at {}",
                self.endpoints.admin
            )),
        )
        .hint(format!(
            "is motif serve (pid {}) still running? start it again with `motif serve`",
            self.endpoints.pid
        ))
    }
}

/// Prints each JSON line of a streamed answer as `print` renders it (`None` skips a
/// line), until the stream ends, `print` has printed `limit` lines, Ctrl-C, or stdout
/// closes (`| head`: a quiet end).
pub(crate) async fn print_json_lines<T: DeserializeOwned>(
    mut response: reqwest::Response,
    limit: Option<u64>,
    mut print: impl FnMut(T) -> Option<String>,
) -> Result<(), CliError> {
    use std::io::Write;
    let mut pending = Vec::new();
    let mut printed = 0;
    let stdout = std::io::stdout();
    loop {
        if limit.is_some_and(|n| printed >= n) {
            return Ok(());
        }
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk.map_err(|e| CliError::new(Kind::Network, e))?,
            () = crate::run::shutdown() => return Ok(()),
        };
        let Some(chunk) = chunk else {
            return Ok(());
        };
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if limit.is_some_and(|n| printed >= n) {
                return Ok(());
            }
            let Some(text) = serde_json::from_slice::<T>(&line).ok().and_then(&mut print) else {
                continue;
            };
            printed += 1;
            let mut out = stdout.lock();
            if writeln!(out, "{text}").is_err() || out.flush().is_err() {
                return Ok(());
            }
        }
    }
}

/// A problem+json answer as an error: 404 a missing function (exit 6), 422 bad input
/// (exit 3), the rest exit 1. A revision that did not start shows its last output.
pub(crate) async fn problem_error(response: reqwest::Response) -> CliError {
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let detail = body["detail"]
        .as_str()
        .map_or_else(|| status.to_string(), str::to_owned);
    let mut error = anyhow::anyhow!("{detail}");
    if let Some(logs) = body["logs"].as_array().filter(|l| !l.is_empty()) {
        let lines: Vec<_> = logs.iter().filter_map(|l| l.as_str()).collect();
        error = error.context(format!("its last output:\n  {}", lines.join("\n  ")));
        error = anyhow::anyhow!("{error:#}");
    }
    match status {
        StatusCode::NOT_FOUND => CliError::new(Kind::Function, error)
            .hint("`motif list` shows the functions motif serve has"),
        StatusCode::UNPROCESSABLE_ENTITY
            if body["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("/not-ready")) =>
        {
            CliError::new(Kind::Function, error)
                .hint("run it with `motif run` to see it start; nothing was deployed")
        }
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            CliError::new(Kind::Input, error)
        }
        _ => CliError::new(Kind::Other, error),
    }
}
