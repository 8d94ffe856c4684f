//! `motif run`: the function behind its invoker on this machine, rebuilt and restarted
//! on change with `--watch`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use motif_build::Project;
use motif_build::local::{self, Launch};
use tokio::process::{Child, Command};

use crate::build::fail;
use crate::error::{CliError, Kind};
use crate::output::status;
use crate::paths;

/// Run a function locally behind its invoker.
///
/// Builds what the language needs (cargo, tsc, clang, componentize-py), starts the
/// function on $PORT and prints its URL once it is ready. Ctrl-C stops it (SIGTERM: it
/// drains first).
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The function's directory.
    #[arg(default_value = ".", env = "MOTIF_FUNCTION_DIR")]
    path: PathBuf,
    /// The port to serve on.
    #[arg(short, long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// Rebuild and restart when a file of the function changes.
    #[arg(short, long, env = "MOTIF_WATCH")]
    watch: bool,
    /// The motif-invoker binary for wasm and command functions [default: beside motif].
    #[arg(long, env = "MOTIF_INVOKER_BIN", value_name = "FILE")]
    invoker: Option<PathBuf>,
}

/// Runs `motif run`.
pub async fn run(args: RunArgs) -> Result<(), CliError> {
    let mut child = Some(start(&args).await?);
    if !args.watch {
        let child = child.as_mut().expect("started");
        tokio::select! {
            status = child.wait() => return exited(status),
            _ = shutdown() => {}
        }
        return stop(child).await;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let root = args
        .path
        .canonicalize()
        .unwrap_or_else(|_| args.path.clone());
    let ignore_root = root.clone();
    // Only writes count: the function's own reads (an open of its handler) are events
    // too, and must not restart it.
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && (event.kind.is_create() || event.kind.is_modify() || event.kind.is_remove())
            && event.paths.iter().any(|p| relevant(&ignore_root, p))
        {
            let _ = tx.send(());
        }
    })
    .map_err(|e| {
        CliError::new(
            Kind::Other,
            anyhow::Error::new(e).context("cannot watch files"),
        )
    })?;
    notify::Watcher::watch(&mut watcher, &root, notify::RecursiveMode::Recursive).map_err(|e| {
        CliError::new(
            Kind::Other,
            anyhow::Error::new(e).context(format!("cannot watch {}", root.display())),
        )
    })?;
    status(format!("watching {} for changes", root.display()));
    // One signal listener for the whole session, so a signal that arrives while a
    // rebuild runs is not lost.
    let stop_requested = shutdown();
    tokio::pin!(stop_requested);
    loop {
        tokio::select! {
            Some(()) = rx.recv() => {
                // An editor's save is several events: take them as one.
                tokio::time::sleep(Duration::from_millis(300)).await;
                while rx.try_recv().is_ok() {}
                if let Some(old) = child.as_mut() {
                    stop(old).await?;
                }
                status("change detected: rebuilding");
                child = match start(&args).await {
                    Ok(new) => Some(new),
                    Err(e) => {
                        eprintln!("{e}");
                        status("waiting for the next change");
                        None
                    }
                };
            }
            result = wait(child.as_mut()) => {
                child = None;
                if let Err(e) = exited(result) {
                    eprintln!("{e}");
                }
                status("the function exited; waiting for the next change");
            }
            _ = &mut stop_requested => {
                if let Some(old) = child.as_mut() {
                    stop(old).await?;
                }
                return Ok(());
            }
        }
    }
}

/// Ctrl-C or SIGTERM.
pub(crate) async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn wait(child: Option<&mut Child>) -> std::io::Result<std::process::ExitStatus> {
    match child {
        Some(child) => child.wait().await,
        None => std::future::pending().await,
    }
}

/// Whether a changed path is the function's own (not a build output or dependency).
fn relevant(root: &Path, path: &Path) -> bool {
    let relative = path.strip_prefix(root).unwrap_or(path);
    !relative.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some(".motif" | ".git" | "target" | "node_modules" | "dist" | "__pycache__")
        )
    })
}

async fn start(args: &RunArgs) -> Result<Child, CliError> {
    let dir = args.path.clone();
    let invoker = args.invoker.clone();
    let (project, launch) =
        tokio::task::spawn_blocking(move || -> Result<_, motif_build::Error> {
            let project = Project::load(&dir)?;
            let launch = local::prepare(&project, &paths::data_dir(), invoker.as_deref())?;
            Ok((project, launch))
        })
        .await
        .map_err(|e| CliError::new(Kind::Other, e))?
        .map_err(fail)?;
    let mut child = spawn(&launch, args.port)?;
    let url = format!("http://localhost:{}/", args.port);
    if ready(&mut child, args.port).await? {
        println!(
            "{} ({}) is serving at {url}",
            project.name, project.spec.language
        );
    }
    Ok(child)
}

fn spawn(launch: &Launch, port: u16) -> Result<Child, CliError> {
    let mut command = Command::new(&launch.program);
    command
        .args(&launch.args)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .env("PORT", port.to_string())
        .current_dir(&launch.dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command.spawn().map_err(|e| {
        CliError::new(
            Kind::Build,
            anyhow::Error::new(e).context(format!("cannot start {}", launch.program.display())),
        )
    })
}

/// Waits until `/_/ready` answers 200; `false` if the function exited first.
async fn ready(child: &mut Child, port: u16) -> Result<bool, CliError> {
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/_/ready");
    for _ in 0..600 {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| CliError::new(Kind::Other, e))?
        {
            return exited(Ok(status)).map(|()| false);
        }
        if let Ok(response) = client
            .get(&url)
            .timeout(Duration::from_secs(1))
            .send()
            .await
            && response.status().is_success()
        {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(CliError::new(
        Kind::Function,
        anyhow::anyhow!("the function did not turn ready on port {port} within 30 s"),
    ))
}

fn exited(status: std::io::Result<std::process::ExitStatus>) -> Result<(), CliError> {
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(CliError::new(
            Kind::Function,
            anyhow::anyhow!("the function exited with {status}"),
        )
        .hint("its output above says why; is the port already in use?")),
        Err(e) => Err(CliError::new(Kind::Other, e)),
    }
}

/// SIGTERM, then up to 10 s to drain, then SIGKILL.
async fn stop(child: &mut Child) -> Result<(), CliError> {
    if let Some(pid) = child.id() {
        let pid = nix::unistd::Pid::from_raw(pid as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_ok()
        {
            return Ok(());
        }
    }
    let _ = child.kill().await;
    Ok(())
}
