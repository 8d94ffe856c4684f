//! One reconcile of one Function: build it when the cluster builds it ([`crate::build`]),
//! compile it, apply its children, delete the Triggers and PingSources it no longer
//! wants, and write what its build and children report back as its status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, Client, Resource, ResourceExt};
use motif_api::knative::{KnativeService, PingSource, Trigger};
use motif_api::{CompileError, FUNCTION_LABEL, Function, FunctionStatus, compile};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::status::{self, BuildState, SERVICE_READY, TRIGGERS_READY};
use crate::{FIELD_MANAGER, build};

/// How long a Function that is in place waits before it is checked again.
const RESYNC: Duration = Duration::from_secs(300);
/// The first retry after a failure; it doubles with each failure, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What every reconcile shares.
pub(crate) struct Context {
    pub(crate) client: Client,
    /// Whether Knative Eventing's Trigger CRD is installed.
    pub(crate) eventing: bool,
    /// Whether Knative Eventing's PingSource CRD is installed.
    pub(crate) sources: bool,
    /// The image build Jobs run.
    pub(crate) builder_image: String,
    /// Consecutive failures per Function (`namespace/name`), for the backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    pub(crate) fn new(
        client: Client,
        installed: crate::Installed,
        builder_image: String,
    ) -> Context {
        Context {
            client,
            eventing: installed.eventing,
            sources: installed.sources,
            builder_image,
            failures: Mutex::default(),
        }
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a reconcile failed; it is retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The API server refused or failed a request.
    #[error("cannot {what}")]
    Kube {
        /// What was being done.
        what: String,
        /// The API server's answer.
        #[source]
        source: kube::Error,
    },
}

