//! The cluster build of a Function with a `source` and no `artifact.image`.
//!
//! Each set of build inputs ([`motif_api::build_key`]) is built once, by a Job named after
//! the Function and the key, which runs the builder image (its entrypoint the `motif`
//! binary): `motif function build NAME --git-repo URL ... --push IMAGE --report
//! /dev/termination-log`. The builder reports one JSON object as its container's
//! termination message, `{"image": "HOST/REPO@sha256:...", "commit": "..."}` or
//! `{"error": "..."}`; once the Job has finished, the controller reads it from the Job's
//! pod and records the image as `status.latestImage`, which the Knative Service runs.
//!
//! # Guarantees
//! - The push credentials are never in the Job: its container reads them from the Secret
//!   `build.registrySecret` names, through `secretKeyRef`s.
//! - Inputs whose build finished are not built again; when the build of new inputs
//!   finishes, the Function's older build Jobs are deleted.
//! - A spec that does not validate is not built: compiling it reports why.
//!
//! # Caveats
//! - The report is read from the pods' status: a Job whose pod is gone before the
//!   controller saw it finish is a failed build (delete the Job to build again).
//! - A build that never starts (the builder image cannot be pulled) stays `Building`: the
//!   Job has no deadline, as a build's length is the code's.
//! - Pods are found by the label `job-name`, which the Job controller sets on every
//!   version (from 1.27 beside `batch.kubernetes.io/job-name`).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, PodSpec, PodTemplateSpec,
    SecretKeySelector, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};
use motif_api::{BuildStatus, CodeSource, FUNCTION_LABEL, Function, build_key, validate_function};

use self::report::Report;
use crate::FIELD_MANAGER;
use crate::reconcile::{ReconcileError, api_message, key};
use crate::status::BuildState;

mod report;

/// The label with the build key of a build Job and its pod.
pub(crate) const BUILD_KEY_LABEL: &str = "motif.dev/build-key";
/// The label the Job controller puts on a Job's pods: the Job's name.
pub(crate) const JOB_NAME_LABEL: &str = "job-name";
/// The builder's container in a build Job.
pub(crate) const BUILD_CONTAINER: &str = "build";
/// Where the builder writes its report: the container's termination message.
const REPORT_PATH: &str = "/dev/termination-log";
/// The builder's working directory and `HOME`: an `emptyDir`, so that the build works
/// whatever the image's filesystem allows, and its clone goes with the pod.
const WORKSPACE: &str = "/workspace";
/// The key's hex digits in a Job's name: 40 bits tell a Function's builds apart.
const KEY_IN_NAME: usize = 10;
/// A Job's name is a label value of its pods (`job-name`): 63 characters at most.
const MAX_JOB_NAME: usize = 63;

/// The Job that builds `function`'s inputs of key `key`: `{name}-build-{key[..10]}`, the
/// Function's name shortened to fit 63 characters.
pub(crate) fn job_name(function: &str, key: &str) -> String {
    let key = key.get(..KEY_IN_NAME).unwrap_or(key);
    let suffix = format!("-build-{key}");
    let room = MAX_JOB_NAME.saturating_sub(suffix.len());
    let name: String = function.chars().take(room).collect();
    format!("{name}{suffix}")
}

/// The build of a Function the cluster builds (it has a `source`, no `artifact.image`
/// and a valid spec): the Job of its current inputs is found, or created, and its
/// report read once it has finished. `None` for any other Function.
pub(crate) async fn reconcile(
    client: &Client,
    builder_image: &str,
    function: &Function,
) -> Result<Option<BuildState>, ReconcileError> {
    let spec = &function.spec;
    let name = function.name_any();
    let (Some(source), None, Some(build_key)) =
        (&spec.source, &spec.artifact.image, build_key(spec))
    else {
        return Ok(None);
    };
    if !validate_function(&name, spec).is_empty() {
        return Ok(None);
    }
    let Some(push) = spec.build.image.as_deref() else {
        let message = "the Function is built from its source by the cluster, and `build.image` \
                       is not set: set it to the repository the build pushes to (HOST/REPO)";
        return Ok(Some(failed(function, "NoBuildImage", message.to_owned())));
    };
    let previous = function.status.clone().unwrap_or_default();
    if let (Some(image), Some(build)) = (previous.latest_image, previous.build)
        && build.key == build_key
    {
        return Ok(Some(BuildState::built(image, build)));
    }

    let namespace = function.namespace().unwrap_or_default();
    let jobs: Api<Job> = Api::namespaced(client.clone(), &namespace);
    let job_name = job_name(&name, &build_key);
    let selector = format!("{FUNCTION_LABEL}={name},{BUILD_KEY_LABEL}");
    let listed = jobs
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|source| ReconcileError::Kube {
            what: format!("list the build Jobs of {}", key(function)),
            source,
        })?;
    let building = || {
        let message = format!("building {} in Job `{job_name}`", describe(source));
        Some(BuildState::pending(
            function, "Unknown", "Building", message,
        ))
    };
    let Some(job) = listed.items.iter().find(|j| j.name_any() == job_name) else {
        let job = self::job(function, source, push, &build_key, builder_image);
        return match create(&jobs, &job).await {
            Ok(()) => {
                tracing::info!(function = %key(function), job = %job_name, "building");
                Ok(building())
            }
            Err(message) => Ok(Some(failed(function, "JobCreateFailed", message))),
        };
    };
    let state = match finished(job) {
        None => return Ok(building()),
        Some(Ok(())) => {
            let report = report::read(client, &namespace, &job_name, true).await?;
            match report.as_deref().map(report::parse) {
                Some(Report::Built { image, commit }) => {
                    let build = BuildStatus {
                        job: job_name.clone(),
                        key: build_key.clone(),
                        commit,
                    };
                    BuildState::built(image, build)
                }
                Some(Report::Failed(why)) => build_failed(function, &job_name, &why),
                None => build_failed(
                    function,
                    &job_name,
                    "the Job succeeded, but its pod left no report (its `build` container's \
                     termination message)",
                ),
            }
        }
        Some(Err(job_failure)) => {
            let report = report::read(client, &namespace, &job_name, false).await?;
            let why = match report.as_deref().map(report::parse) {
                Some(Report::Failed(why)) => why,
                _ => job_failure,
            };
            build_failed(function, &job_name, &why)
        }
    };
    delete_older(&jobs, function, &listed.items, &job_name).await?;
    Ok(Some(state))
}

