//! `motif logs NAME [-f]`: what a function's instances wrote, and what motif serve did
//! with its revisions.

use reqwest::Method;

use crate::error::CliError;
use crate::local::{Admin, StateArgs, print_json_lines};

/// Print a function's logs from motif serve.
///
/// Its instances' output (each line prefixed with REVISION/INSTANCE) and the server's
/// lines about its revisions (starts, failures, scaling). Kept in memory: the last 1000
/// lines per function.
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
    let response = admin.send(Method::GET, &path, None::<&()>).await?;
    print_json_lines(response, None, |line: motif_serve::logs::LogLine| {
        Some(format!("[{}] {}", line.source, line.text))
    })
    .await
}
