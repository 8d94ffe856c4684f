//! The process instance runtime: one instance of a revision is its function's invoker
//! as a child process on a free loopback port, started and probed until ready, its
//! output kept in a bounded log, stopped with the contract's SIGTERM drain.
//!
//! This is not the gateway (which picks an instance and forwards requests to
//! [`ProcessInstance::addr`]) nor the autoscaler (which decides how many to run).
//!
//! ```no_run
//! # async fn example() -> Result<(), motif_serve::instance::InstanceError> {
//! use std::time::Duration;
//! use motif_serve::instance::{InstanceOptions, ProcessInstance, ProcessSpec};
//!
//! let spec = ProcessSpec {
//!     program: "/usr/local/bin/motif-invoker".into(),
//!     args: vec!["--command".into(), "cat".into()],
//!     env: vec![("MOTIF_FUNCTION_KIND".into(), "http".into())],
//!     dir: "/srv/echo".into(),
//! };
//! let instance = ProcessInstance::start(spec, InstanceOptions::default()).await?;
//! println!("ready on {}", instance.addr());
//! let status = instance.stop(Duration::from_secs(30)).await?;
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//! - [`ProcessInstance::start`] returns only once `GET /_/ready` answered 200
//!   (CONTRACT.md §1); on any failure the child is killed and reaped before the error
//!   is returned, so a failed start leaves no process behind.
//! - Dropping a [`ProcessInstance`] kills its process (`kill_on_drop`); tokio reaps it.
//!   What it [holds](ProcessInstance::hold) is dropped after that: on a stop, once the
//!   process has exited.
//!
//! # Caveats
//! - The port is found by binding `127.0.0.1:0` and closing the socket before the child
//!   binds it: another process may take it in between. The child then fails to bind and
//!   exits, and the start fails with [`InstanceError::NotReady`]; callers may retry.
//! - SIGTERM goes to the child only, not to a process group: the invoker stops the
//!   processes it started itself.

mod logs;

use std::any::Any;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::logs::FunctionLog;
use logs::LogRing;

/// How long to wait between two readiness probes: at first [`FIRST_PROBE_INTERVAL`],
/// doubling up to this. A cold start's latency is paid by a waiting request, so the
/// first probes come quickly (a native function is ready in a few milliseconds); a
/// refused connection on loopback costs little.
const PROBE_INTERVAL: Duration = Duration::from_millis(20);

/// The first wait between two readiness probes.
const FIRST_PROBE_INTERVAL: Duration = Duration::from_millis(1);

/// The longest one readiness probe may take: a process that accepts but never answers
/// is probed again rather than waited on until `ready_timeout`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long to wait, after a failed start, for the child's last output to reach the
/// log: the pipes close when it exits, but their readers may not have drained yet.
const LOG_SETTLE: Duration = Duration::from_millis(500);

/// How many of the last log lines a [`InstanceError::NotReady`] carries.
const ERROR_LINES: usize = 10;

/// A process to start as an instance: what `motif_build::local::prepare` returns as
/// `Launch`, mirrored here so that serving does not depend on building.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSpec {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Environment added to ours (before `PORT`, which the instance sets).
    pub env: Vec<(String, String)>,
    /// Its working directory (the function's).
    pub dir: PathBuf,
}

/// How an instance is started.
#[derive(Clone, Debug)]
pub struct InstanceOptions {
    /// How long the process has to answer 200 on `/_/ready` (default 10 s: the init
    /// hook's cap in CONTRACT.md §6, which most of a cold start is).
    pub ready_timeout: Duration,
    /// How many lines of output to keep (default 1000, at most ~4 MiB of text, since
    /// longer lines are split at 4 KiB).
    pub log_lines: usize,
    /// A function's log that every line goes to as well, written by the given source
    /// (`REVISION/instance-N`); none by default.
    pub tee: Option<(FunctionLog, String)>,
    /// The loopback port to serve on, when the caller chose it (and told the program
    /// in a way of its own, as a container's config); by default a free one is found.
    pub port: Option<u16>,
}

impl Default for InstanceOptions {
    fn default() -> Self {
        InstanceOptions {
            ready_timeout: Duration::from_secs(10),
            log_lines: 1000,
            tee: None,
            port: None,
        }
    }
}

