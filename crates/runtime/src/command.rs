//! The command invoker (CONTRACT.md §8): any executable as a function, one process per
//! request.
//!
//! The request body goes to stdin; stdout, buffered, is the response body (so a non-zero
//! exit can still become a 500); stderr lines go to the logs. Request metadata arrives as
//! CGI-style environment (RFC 3875 §4.1) and, for a CloudEvent, every attribute as
//! `CE_<NAME>`.
//!
//! # Guarantees
//! - Each process runs in its own process group, and the whole group is killed with
//!   SIGKILL when the call ends for any reason: the process finished (stragglers it left
//!   behind die with it), the client went away, or the server's `MOTIF_TIMEOUT` dropped
//!   the call (504).
//! - The `Proxy` request header never becomes `HTTP_PROXY` (the "httpoxy" hole: many
//!   programs read `HTTP_PROXY` as their outbound proxy).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};

use bytes::Bytes;
use http::HeaderMap;
use http::header::{self, HeaderValue};
use motif_contract::media::{self, Accept, CLOUDEVENTS_JSON};
use motif_contract::{Event, json};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::handler::{Context, Handler, HandlerError, HttpRequest, HttpResponse};

/// Serves an executable as a function.
#[derive(Debug, Clone)]
pub struct Command {
    program: PathBuf,
    args: Vec<OsString>,
    response_type: String,
    reply_type: Option<String>,
    max_output: usize,
    init: Option<String>,
    shutdown: Option<String>,
}

impl Command {
    /// A function that runs `program` with `args` for each request.
    ///
    /// The response type is `application/octet-stream` and the output limit 6 MiB until
    /// set otherwise.
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            response_type: media::OCTET_STREAM.to_owned(),
            reply_type: None,
            max_output: crate::config::DEFAULT_MAX_BODY,
            init: None,
            shutdown: None,
        }
    }

    /// `MOTIF_RESPONSE_TYPE`: the `Content-Type` of stdout, or for a cloudevent function
    /// the reply's `datacontenttype` (`application/cloudevents+json`: stdout is the whole
    /// reply event).
    pub fn response_type(mut self, media_type: impl Into<String>) -> Self {
        self.response_type = media_type.into();
        self
    }

    /// `MOTIF_REPLY_TYPE`: the reply event's `type` (default: the request's, plus `.reply`).
    pub fn reply_type(mut self, ty: Option<String>) -> Self {
        self.reply_type = ty;
        self
    }

    /// The most stdout may hold; more is a 500.
    pub fn max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes;
        self
    }

    /// A shell command run once before the function turns ready.
    pub fn init_hook(mut self, script: Option<String>) -> Self {
        self.init = script;
        self
    }

    /// A shell command run once on drain.
    pub fn shutdown_hook(mut self, script: Option<String>) -> Self {
        self.shutdown = script;
        self
    }

    async fn run(
        &self,
        env: Vec<(OsString, OsString)>,
        stdin: Bytes,
        cx: &Context,
    ) -> Result<Output, HandlerError> {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .envs(env)
            .env("TRACEPARENT", cx.trace.traceparent())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| {
            HandlerError::new(format!("cannot start `{}`: {e}", self.program.display()))
        })?;
        let group = child.id().map(|id| Group(Pid::from_raw(id as i32)));
        let mut input = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");

        let write = async move {
            // A process that exits without reading its input closes the pipe; that is its
            // business, not an error.
            let _ = input.write_all(&stdin).await;
            drop(input);
        };
        let read = read_capped(stdout, self.max_output);
        let log = log_lines(stderr, cx);
        let ((), out, last_err, status) = tokio::join!(write, read, log, child.wait());
        drop(group);
        let status = status
            .map_err(|e| HandlerError::new(format!("cannot wait for the function process: {e}")))?;
        let out = out.ok_or_else(|| {
            HandlerError::new(format!(
                "function wrote more than {} bytes to stdout (MOTIF_MAX_BODY)",
                self.max_output
            ))
        })?;
        if !status.success() {
            return Err(HandlerError::new(failure(status, last_err.as_deref())));
        }
        Ok(Output { stdout: out })
    }
}