/// `namespace/name`, for logs and messages.
pub(crate) fn key(function: &Function) -> String {
    format!(
        "{}/{}",
        function.namespace().unwrap_or_default(),
        function.name_any()
    )
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The message of an API server's refusal, without kube's wrapping.
pub(crate) fn api_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

/// Reconciles one Function.
pub(crate) async fn reconcile(
    function: Arc<Function>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    if function.meta().deletion_timestamp.is_some() {
        // Its children carry owner references: the garbage collector removes them.
        return Ok(Action::await_change());
    }
    let namespace = function.namespace().unwrap_or_default();
    let name = function.name_any();
    let functions: Api<Function> = Api::namespaced(ctx.client.clone(), &namespace);

    let build = build::reconcile(&ctx.client, &ctx.builder_image, &function).await?;
    let build = build.as_ref();
    if let Some(build) = build
        && build.latest_image.is_none()
    {
        // Nothing to serve until a build succeeds; the Job's changes wake this up.
        let status = status::unbuilt(&function, build, &now());
        write_status(&functions, &function, status).await?;
        ctx.failures().remove(&key(&function));
        return Ok(Action::requeue(RESYNC));
    }

    let compiled = match build {
        Some(build) => compile(&served(&function, build)),
        None => compile(&function),
    };
    let compiled = match compiled {
        Ok(compiled) => compiled,
        Err(error) => {
            let reason = match error {
                CompileError::NoImage(_) => "NoImage",
                CompileError::NotBuilt(_) => "NotBuilt",
                _ => "InvalidSpec",
            };
            let mut message = error.to_string();
            if let Some(hint) = error.hint() {
                message = format!("{message}; {hint}");
            }
            let status = status::failed(&function, build, SERVICE_READY, reason, message, &now());
            write_status(&functions, &function, status).await?;
            // Nothing will change until the Function does.
            return Ok(Action::await_change());
        }
    };

    let apply = PatchParams::apply(FIELD_MANAGER).force();
    let services: Api<KnativeService> = Api::namespaced(ctx.client.clone(), &namespace);
    let service = match services
        .patch(&name, &apply, &Patch::Apply(&compiled.service))
        .await
    {
        Ok(service) => service,
        Err(source) => {
            let message = format!(
                "applying Knative Service `{name}`: {}",
                api_message(&source)
            );
            let status = status::failed(
                &function,
                build,
                SERVICE_READY,
                "ServiceApplyFailed",
                message,
                &now(),
            );
            write_status(&functions, &function, status).await?;
            return Err(ReconcileError::Kube {
                what: format!("apply Knative Service {namespace}/{name}"),
                source,
            });
        }
    };

    let mut triggers = Vec::new();
    let mut unavailable = None;
    if ctx.eventing {
        let api: Api<Trigger> = Api::namespaced(ctx.client.clone(), &namespace);
        for trigger in &compiled.triggers {
            let trigger_name = trigger.name_any();
            match api
                .patch(&trigger_name, &apply, &Patch::Apply(trigger))
                .await
            {
                Ok(applied) => triggers.push(applied),
                Err(source) => {
                    let message = format!(
                        "applying Trigger `{trigger_name}`: {}",
                        api_message(&source)
                    );
                    let status = status::failed(
                        &function,
                        build,
                        TRIGGERS_READY,
                        "TriggerApplyFailed",
                        message,
                        &now(),
                    );
                    write_status(&functions, &function, status).await?;
                    return Err(ReconcileError::Kube {
                        what: format!("apply Trigger {namespace}/{trigger_name}"),
                        source,
                    });
                }
            }
        }
        prune(&api, &function, &compiled.triggers, "Trigger").await?;
    } else if !compiled.triggers.is_empty() {
        unavailable = Some((
            "EventingNotInstalled",
            "the Function subscribes to events, but Knative Eventing's Trigger CRD is not \
             installed on the cluster"
                .to_owned(),
        ));
    }

    if ctx.sources {
        let api: Api<PingSource> = Api::namespaced(ctx.client.clone(), &namespace);
        for source in &compiled.ping_sources {
            let source_name = source.name_any();
            if let Err(source) = api.patch(&source_name, &apply, &Patch::Apply(source)).await {
                let message = format!(
                    "applying PingSource `{source_name}`: {}",
                    api_message(&source)
                );
                let status = status::failed(
                    &function,
                    build,
                    TRIGGERS_READY,
                    "PingSourceApplyFailed",
                    message,
                    &now(),
                );
                write_status(&functions, &function, status).await?;
                return Err(ReconcileError::Kube {
                    what: format!("apply PingSource {namespace}/{source_name}"),
                    source,
                });
            }
        }
        prune(&api, &function, &compiled.ping_sources, "PingSource").await?;
    } else if !compiled.ping_sources.is_empty() && unavailable.is_none() {
        unavailable = Some((
            "SourcesNotInstalled",
            "the Function has ping sources, but Knative Eventing's PingSource CRD is not \
             installed on the cluster"
                .to_owned(),
        ));
    }

    let status = status::observed(&function, build, &service, &triggers, unavailable, &now());
    write_status(&functions, &function, status).await?;
    ctx.failures().remove(&key(&function));
    Ok(Action::requeue(RESYNC))
}

/// The Function as it is served: its status names the image of `build`, which
/// [`compile`] runs.
fn served(function: &Function, build: &BuildState) -> Function {
    let mut served = function.clone();
    let status = served.status.get_or_insert_default();
    status.latest_image.clone_from(&build.latest_image);
    status.build.clone_from(&build.build);
    served
}

/// Deletes the children of kind `K` (Triggers, PingSources) this Function owns that it
/// no longer wants.
async fn prune<K>(
    api: &Api<K>,
    function: &Function,
    wanted: &[K],
    kind: &str,
) -> Result<(), ReconcileError>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let name = function.name_any();
    let selector = format!("{FUNCTION_LABEL}={name}");
    let existing = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|source| ReconcileError::Kube {
            what: format!("list the {kind}s of {}", key(function)),
            source,
        })?;
    let uid = function.uid();
    for child in existing {
        let owned = child
            .owner_references()
            .iter()
            .any(|o| Some(&o.uid) == uid.as_ref() && o.controller == Some(true));
        let kept = wanted.iter().any(|w| w.name_any() == child.name_any());
        if owned && !kept {
            tracing::info!(function = %key(function), child = %child.name_any(), "deleting a {kind} no longer wanted");
            match api
                .delete(&child.name_any(), &DeleteParams::default())
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(source) => {
                    return Err(ReconcileError::Kube {
                        what: format!("delete {kind} {}", child.name_any()),
                        source,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Writes the status when it differs from the one the Function has.
async fn write_status(
    api: &Api<Function>,
    function: &Function,
    status: FunctionStatus,
) -> Result<(), ReconcileError> {
    if function.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let patch = json!({
        "apiVersion": Function::api_version(&()),
        "kind": Function::kind(&()),
        "status": status,
    });
    api.patch_status(
        &function.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(|source| ReconcileError::Kube {
        what: format!("write the status of {}", key(function)),
        source,
    })?;
    Ok(())
}

/// After a failed reconcile: retry with a backoff that doubles per consecutive failure.
pub(crate) fn error_policy(
    function: Arc<Function>,
    error: &ReconcileError,
    ctx: Arc<Context>,
) -> Action {
    let mut failures = ctx.failures();
    let count = failures.entry(key(&function)).or_default();
    *count = count.saturating_add(1);
    let delay = backoff(*count);
    tracing::warn!(function = %key(&function), error = %error_chain(error), retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// The delay after `failures` consecutive failures.
pub(crate) fn backoff(failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1));
    FIRST_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(4), Duration::from_secs(4));
        assert_eq!(backoff(20), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
