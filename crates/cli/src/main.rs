//! `motif`: create functions from templates, build them into images or components, run
//! them locally and invoke them, render and deploy them to Kubernetes.
//!
//! Every command prints data on stdout (text, or `-o json|yaml`) and progress on stderr;
//! errors read `error:` / `Caused by:` / `hint:` and exit with a code of their class
//! ([`error::Kind`]). Every flag a CI would set is also a `MOTIF_*` variable.

mod build;
mod cluster;
mod create;
mod deploy;
mod error;
mod function;
mod invoke;
mod local;
mod output;
mod paths;
mod reference;
mod render;
mod repository;
mod run;
mod templates;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;
use crate::output::Format;

/// motif: functions on Knative and on one machine.
#[derive(Debug, Parser)]
#[command(name = "motif", version, about, propagate_version = true)]
struct Cli {
    /// How commands print their data.
    #[arg(
        short,
        long,
        global = true,
        value_enum,
        env = "MOTIF_OUTPUT",
        default_value_t
    )]
    output: Format,

    #[command(subcommand)]
    command: Command,
}

// A command's help is its arguments struct's doc comment: a doc comment on the variant
// would replace it, and drop its long form from `--help`.
#[derive(Debug, Subcommand)]
enum Command {
    Create(create::CreateArgs),
    /// Functions built from a source repository in one step (riff's `function create`),
    /// and their list, status and deletion.
    #[command(subcommand)]
    Function(function::FunctionCommand),
    /// List the templates of the built-in or a template repository.
    #[command(subcommand)]
    Templates(templates::TemplatesCommand),
    /// Manage the template repositories `motif create` can use by name.
    #[command(subcommand)]
    Repository(repository::RepositoryCommand),
    Build(build::BuildArgs),
    Run(run::RunArgs),
    Invoke(invoke::InvokeArgs),
    Render(render::RenderArgs),
    Serve(local::serve::ServeArgs),
    /// Deploy a function to motif serve, or with --cluster to Kubernetes.
    Deploy(deploy::DeployArgs),
    /// List the functions of motif serve, or with --cluster the Functions on the cluster.
    List(cluster::list::ListArgs),
    /// Show a function: its revisions, route and instances (with --cluster: its
    /// conditions, Service and Triggers).
    Describe(cluster::describe::DescribeArgs),
    /// Delete a function from motif serve, or with --cluster from the cluster.
    Delete(cluster::delete::DeleteArgs),
    Logs(local::logs::LogsArgs),
    Traffic(local::traffic::TrafficArgs),
    /// Publish events to motif serve's broker, follow it, show its triggers.
    #[command(subcommand)]
    Events(local::events::EventsCommand),
    Subscribe(local::subscribe::SubscribeArgs),
    /// Remove a subscription made by `motif subscribe`.
    Unsubscribe(local::subscribe::UnsubscribeArgs),
    /// Manage motif on a Kubernetes cluster.
    #[command(subcommand)]
    System(cluster::system::SystemCommand),
    Controller(cluster::controller::ControllerArgs),
    /// Print a generated reference page (docs/reference/).
    #[command(subcommand, hide = true)]
    Reference(reference::ReferenceCommand),
}

fn main() -> ExitCode {
    // wasmtime makes and drops an error in every request's store; with RUST_BACKTRACE
    // set, each would capture a backtrace, walking the unwind tables of every loaded
    // module (measured: 10x slower with 1,000 wasm functions loaded). Errors capture none
    // unless RUST_LIB_BACKTRACE asks; panics still print theirs under RUST_BACKTRACE.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: first thing in main, before any other thread exists.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("RUST_LIB_BACKTRACE", "0");
        }
    }
    let cli = Cli::parse();
    // reqwest (invoke, run), oci-client (pull, push) and kube share rustls with no
    // default crypto provider compiled in; ring is the one the workspace builds.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The controller is a service: what it does is its output. Commands only warn.
    let default_log = match cli.command {
        Command::Controller(_) | Command::Serve(_) => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MOTIF_CLI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_log)),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal; plain lines for a pod's log.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return CliError::new(error::Kind::Other, e).report();
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let format = cli.output;
    match cli.command {
        Command::Create(args) => create::create(args, format),
        Command::Function(command) => function::command(command, format).await,
        Command::Templates(command) => templates::command(command, format),
        Command::Repository(command) => repository::command(command, format),
        Command::Build(args) => build::build(args, format).await,
        Command::Run(args) => run::run(args).await,
        Command::Invoke(args) => invoke::invoke(args, format).await,
        Command::Render(args) => render::render(args, format),
        Command::Serve(args) => local::serve::serve(args).await,
        Command::Deploy(args) => deploy::deploy(args, format).await,
        Command::Logs(args) => local::logs::logs(args).await,
        Command::Traffic(args) => local::traffic::traffic(args, format).await,
        Command::Events(command) => local::events::command(command, format).await,
        Command::Subscribe(args) => local::subscribe::subscribe(args, format).await,
        Command::Unsubscribe(args) => local::subscribe::unsubscribe(args, format).await,
        Command::List(args) => cluster::list::list(args, format).await,
        Command::Describe(args) => cluster::describe::describe(args, format).await,
        Command::Delete(args) => cluster::delete::delete(args, format).await,
        Command::System(command) => cluster::system::command(command, format),
        Command::Controller(args) => cluster::controller::controller(args).await,
        Command::Reference(command) => {
            reference::command(command);
            Ok(())
        }
    }
}

/// The function directory a command works on: the flag, or the current directory.
fn function_dir(path: Option<PathBuf>) -> PathBuf {
    path.unwrap_or_else(|| PathBuf::from("."))
}