struct Output {
    stdout: Vec<u8>,
}

/// A process group, killed when dropped.
struct Group(Pid);

impl Drop for Group {
    fn drop(&mut self) {
        // ESRCH (the group is gone already) is the common, expected case.
        let _ = killpg(self.0, Signal::SIGKILL);
    }
}

fn failure(status: ExitStatus, stderr: Option<&str>) -> String {
    use std::os::unix::process::ExitStatusExt;
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("function exited with status {code}"),
        (None, Some(sig)) => format!("function was killed by signal {sig}"),
        _ => "function failed".to_owned(),
    };
    match stderr {
        Some(line) => format!("{how}: {line}"),
        None => how,
    }
}

/// Reads all of `r`, or `None` once it passes `max` bytes.
async fn read_capped(r: impl AsyncRead + Unpin, max: usize) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let n = r.take(max as u64 + 1).read_to_end(&mut buf).await.ok()?;
    (n <= max).then_some(buf)
}

/// Logs each stderr line as it comes, and keeps the last non-empty one (truncated) for
/// the error a failed run answers with.
async fn log_lines(r: impl AsyncRead + Unpin, cx: &Context) -> Option<String> {
    /// Enough for a message, too little for a dump.
    const MAX_DETAIL: usize = 1024;
    let mut lines = BufReader::new(r).split(b'\n');
    let mut last = None;
    while let Ok(Some(line)) = lines.next_segment().await {
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end();
        tracing::info!(
            target: "function",
            function = %cx.function.name,
            trace_id = %cx.trace.trace_id(),
            "{line}"
        );
        if !line.is_empty() {
            let mut end = line.len().min(MAX_DETAIL);
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            last = Some(line[..end].to_owned());
        }
    }
    last
}

/// The CGI meta-variables of a request (RFC 3875 §4.1), and its headers as `HTTP_*`.
fn cgi_env(
    method: &str,
    uri: &http::Uri,
    headers: &HeaderMap,
    body_len: usize,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vec![
        ("GATEWAY_INTERFACE".into(), "CGI/1.1".into()),
        ("SERVER_PROTOCOL".into(), "HTTP/1.1".into()),
        ("REQUEST_METHOD".into(), method.into()),
        ("PATH_INFO".into(), uri.path().into()),
        ("SCRIPT_NAME".into(), "".into()),
        (
            "QUERY_STRING".into(),
            uri.query().unwrap_or_default().into(),
        ),
        (
            "REQUEST_URI".into(),
            uri.path_and_query().map_or("/", |p| p.as_str()).into(),
        ),
        ("CONTENT_LENGTH".into(), body_len.to_string().into()),
    ];
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        env.push((
            "CONTENT_TYPE".into(),
            OsStr::from_bytes(ct.as_bytes()).into(),
        ));
    }
    for name in headers.keys() {
        if name == header::CONTENT_TYPE || name == header::CONTENT_LENGTH || name == "proxy" {
            continue;
        }
        let var = format!(
            "HTTP_{}",
            name.as_str().to_ascii_uppercase().replace('-', "_")
        );
        let mut value = Vec::new();
        for (i, v) in headers.get_all(name).iter().enumerate() {
            if i > 0 {
                value.extend_from_slice(b", ");
            }
            value.extend_from_slice(v.as_bytes());
        }
        env.push((var.into(), OsStr::from_bytes(&value).into()));
    }
    env
}

impl Handler for Command {
    async fn init(&self) -> Result<(), HandlerError> {
        match &self.init {
            Some(script) => hook(script, "init").await,
            None => Ok(()),
        }
    }

    async fn shutdown(&self) {
        if let Some(script) = &self.shutdown
            && let Err(e) = hook(script, "shutdown").await
        {
            tracing::warn!("{e}");
        }
    }