/// What went wrong with an instance.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstanceError {
    /// No free loopback port could be found.
    #[error("cannot find a free port on 127.0.0.1")]
    Port(#[source] io::Error),
    /// The program could not be started.
    #[error("cannot start `{program}`")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The process exited, or did not answer 200 on `/_/ready` in time; it was killed.
    #[error(
        "`{program}` did not become ready: {}{}",
        reason(.exit, .waited),
        last_line(.last_lines)
    )]
    NotReady {
        /// The program.
        program: String,
        /// How it exited, when it exited on its own; `None` when it was still running
        /// at the deadline.
        exit: Option<ExitStatus>,
        /// How long it was waited for.
        waited: Duration,
        /// Its last lines of output, oldest first.
        last_lines: Vec<String>,
    },
    /// Waiting for the process, or signalling it, failed.
    #[error("cannot stop `{program}`")]
    Stop {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: io::Error,
    },
}

fn reason(exit: &Option<ExitStatus>, waited: &Duration) -> String {
    match exit {
        Some(status) => format!("it exited ({status})"),
        None => format!("`/_/ready` did not answer 200 within {waited:?}"),
    }
}

fn last_line(lines: &[String]) -> String {
    match lines.last() {
        Some(line) => format!("; its last output: `{line}`"),
        None => "; it wrote nothing".into(),
    }
}

/// An instance's identity, unique within this process (the pid may be reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(u64);

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "instance-{}", self.0)
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One running, ready process serving a revision on a loopback port.
#[derive(Debug)]
pub struct ProcessInstance {
    id: InstanceId,
    program: String,
    pid: u32,
    addr: SocketAddr,
    started_at: SystemTime,
    ready_after: Duration,
    // A lock, not `&mut self`, so that a shared instance can still be asked if it lives.
    child: Mutex<Child>,
    logs: LogRing,
    readers: Readers,
    /// What the process runs in; last, so that it is dropped after the child is killed.
    held: Option<Box<dyn Any + Send + Sync>>,
}

/// The tasks copying the child's output into its log, stopped when the instance is
/// dropped: they end when the pipes close, but a grandchild may hold them open.
#[derive(Debug, Default)]
struct Readers(Vec<JoinHandle<()>>);

impl Drop for Readers {
    fn drop(&mut self) {
        for reader in &self.0 {
            reader.abort();
        }
    }
}

impl ProcessInstance {
    /// Starts `spec` with `PORT` set to a free loopback port, and waits until it answers
    /// 200 on `/_/ready`. On failure the process is killed and reaped.
    pub async fn start(
        spec: ProcessSpec,
        options: InstanceOptions,
    ) -> Result<ProcessInstance, InstanceError> {
        let program = spec.program.display().to_string();
        let addr = match options.port {
            Some(port) => SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            None => free_port().map_err(InstanceError::Port)?,
        };
        let started = Instant::now();
        let started_at = SystemTime::now();
        let mut command = Command::new(&spec.program);
        command
            .args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .env("PORT", addr.port().to_string())
            .current_dir(&spec.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // A server that dies without dropping its instances (SIGKILL, a crash) must not
        // leave them running: the kernel sends them SIGTERM when it goes.
        // SAFETY: between fork and exec the closure only makes one async-signal-safe
        // system call (prctl), touching no memory of the parent.
        #[allow(unsafe_code)]
        unsafe {
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(io::Error::from)
            });
        }
        let mut child = command.spawn().map_err(|source| InstanceError::Spawn {
            program: program.clone(),
            source,
        })?;
        let mut logs = LogRing::new(options.log_lines);
        if let Some((log, source)) = options.tee {
            logs = logs.tee(log, source);
        }
        let mut readers = Vec::with_capacity(2);
        if let Some(stdout) = child.stdout.take() {
            readers.push(logs.follow(stdout));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(logs.follow(stderr));
        }
        // The pid is known until the child is reaped, which only we do.
        let pid = child.id().unwrap_or_default();
        tracing::debug!(%program, pid, %addr, "instance starting");

