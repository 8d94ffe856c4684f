//! `motif system install`: what puts motif on a cluster (the Function CRD, the
//! controller's namespace, service account, RBAC and Deployment), printed to be applied.

use motif_controller::install::{self, InstallOptions};

use crate::error::CliError;
use crate::output::Format;
use crate::render;

/// Manage motif on a Kubernetes cluster.
#[derive(Debug, clap::Subcommand)]
pub enum SystemCommand {
    Install(InstallArgs),
}

/// Print what installs motif on a cluster: the Function CRD, the controller's namespace,
/// service account, least-privilege RBAC and Deployment.
///
/// Nothing is sent: apply the output with `kubectl apply -f -` (or commit it, for
/// GitOps). Multi-document YAML; with `-o json` or `-o yaml`, one `v1` `List`.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The namespace the controller runs in.
    #[arg(
        short,
        long,
        env = "MOTIF_SYSTEM_NAMESPACE",
        value_name = "NAMESPACE",
        default_value = install::DEFAULT_NAMESPACE,
    )]
    namespace: String,
    /// The controller's image: one with the `motif` binary as its entrypoint, run as
    /// `motif controller`, pushed to a registry the cluster pulls from [default: `motif`
    /// at this version, for a registry configured as the cluster's default].
    #[arg(long, env = "MOTIF_CONTROLLER_IMAGE", value_name = "REFERENCE", default_value = DEFAULT_IMAGE)]
    image: String,
    /// The image of the Jobs that build Functions from their source, which the
    /// controller runs: its entrypoint the `motif` binary, run as `motif function build`
    /// [default: `motif-builder` at this version, for a registry configured as the
    /// cluster's default].
    #[arg(
        long,
        env = "MOTIF_BUILDER_IMAGE",
        value_name = "REFERENCE",
        default_value = motif_controller::DEFAULT_BUILDER_IMAGE
    )]
    builder_image: String,
}

/// No registry is named: the cluster's default, or `--image`.
const DEFAULT_IMAGE: &str = concat!("motif:", env!("CARGO_PKG_VERSION"));

/// Runs `motif system`.
pub fn command(command: SystemCommand, format: Format) -> Result<(), CliError> {
    match command {
        SystemCommand::Install(args) => {
            let manifests = install::manifests(&InstallOptions {
                namespace: args.namespace,
                image: args.image,
                builder_image: args.builder_image,
            });
            render::print_objects(format, manifests);
            Ok(())
        }
    }
}
