//! `motif deploy --cluster`: the Function applied to the current Kubernetes context,
//! then watched until the controller says it is ready.
//!
//! The Function is compiled here first, with the same compiler as the controller's, so
//! that invalid input (or a function without an image) never reaches the cluster. Only
//! the Function is applied; its Knative Service and Triggers are the controller's to make.

use std::path::PathBuf;
use std::time::Duration;

use kube::api::{Patch, PatchParams};

use crate::cluster::wait::{self, Outcome};
use crate::cluster::{self, Target, TargetArgs};
use crate::error::{CliError, Kind};
use crate::local::deploy::Runtime;
use crate::output::{Format, status};
use crate::render::{self, Rendered};

/// Deploy a function to the current Kubernetes context and wait until it is ready.
///
/// motif.toml is compiled first (it needs `artifact.image`, which `motif build --push`
/// records); then the Function is applied server-side (field manager `motif`) in
/// --namespace, else the context's namespace, else `default`. With --wait (the default)
/// motif watches it until the controller reports Ready=True for this generation and
/// prints its URL; Ready=False fails at once with the reason.
///
/// With `-o json` or `-o yaml`, the Function as the cluster has it (its `status` holds
/// the URL, the latest ready revision and the conditions).
///
/// Exit codes: 0 ready (or applied, with --no-wait); 3 invalid motif.toml or flags;
/// 5 the cluster cannot be reached; 6 the Function failed or was not ready in time.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The function's directory.
    #[arg(default_value = ".", env = "MOTIF_FUNCTION_DIR", value_name = "PATH")]
    path: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    /// Wait until the Function is ready (the default).
    #[arg(long, overrides_with = "no_wait")]
    wait: bool,
    /// Apply the Function and return without waiting.
    #[arg(
        long,
        overrides_with = "wait",
        env = "MOTIF_DEPLOY_NO_WAIT",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    no_wait: bool,
    /// How long to wait for the Function to become ready: 90s, 2m, 1h.
    #[arg(
        long,
        env = "MOTIF_DEPLOY_TIMEOUT",
        value_name = "DURATION",
        default_value = "2m",
        value_parser = wait::parse_duration,
    )]
    timeout: Duration,
    /// Print the objects `motif render` prints, and send nothing.
    #[arg(
        long,
        env = "MOTIF_DRY_RUN",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    dry_run: bool,
    /// Without --cluster: a tag to point at the new revision (TAG-NAME.localhost).
    #[arg(long, env = "MOTIF_DEPLOY_TAG", value_name = "TAG")]
    tag: Option<String>,
    /// Without --cluster: the motif-invoker binary for command functions [default:
    /// beside motif].
    #[arg(long, env = "MOTIF_INVOKER_BIN", value_name = "FILE")]
    invoker: Option<PathBuf>,
    /// Without --cluster: how motif serve runs the function.
    #[arg(
        long,
        env = "MOTIF_DEPLOY_RUNTIME",
        value_enum,
        default_value_t = Runtime::Auto,
        value_name = "RUNTIME"
    )]
    runtime: Runtime,
    #[command(flatten)]
    state: crate::local::StateArgs,
}

/// Runs `motif deploy`.
pub async fn deploy(args: DeployArgs, format: Format) -> Result<(), CliError> {
    if !args.target.cluster {
        if args.dry_run {
            return Err(CliError::input(
                "--dry-run prints Kubernetes objects: it goes with --cluster",
            )
            .hint("`motif render` prints them too"));
        }
        let options = crate::local::deploy::DeployOptions {
            path: args.path,
            tag: args.tag,
            invoker: args.invoker,
            runtime: args.runtime,
        };
        return crate::local::deploy::deploy(options, &args.state, format).await;
    }
    if args.dry_run {
        let namespace = args.target.offline_namespace().await;
        let rendered = Rendered::load(&args.path, Some(namespace))?;
        render::print_objects(format, rendered.objects());
        return Ok(());
    }
    // Compiled before anything else: a function that cannot run never reaches the cluster.
    let mut function = Rendered::load(&args.path, None)?.function;
    let target = Target::connect(&args.target).await?;
    function.metadata.namespace = Some(target.namespace.clone());
    let name = function
        .metadata
        .name
        .clone()
        .expect("a rendered Function has a name");
    let api = target.functions();
    let params = PatchParams::apply(cluster::FIELD_MANAGER).force();
    let applied = api
        .patch(&name, &params, &Patch::Apply(&function))
        .await
        .map_err(|e| target.fail(e, format!("applying the Function `{name}`")))?;
    let generation = applied.metadata.generation.unwrap_or(0);
    status(format!(
        "applied Function {}/{name} (generation {generation})",
        target.namespace
    ));
    if args.no_wait {
        format.print(&cluster::printable(&applied), |out| {
            let _ = writeln!(
                out,
                "Function {name} applied in namespace {}; `motif describe {name} --cluster` \
                 shows when it is ready",
                target.namespace
            );
        });
        return Ok(());
    }

    await_ready(&target, &name, args.timeout, format).await
}

/// Waits until the Function `name` is ready (printing its URL and revision, or the
/// Function with `-o json|yaml`), failed, or not ready within `timeout`: exit 6 with the
/// reason and a hint for the last two.
pub async fn await_ready(
    target: &Target,
    name: &str,
    timeout: Duration,
    format: Format,
) -> Result<(), CliError> {
    status(format!(
        "waiting up to {} for {name} to become ready",
        wait::human(timeout)
    ));
    match wait::until_ready(target.functions(), name, timeout).await {
        Outcome::Ready(function) => {
            let state = function.status.clone().unwrap_or_default();
            format.print(&cluster::printable(&function), |out| {
                let _ = writeln!(out, "Function {name} is ready");
                let _ = writeln!(out, "  URL:      {}", state.url.as_deref().unwrap_or("-"));
                let _ = writeln!(
                    out,
                    "  Revision: {}",
                    state.latest_ready_revision.as_deref().unwrap_or("-")
                );
                if let Some(image) = &state.latest_image {
                    let _ = writeln!(out, "  Image:    {image}");
                }
            });
            Ok(())
        }
        Outcome::Failed(why) => Err(CliError::new(
            Kind::Function,
            anyhow::anyhow!("{why}").context(format!("the Function `{name}` is not ready")),
        )
        .hint(format!(
            "`motif describe {name} --cluster` shows its conditions, Service and Triggers"
        ))),
        Outcome::TimedOut {
            last,
            controller_seen,
        } => {
            let error = CliError::new(
                Kind::Function,
                anyhow::anyhow!("last seen: {last}").context(format!(
                    "the Function `{name}` was not ready within {}",
                    wait::human(timeout)
                )),
            );
            Err(if !controller_seen {
                error.hint(
                    "is the motif controller running? install it with \
                     `motif system install | kubectl apply -f -`",
                )
            } else {
                error.hint(format!(
                    "`motif describe {name} --cluster` shows its conditions; give it longer \
                     with --timeout (MOTIF_DEPLOY_TIMEOUT)"
                ))
            })
        }
    }
}