        let outcome = tokio::time::timeout(options.ready_timeout, async {
            tokio::select! {
                status = child.wait() => Err(status),
                () = wait_ready(addr) => Ok(()),
            }
        })
        .await;
        let exit = match outcome {
            Ok(Ok(())) => {
                let ready_after = started.elapsed();
                tracing::debug!(%program, pid, %addr, ?ready_after, "instance ready");
                return Ok(ProcessInstance {
                    id: InstanceId(NEXT_ID.fetch_add(1, Ordering::Relaxed)),
                    program,
                    pid,
                    addr,
                    started_at,
                    ready_after,
                    child: Mutex::new(child),
                    logs,
                    readers: Readers(readers),
                    held: None,
                });
            }
            Ok(Err(Ok(status))) => Some(status),
            // The deadline passed, or waiting failed: either way it is stopped below.
            Ok(Err(Err(_))) | Err(_) => None,
        };
        // `kill` also reaps, so that no zombie is left behind.
        let _ = child.kill().await;
        settle(readers).await;
        let error = InstanceError::NotReady {
            program,
            exit,
            waited: started.elapsed(),
            last_lines: logs.tail(ERROR_LINES),
        };
        tracing::debug!(%error, "instance failed to start");
        Err(error)
    }

    /// This instance's identity.
    pub fn id(&self) -> InstanceId {
        self.id
    }

    /// Where it serves: `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// When it was started (wall clock, for display).
    pub fn started_at(&self) -> SystemTime {
        self.started_at
    }

    /// How long it took from start to ready: its cold start.
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    /// Whether its process is still running. A process that cannot be waited on is
    /// reported dead: it cannot be trusted with requests.
    pub fn is_alive(&self) -> bool {
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        matches!(child.try_wait(), Ok(None))
    }

    /// The last lines of its stdout and stderr, oldest first.
    pub fn logs(&self) -> Vec<String> {
        self.logs.snapshot()
    }

    /// Keeps `resources` (what the process runs in, released by their `Drop`, such as a
    /// container's state and bundle) until the process is gone: [`stop`](Self::stop)
    /// drops them off the async workers once it has exited (their drop may block), a
    /// dropped instance after killing it.
    pub fn hold(&mut self, resources: Box<dyn Any + Send + Sync>) {
        self.held = Some(resources);
    }

    /// Stops it as Knative does: SIGTERM, so that it turns unready and finishes its
    /// in-flight requests; SIGKILL if it is still running after `drain`. Returns how it
    /// exited.
    pub async fn stop(self, drain: Duration) -> Result<ExitStatus, InstanceError> {
        let ProcessInstance {
            program,
            child,
            mut readers,
            held,
            ..
        } = self;
        let mut child = child.into_inner().unwrap_or_else(PoisonError::into_inner);
        let failed = |source| InstanceError::Stop {
            program: program.clone(),
            source,
        };
        let status = match child.try_wait().map_err(failed)? {
            Some(status) => status,
            None => {
                // Asked of the child, not remembered: it is `None` once reaped, when the
                // pid may belong to another process.
                if let Some(id) = child.id().and_then(|id| i32::try_from(id).ok()) {
                    kill(Pid::from_raw(id), Signal::SIGTERM)
                        .map_err(|e| failed(io::Error::from(e)))?;
                }
                match tokio::time::timeout(drain, child.wait()).await {
                    Ok(status) => status.map_err(failed)?,
                    Err(_) => {
                        tracing::warn!(%program, ?drain, "instance still running after its drain; killing it");
                        child.kill().await.map_err(failed)?;
                        child.wait().await.map_err(failed)?
                    }
                }
            }
        };
        if let Some(held) = held {
            // Before the logs settle: what the process ran in may hold its pipes open.
            let _ = tokio::task::spawn_blocking(move || drop(held)).await;
        }
        settle(std::mem::take(&mut readers.0)).await;
        tracing::debug!(%program, %status, "instance stopped");
        Ok(status)
    }
}

/// Waits briefly for the log readers to reach the end of the child's output.
async fn settle(readers: Vec<JoinHandle<()>>) {
    let _ = tokio::time::timeout(LOG_SETTLE, async {
        for reader in readers {
            let _ = reader.await;
        }
    })
    .await;
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> io::Result<SocketAddr> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()
}

/// Probes `/_/ready` until it answers 200.
async fn wait_ready(addr: SocketAddr) {
    let mut interval = FIRST_PROBE_INTERVAL;
    loop {
        if let Ok(Ok(200)) = tokio::time::timeout(PROBE_TIMEOUT, probe(addr)).await {
            return;
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(PROBE_INTERVAL);
    }
}

/// One `GET /_/ready` over HTTP/1.1: the status code. A hand-written request, since
/// only the status line matters and the invoker speaks plain HTTP/1.1 (CONTRACT.md §1).
async fn probe(addr: SocketAddr) -> io::Result<u16> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET /_/ready HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    // "HTTP/1.1 200 OK": the status is bytes 9..12 of the first line.
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await?;
    if !head.starts_with(b"HTTP/1.") {
        return Err(io::Error::other("not an HTTP/1 response"));
    }
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::other("no status code"))
}
