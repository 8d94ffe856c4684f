//! `motif logs NAME [-f]`: what a function's instances wrote, and what motif serve did
//! with its revisions.

use std::io::Write;

use reqwest::Method;

use crate::error::{CliError, Kind};
use crate::local::{Admin, StateArgs};

/// Print a function's logs from motif serve: its instances' output (each line prefixed
/// with REVISION/INSTANCE) and the server's lines about its revisions (starts, failures,
/// scaling). Kept in memory: the last 1000 lines per function.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The function's name.
    name: String,
    /// Keep printing new lines as they come, until interrupted.
    #[arg(short, long)]
    follow: bool,
    /// How many of the last lines to print first.
    #[arg(long, default_value_t = 100)]
    tail: usize,
    #[command(flatten)]
    state: StateArgs,
}

/// Runs `motif logs`.
pub async fn logs(args: LogsArgs) -> Result<(), CliError> {
    let admin = Admin::connect(&args.state)?;
    let path = format!(
        "/v1/functions/{}/logs?tail={}&follow={}",
        args.name, args.tail, args.follow
    );
    let mut response = admin.send(Method::GET, &path, None::<&()>).await?;
    let mut pending = Vec::new();
    let stdout = std::io::stdout();
    loop {
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
            if let Ok(line) = serde_json::from_slice::<motif_serve::logs::LogLine>(&line) {
                let mut out = stdout.lock();
                // A closed pipe (`| head`) ends the command quietly.
                if writeln!(out, "[{}] {}", line.source, line.text).is_err() || out.flush().is_err()
                {
                    return Ok(());
                }
            }
        }
    }
}
