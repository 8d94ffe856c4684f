//! The motif controller: keeps every Function on a Kubernetes cluster compiled to its
//! Knative Service and Triggers ([`motif_api::compile()`]), applied with server-side apply
//! and owned by the Function, and writes what they report back as the Function's status.
//! A Function with a `source` and no `artifact.image` is first built by the cluster: a
//! Job runs the builder image, which pushes the image its Service then runs.
//!
//! [`run`] checks that the CRDs it needs are installed (Functions and Knative Serving's
//! Services are required; without Knative Eventing, Functions that subscribe to events
//! are reported not ready), then reconciles until it is told to stop. [`install`] renders
//! what `motif system install` applies: the CRD, least-privilege RBAC and the Deployment.

mod build;
pub mod install;
mod reconcile;
pub mod status;

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::api::ListParams;
use kube::runtime::{Controller, watcher};
use kube::{Api, Client, Resource};
use motif_api::Function;
use motif_api::knative::{KnativeService, PingSource, Trigger};

pub use reconcile::ReconcileError;

/// The field manager of everything the controller applies.
pub const FIELD_MANAGER: &str = "motif-controller";

/// The image build Jobs run by default: `motif-builder` at this version, from the
/// cluster's default registry (no registry is named).
pub const DEFAULT_BUILDER_IMAGE: &str = concat!("motif-builder:", env!("CARGO_PKG_VERSION"));

/// What the controller watches, and how it builds.
#[derive(Clone, Debug)]
pub struct Options {
    /// One namespace, or every namespace when `None`.
    pub namespace: Option<String>,
    /// The image of the Jobs that build Functions from their source: its entrypoint the
    /// `motif` binary, run as `motif function build ...`.
    pub builder_image: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            namespace: None,
            builder_image: DEFAULT_BUILDER_IMAGE.to_owned(),
        }
    }
}

/// Why the controller cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A CRD the controller needs is not installed.
    #[error("the {what} CRD ({resource}) is not installed on the cluster")]
    MissingCrd {
        /// What the CRD is for.
        what: &'static str,
        /// `plural.group`.
        resource: String,
        /// What to do.
        hint: &'static str,
    },
    /// The API server could not be asked.
    #[error("cannot {what}")]
    Kube {
        /// What was being asked.
        what: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
}

impl Error {
    /// What to do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::MissingCrd { hint, .. } => Some(hint),
            Error::Kube { .. } => None,
        }
    }
}

/// The CRDs found on the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Installed {
    /// Knative Eventing's Trigger CRD.
    pub eventing: bool,
    /// Knative Eventing's PingSource CRD.
    pub sources: bool,
}

/// Whether the resource `K` is served: a 404 on listing it means its CRD is missing.
async fn served<K>(api: Api<K>) -> Result<bool, kube::Error>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.list(&ListParams::default().limit(1)).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(other) => Err(other),
    }
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Checks that the CRDs the controller needs are installed: Functions and Knative
/// Services are required; Knative Eventing's Triggers are optional.
pub async fn preflight(client: &Client, namespace: Option<&str>) -> Result<Installed, Error> {
    let kube = |what: &str| {
        let what = what.to_owned();
        move |source| Error::Kube { what, source }
    };
    if !served(api::<Function>(client, namespace))
        .await
        .map_err(kube("list Functions"))?
    {
        return Err(Error::MissingCrd {
            what: "motif Function",
            resource: "functions.motif.dev".into(),
            hint: "install motif on the cluster: motif system install | kubectl apply -f -",
        });
    }
    if !served(api::<KnativeService>(client, namespace))
        .await
        .map_err(kube("list Knative Services"))?
    {
        return Err(Error::MissingCrd {
            what: "Knative Serving Service",
            resource: "services.serving.knative.dev".into(),
            hint: "install Knative Serving on the cluster first",
        });
    }
    let eventing = served(api::<Trigger>(client, namespace))
        .await
        .map_err(kube("list Knative Triggers"))?;
    if !eventing {
        tracing::warn!(
            "Knative Eventing's Trigger CRD (triggers.eventing.knative.dev) is not installed: \
             Functions with subscriptions will not be ready"
        );
    }
    let sources = served(api::<PingSource>(client, namespace))
        .await
        .map_err(kube("list Knative PingSources"))?;
    if !sources {
        tracing::warn!(
            "Knative Eventing's PingSource CRD (pingsources.sources.knative.dev) is not \
             installed: Functions with ping sources will not be ready"
        );
    }
    Ok(Installed { eventing, sources })
}

/// Runs the controller until `shutdown` completes (or, by default, until SIGTERM or
/// Ctrl-C): in-flight reconciles finish first.
pub async fn run(
    client: Client,
    options: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), Error> {
    let namespace = options.namespace.as_deref();
    let installed = preflight(&client, namespace).await?;
    tracing::info!(
        namespace = namespace.unwrap_or("(all)"),
        eventing = installed.eventing,
        "motif controller started"
    );
    let config = watcher::Config::default();
    // Only build Jobs: a Job's change (it finished) wakes its Function up.
    let builds = config.clone().labels(build::BUILD_KEY_LABEL);
    let mut controller = Controller::new(api::<Function>(&client, namespace), config.clone())
        .owns(api::<KnativeService>(&client, namespace), config.clone())
        .owns(api::<Job>(&client, namespace), builds);
    if installed.eventing {
        controller = controller.owns(api::<Trigger>(&client, namespace), config.clone());
    }
    if installed.sources {
        controller = controller.owns(api::<PingSource>(&client, namespace), config);
    }
    let context = Arc::new(reconcile::Context::new(
        client,
        installed,
        options.builder_image,
    ));
    controller
        .graceful_shutdown_on(shutdown)
        .run(reconcile::reconcile, reconcile::error_policy, context)
        .for_each(|result| async move {
            match result {
                Ok((object, _)) => tracing::debug!(function = %object, "reconciled"),
                // Reconcile failures are logged with their backoff by the error policy.
                Err(kube::runtime::controller::Error::ReconcilerFailed(..)) => {}
                Err(error) => tracing::warn!(%error, "controller"),
            }
        })
        .await;
    tracing::info!("motif controller stopped");
    Ok(())
}