    async fn handle_http(
        &self,
        request: HttpRequest,
        cx: Context,
    ) -> Result<HttpResponse, HandlerError> {
        // The response type is fixed, so an Accept that excludes it fails before any
        // process starts.
        let accept = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map_or_else(Accept::any, Accept::parse);
        if !accept.allows(&self.response_type) {
            return Err(HandlerError::with_status(
                http::StatusCode::NOT_ACCEPTABLE,
                format!(
                    "this function responds with `{}`, which Accept does not allow",
                    self.response_type
                ),
            ));
        }
        let (parts, body) = request.into_parts();
        let env = cgi_env(
            parts.method.as_str(),
            &parts.uri,
            &parts.headers,
            body.len(),
        );
        let out = self.run(env, body, &cx).await?;
        let content_type = HeaderValue::try_from(&self.response_type)
            .unwrap_or(HeaderValue::from_static(media::OCTET_STREAM));
        Ok(http::Response::builder()
            .header(header::CONTENT_TYPE, content_type)
            .body(Bytes::from(out.stdout))
            .expect("a valid response"))
    }

    async fn handle_event(
        &self,
        mut event: Event,
        cx: Context,
    ) -> Result<Option<Event>, HandlerError> {
        let data = event.take_data().unwrap_or_default();
        let mut env = cgi_env(
            "POST",
            &http::Uri::from_static("/"),
            &HeaderMap::new(),
            data.len(),
        );
        if let Some(ct) = event.datacontenttype() {
            env.push(("CONTENT_TYPE".into(), ct.into()));
        }
        for (name, value) in event.attributes() {
            env.push((
                format!("CE_{}", name.to_ascii_uppercase()).into(),
                value.as_ref().into(),
            ));
        }
        let out = self.run(env, data, &cx).await?;
        if out.stdout.is_empty() {
            return Ok(None);
        }
        if media::essence(&self.response_type).eq_ignore_ascii_case(CLOUDEVENTS_JSON) {
            return json::from_slice(&out.stdout).map(Some).map_err(|e| {
                HandlerError::new(format!("function replied with an invalid event: {e}"))
            });
        }
        let ty = match &self.reply_type {
            Some(ty) => ty.clone(),
            None => format!("{}.reply", event.ty()),
        };
        Event::builder(
            uuid::Uuid::new_v4().to_string(),
            format!("/motif/{}", cx.function.name),
            ty,
        )
        .data(self.response_type.clone(), out.stdout)
        .build()
        .map(Some)
        .map_err(|e| HandlerError::new(format!("cannot build the reply event: {e}")))
    }
}

/// Runs a lifecycle hook with `sh -c`, capped by the server.
async fn hook(script: &str, which: &str) -> Result<(), HandlerError> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| HandlerError::new(format!("cannot run the {which} hook: {e}")))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines() {
        tracing::info!(target: "function", hook = which, "{line}");
    }
    if out.status.success() {
        Ok(())
    } else {
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        Err(HandlerError::new(failure(out.status, last)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_become_cgi_variables_without_httpoxy() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("abc"));
        h.append("accept", HeaderValue::from_static("text/plain"));
        h.append("accept", HeaderValue::from_static("application/json"));
        h.insert("proxy", HeaderValue::from_static("http://evil"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        let uri: http::Uri = "/a/b?x=1&y=2".parse().unwrap();
        let env = cgi_env("PUT", &uri, &h, 5);
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        assert_eq!(get("REQUEST_METHOD").as_deref(), Some("PUT"));
        assert_eq!(get("PATH_INFO").as_deref(), Some("/a/b"));
        assert_eq!(get("QUERY_STRING").as_deref(), Some("x=1&y=2"));
        assert_eq!(get("CONTENT_TYPE").as_deref(), Some("text/plain"));
        assert_eq!(get("CONTENT_LENGTH").as_deref(), Some("5"));
        assert_eq!(get("HTTP_X_REQUEST_ID").as_deref(), Some("abc"));
        assert_eq!(
            get("HTTP_ACCEPT").as_deref(),
            Some("text/plain, application/json")
        );
        assert_eq!(get("HTTP_PROXY"), None);
        assert_eq!(get("HTTP_CONTENT_TYPE"), None);
    }
}