fn failed(function: &Function, reason: &str, message: String) -> BuildState {
    BuildState::pending(function, "False", reason, message)
}

fn build_failed(function: &Function, job: &str, why: &str) -> BuildState {
    failed(
        function,
        "BuildFailed",
        format!("the build in Job `{job}` failed: {why}"),
    )
}

/// `https://... at REVISION (sub-path P)`, for messages.
fn describe(source: &CodeSource) -> String {
    let revision = match &source.git.revision {
        Some(revision) => format!("revision `{revision}`"),
        None => "the default branch".to_owned(),
    };
    let sub_path = match &source.sub_path {
        Some(path) => format!(" (sub-path `{path}`)"),
        None => String::new(),
    };
    format!("{revision} of `{}`{sub_path}", source.git.url)
}

/// Creates the Job; one that exists already (made by a reconcile whose Job the watch
/// has yet to see) is as good. Else the API server's refusal, for the status.
async fn create(jobs: &Api<Job>, job: &Job) -> Result<(), String> {
    let params = PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    };
    match jobs.create(&params, job).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(error) => Err(format!(
            "cannot create the build Job `{}`: {}",
            job.name_any(),
            api_message(&error)
        )),
    }
}

/// Whether the Job has finished: `Ok` when it succeeded, `Err` with the Job's reason
/// and message when it failed.
fn finished(job: &Job) -> Option<Result<(), String>> {
    let status = job.status.as_ref()?;
    let conditions = status.conditions.iter().flatten();
    for c in conditions.filter(|c| c.status == "True") {
        match c.type_.as_str() {
            "Complete" => return Some(Ok(())),
            "Failed" => {
                let why = match (&c.reason, &c.message) {
                    (Some(reason), Some(message)) => format!("{reason}: {message}"),
                    (None, Some(text)) | (Some(text), None) => text.clone(),
                    (None, None) => "the Job failed".to_owned(),
                };
                return Some(Err(why));
            }
            _ => {}
        }
    }
    (status.succeeded.unwrap_or(0) >= 1).then_some(Ok(()))
}

