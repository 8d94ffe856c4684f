//! `motif controller`: the controller that keeps Functions compiled to Knative Services
//! and Triggers, run in the foreground (as the Deployment of `motif system install` runs
//! it, or on a laptop against the current context).

use motif_controller::Options;

use crate::cluster::{Target, TargetArgs};
use crate::error::{CliError, Kind};
use crate::output::status;

/// Run the motif controller against the current Kubernetes context until SIGTERM or
/// Ctrl-C.
///
/// In a pod it uses the service account; elsewhere the kubeconfig (KUBECONFIG honoured).
/// It logs to stderr at `info` (MOTIF_CLI_LOG sets the filter).
#[derive(Debug, clap::Args)]
pub struct ControllerArgs {
    /// Watch the Functions of this namespace only [default: every namespace].
    #[arg(
        short,
        long,
        env = "MOTIF_CONTROLLER_NAMESPACE",
        value_name = "NAMESPACE"
    )]
    namespace: Option<String>,
    /// The image of the Jobs that build Functions from their source (`source` without
    /// `artifact.image`): its entrypoint the `motif` binary, run as `motif function build`
    /// [default: `motif-builder` at this version, from the cluster's default registry].
    #[arg(
        long,
        env = "MOTIF_BUILDER_IMAGE",
        value_name = "REFERENCE",
        default_value = motif_controller::DEFAULT_BUILDER_IMAGE
    )]
    builder_image: String,
}

/// Runs `motif controller`.
pub async fn controller(args: ControllerArgs) -> Result<(), CliError> {
    let target = Target::connect(&TargetArgs {
        cluster: true,
        namespace: args.namespace.clone(),
    })
    .await?;
    status(format!(
        "motif controller on {} watching {}",
        target.server,
        args.namespace.as_deref().map_or_else(
            || "every namespace".to_owned(),
            |ns| format!("namespace `{ns}`")
        )
    ));
    let options = Options {
        namespace: args.namespace,
        builder_image: args.builder_image,
    };
    motif_controller::run(target.client.clone(), options, shutdown())
        .await
        .map_err(|e| {
            let hint = e.hint();
            let error = match e {
                motif_controller::Error::Kube { what, source } => {
                    target.fail(source, format!("cannot {what}"))
                }
                other => CliError::new(Kind::Other, other),
            };
            match hint {
                Some(hint) => error.hint(hint),
                None => error,
            }
        })
}

/// Resolves on Ctrl-C or SIGTERM: the controller then finishes its reconciles and stops.
fn shutdown() -> impl std::future::Future<Output = ()> + Send + Sync + 'static {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        let _ = tx.send(());
    });
    async move {
        // A dropped sender (no signal handler) means: run until killed.
        if rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
