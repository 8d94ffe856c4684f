//! `motif function`: riff's verbs. `create` goes from a source repository to a served
//! function in one step; `build` is the builder the cluster runs; `list`, `status` and
//! `delete` are `motif list`, `describe` and `delete` (the same functions, not a second
//! registry of them).

pub mod build;
pub mod create;
pub mod source;
mod tail;

use crate::cluster;
use crate::error::CliError;
use crate::output::Format;

/// Functions built from their source, riff-style.
#[derive(Debug, clap::Subcommand)]
pub enum FunctionCommand {
    Create(create::CreateArgs),
    Build(build::BuildArgs),
    /// List the functions (as `motif list`).
    List(cluster::list::ListArgs),
    /// Show a function: its source, revisions, route and instances, or on a cluster its
    /// build, conditions and children (as `motif describe`).
    Status(cluster::describe::DescribeArgs),
    /// Delete a function (as `motif delete`).
    Delete(cluster::delete::DeleteArgs),
}

/// Runs `motif function`.
pub async fn command(command: FunctionCommand, format: Format) -> Result<(), CliError> {
    match command {
        FunctionCommand::Create(args) => create::create(args, format).await,
        FunctionCommand::Build(args) => build::build(args, format).await,
        FunctionCommand::List(args) => cluster::list::list(args, format).await,
        FunctionCommand::Status(args) => cluster::describe::describe(args, format).await,
        FunctionCommand::Delete(args) => cluster::delete::delete(args, format).await,
    }
}
