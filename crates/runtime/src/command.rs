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
//! - The environment and the meaning of stdout are [`crate::cgi`]'s.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};

use bytes::Bytes;
use motif_contract::Event;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::cgi::{self, Output, Run};
use crate::handler::{Context, Handler, HandlerError, HttpRequest, HttpResponse};

/// Serves an executable as a function.
#[derive(Debug, Clone)]
pub struct Command {
    program: PathBuf,
    args: Vec<OsString>,
    output: Output,
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
            output: Output::default(),
            max_output: crate::config::DEFAULT_MAX_BODY,
            init: None,
            shutdown: None,
        }
    }

    /// `MOTIF_RESPONSE_TYPE`: the `Content-Type` of stdout, or for a cloudevent function
    /// the reply's `datacontenttype` (`application/cloudevents+json`: stdout is the whole
    /// reply event).
    pub fn response_type(mut self, media_type: impl Into<String>) -> Self {
        self.output.response_type = media_type.into();
        self
    }

    /// `MOTIF_REPLY_TYPE`: the reply event's `type` (default: the request's, plus `.reply`).
    pub fn reply_type(mut self, ty: Option<String>) -> Self {
        self.output.reply_type = ty;
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

    /// One process: spawned, fed, read, reaped, its group killed.
    async fn spawn(
        &self,
        env: Vec<(OsString, OsString)>,
        stdin: Bytes,
        cx: &Context,
    ) -> Result<Vec<u8>, HandlerError> {
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
        Ok(out)
    }
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
        (Some(code), _) => return crate::cgi::exited(code, stderr),
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
        cgi::handle_http(self, request, cx).await
    }

    async fn handle_event(&self, event: Event, cx: Context) -> Result<Option<Event>, HandlerError> {
        cgi::handle_event(self, event, cx).await
    }
}

impl Run for Command {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(
        &self,
        env: Vec<(OsString, OsString)>,
        stdin: Bytes,
        cx: &Context,
    ) -> Result<Vec<u8>, HandlerError> {
        self.spawn(env, stdin, cx).await
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