/// Deletes the Function's build Jobs other than `current` (their pods go with them).
async fn delete_older(
    jobs: &Api<Job>,
    function: &Function,
    listed: &[Job],
    current: &str,
) -> Result<(), ReconcileError> {
    let uid = function.uid();
    for job in listed {
        let owned = job
            .owner_references()
            .iter()
            .any(|o| Some(&o.uid) == uid.as_ref() && o.controller == Some(true));
        let name = job.name_any();
        if !owned || name == current || job.metadata.deletion_timestamp.is_some() {
            continue;
        }
        tracing::info!(function = %key(function), job = %name, "deleting an older build Job");
        match jobs.delete(&name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => {
                return Err(ReconcileError::Kube {
                    what: format!("delete the build Job {name}"),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// The build Job of `function` (whose source is `source`), pushing to `push`.
pub(crate) fn job(
    function: &Function,
    source: &CodeSource,
    push: &str,
    build_key: &str,
    builder_image: &str,
) -> Job {
    let name = function.name_any();
    let spec = &function.spec;
    let labels = BTreeMap::from([
        (FUNCTION_LABEL.to_owned(), name.clone()),
        (BUILD_KEY_LABEL.to_owned(), build_key.to_owned()),
    ]);
    let mut args = vec!["function".to_owned(), "build".to_owned(), name.clone()];
    let mut flag = |flag: &str, value: Option<&str>| {
        if let Some(value) = value {
            args.extend([flag.to_owned(), value.to_owned()]);
        }
    };
    flag("--git-repo", Some(&source.git.url));
    flag("--git-revision", source.git.revision.as_deref());
    flag("--sub-path", source.sub_path.as_deref());
    flag("--language", Some(spec.language.as_str()));
    flag("--kind", Some(spec.kind.as_str()));
    flag("--handler", spec.handler.as_deref());
    flag("--base", spec.build.base.as_deref());
    flag("--push", Some(push));
    flag("--report", Some(REPORT_PATH));

    let mut env = vec![EnvVar {
        name: "HOME".into(),
        value: Some(WORKSPACE.into()),
        value_from: None,
    }];
    if let Some(secret) = &spec.build.registry_secret {
        for (var, key) in [
            ("MOTIF_REGISTRY_USERNAME", "username"),
            ("MOTIF_REGISTRY_PASSWORD", "password"),
        ] {
            env.push(EnvVar {
                name: var.into(),
                value: None,
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: secret.clone(),
                        key: key.into(),
                        optional: None,
                    }),
                    ..EnvVarSource::default()
                }),
            });
        }
    }
    let container = Container {
        name: BUILD_CONTAINER.into(),
        image: Some(builder_image.to_owned()),
        args: Some(args),
        env: Some(env),
        working_dir: Some(WORKSPACE.into()),
        volume_mounts: Some(vec![VolumeMount {
            name: "workspace".into(),
            mount_path: WORKSPACE.into(),
            ..VolumeMount::default()
        }]),
        termination_message_path: Some(REPORT_PATH.into()),
        // A builder that dies before it reports leaves its log's tail as the message.
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Container::default()
    };
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&name, build_key)),
            namespace: function.metadata.namespace.clone(),
            labels: Some(labels.clone()),
            owner_references: function.controller_owner_ref(&()).map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            // A failed build is reported, not retried: the same inputs fail the same way.
            backoff_limit: Some(0),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    // The builder needs nothing from the API server.
                    automount_service_account_token: Some(false),
                    containers: vec![container],
                    volumes: Some(vec![Volume {
                        name: "workspace".into(),
                        empty_dir: Some(EmptyDirVolumeSource::default()),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use motif_api::{FunctionSpec, GitSource, Language};

    use super::*;

    #[test]
    fn job_names_fit_in_a_label() {
        assert_eq!(
            job_name("square", "0123456789abcdef"),
            "square-build-0123456789"
        );
        let long = "f".repeat(63);
        let name = job_name(&long, "0123456789abcdef");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("-build-0123456789"));
    }

    #[test]
    fn the_job_runs_the_builder_with_the_source_and_no_credentials_in_clear() {
        let source = CodeSource {
            git: GitSource {
                url: "https://git.example/fns.git".into(),
                revision: Some("v1".into()),
            },
            sub_path: None,
        };
        let mut spec = FunctionSpec {
            language: Language::Python,
            source: Some(source.clone()),
            ..FunctionSpec::default()
        };
        spec.build.registry_secret = Some("creds".into());
        let function = Function::new("square", spec);
        let job = job(
            &function,
            &source,
            "r.test/fns/sq",
            "0123456789abcdef",
            "b:1",
        );
        let pod = job.spec.unwrap().template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(
            container.args.as_deref().unwrap(),
            [
                "function",
                "build",
                "square",
                "--git-repo",
                "https://git.example/fns.git",
                "--git-revision",
                "v1",
                "--language",
                "python",
                "--kind",
                "http",
                "--push",
                "r.test/fns/sq",
                "--report",
                "/dev/termination-log"
            ]
        );
        let env = container.env.as_ref().unwrap();
        let password = env
            .iter()
            .find(|e| e.name == "MOTIF_REGISTRY_PASSWORD")
            .unwrap();
        assert_eq!(password.value, None);
        let selector = password
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref();
        assert_eq!(
            selector.map(|s| (s.name.as_str(), s.key.as_str())),
            Some(("creds", "password"))
        );
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    }

    #[test]
    fn a_job_finishes_on_its_conditions() {
        let mut job = Job::default();
        assert_eq!(finished(&job), None);
        job.status = Some(serde_json::from_value(serde_json::json!({
            "conditions": [{ "type": "Failed", "status": "True",
                "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit" }],
        })).unwrap());
        assert_eq!(
            finished(&job),
            Some(Err(
                "BackoffLimitExceeded: Job has reached the specified backoff limit".into()
            ))
        );
        job.status = Some(
            serde_json::from_value(serde_json::json!({
                "conditions": [{ "type": "Complete", "status": "True" }], "succeeded": 1,
            }))
            .unwrap(),
        );
        assert_eq!(finished(&job), Some(Ok(())));
    }
}
