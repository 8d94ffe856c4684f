//! `motif serve`: the serving layer of this machine, in the foreground.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use motif_serve::Settings;
use motif_serve::server::Bound;

use crate::cluster::wait::{parse_any_duration, parse_duration};
use crate::error::{CliError, Kind};
use crate::local::StateArgs;
use crate::local::deploy::{self, DeployOptions};
use crate::output::status;

/// Serve functions on this machine with Knative's semantics: revisions, traffic splits
/// and tags, autoscaling with scale to zero.
///
/// Functions are reached at http://NAME.localhost:PORT/ (by host; TAG-NAME.localhost for
/// a tag) or http://127.0.0.1:PORT/NAME/ (by path). Deploy with `motif deploy`; what is
/// deployed survives a restart. Ctrl-C or SIGTERM drains: requests in flight finish.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The gateway's port.
    #[arg(short, long, env = "MOTIF_SERVE_PORT", default_value_t = 8080)]
    port: u16,
    /// The gateway's address [default: 127.0.0.1; 0.0.0.0 serves other machines].
    #[arg(long, env = "MOTIF_SERVE_ADDRESS", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    address: IpAddr,
    /// The admin API's port on 127.0.0.1 [default: any free one; the CLI finds it].
    #[arg(long, env = "MOTIF_SERVE_ADMIN_PORT", default_value_t = 0)]
    admin_port: u16,
    #[command(flatten)]
    state: StateArgs,
    /// How long a revision must be idle, with the grace, before it scales to zero.
    #[arg(long, env = "MOTIF_SERVE_STABLE_WINDOW", default_value = "60s", value_parser = parse_duration)]
    stable_window: Duration,
    /// How long the last instance outlives an idle stable window.
    #[arg(long, env = "MOTIF_SERVE_SCALE_TO_ZERO_GRACE", default_value = "30s", value_parser = parse_any_duration)]
    scale_to_zero_grace: Duration,
    /// How long an instance has to finish its requests when it is stopped.
    #[arg(long, env = "MOTIF_SERVE_DRAIN", default_value = "30s", value_parser = parse_duration)]
    drain: Duration,
    /// How many stopped wasm functions stay loaded in memory, so that a revision that
    /// scaled to zero starts again without reading the compile cache (0: none).
    #[arg(long, env = "MOTIF_SERVE_WASM_KEEP_LOADED", default_value_t = 64)]
    wasm_keep_loaded: usize,
    /// When accepted events reach the disk: `always` (fsync before each 202, in
    /// groups), an interval such as `10ms` (at most that much lost on power loss), or
    /// `never` (the kernel decides). A crash of motif serve alone loses nothing in any.
    #[arg(long, env = "MOTIF_SERVE_EVENT_FSYNC", default_value = "always")]
    event_fsync: motif_events::log::Fsync,
    /// Deploy the function in this directory once serving (repeat it for several).
    #[arg(long, value_name = "PATH")]
    deploy: Vec<PathBuf>,
    /// The motif-invoker binary for command functions [default: beside motif].
    #[arg(long, env = "MOTIF_INVOKER_BIN", value_name = "FILE")]
    invoker: Option<PathBuf>,
}

/// Runs `motif serve`.
pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let mut settings = Settings::new(args.state.dir());
    settings.stable_window = args.stable_window;
    settings.scale_to_zero_grace = args.scale_to_zero_grace;
    settings.drain = args.drain;
    settings.wasm_keep_loaded = args.wasm_keep_loaded;
    settings.event_fsync = args.event_fsync;
    let gateway = SocketAddr::new(args.address, args.port);
    let admin = SocketAddr::from((Ipv4Addr::LOCALHOST, args.admin_port));
    let bound = Bound::bind(settings, gateway, admin).await.map_err(|e| {
        let hint = match &e {
            motif_serve::server::StartError::Bind { .. } => {
                "is another server on that port? choose another with --port (MOTIF_SERVE_PORT)"
            }
            _ => "is another motif serve using this state directory? give this one --state-dir",
        };
        CliError::new(Kind::Other, e).hint(hint)
    })?;
    let endpoints = bound.endpoints().clone();
    let serving = bound.serving();
    status(format!(
        "motif serve: functions at http://NAME.localhost:{port}/ or http://{addr}/NAME/, \
         the broker at http://broker.localhost:{port}/ (state in {})",
        args.state.dir().display(),
        port = endpoints.gateway.port(),
        addr = endpoints.gateway,
    ));
    let stop = tokio::spawn(bound.run(crate::run::shutdown()));
    for dir in &args.deploy {
        let options = DeployOptions {
            path: dir.clone(),
            tag: None,
            invoker: args.invoker.clone(),
            runtime: deploy::Runtime::Auto,
        };
        match deploy::deploy_in_process(&serving, &options).await {
            Ok(deployment) => println!(
                "{} ({}) is serving at {}",
                deployment.name, deployment.revision, deployment.url
            ),
            Err(e) => eprintln!("{e}"),
        }
    }
    stop.await
        .map_err(|e| CliError::new(Kind::Other, e))?
        .map_err(|e| CliError::new(Kind::Other, e))
}
