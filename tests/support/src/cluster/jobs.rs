//! Playing the parts of a cluster that do not run here for a Job: the Job controller
//! (its pod, its status) and the kubelet (the container's termination message), as an
//! admin may write them.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

const STARTED: &str = "2026-11-22T10:00:00Z";
const FINISHED: &str = "2026-11-22T10:01:00Z";

/// Finishes the Job `job` in `namespace`: makes its pod (labelled `job-name` and
/// `batch.kubernetes.io/job-name`, one container `container` of `image`), writes the
/// container terminated with `message` as its termination message (exit 0 when
/// `succeeded`, else 1), then marks the Job succeeded or failed.
///
/// The statuses are the ones the Job controller and the kubelet write, with the
/// conditions newer apiservers require before `Complete` (`SuccessCriteriaMet`) and
/// `Failed` (`FailureTarget`).
///
/// # Panics
/// When the apiserver refuses a write.
pub async fn finish_job(
    client: &kube::Client,
    namespace: &str,
    job: &str,
    (container, image): (&str, &str),
    message: &str,
    succeeded: bool,
) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {
            "name": format!("{job}-x7k2p"),
            "labels": { "batch.kubernetes.io/job-name": job, "job-name": job },
        },
        "spec": {
            "restartPolicy": "Never",
            "containers": [{ "name": container, "image": image }],
        },
    }))
    .expect("a pod");
    let pod = pods
        .create(&PostParams::default(), &pod)
        .await
        .unwrap_or_else(|e| panic!("creating the pod of Job {job}: {e}"));
    let (exit_code, reason, phase) = match succeeded {
        true => (0, "Completed", "Succeeded"),
        false => (1, "Error", "Failed"),
    };
    let status = json!({ "status": {
        "phase": phase,
        "containerStatuses": [{
            "name": container,
            "image": image,
            "imageID": "",
            "ready": false,
            "restartCount": 0,
            "state": { "terminated": {
                "exitCode": exit_code,
                "reason": reason,
                "message": message,
                "startedAt": STARTED,
                "finishedAt": FINISHED,
            }},
        }],
    }});
    let name = pod.metadata.name.expect("a created pod has a name");
    pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(status))
        .await
        .unwrap_or_else(|e| panic!("writing the status of pod {name}: {e}"));

    let condition = |type_: &str, reason: &str, message: &str| {
        json!({
            "type": type_, "status": "True", "reason": reason, "message": message,
            "lastProbeTime": FINISHED, "lastTransitionTime": FINISHED,
        })
    };
    let status = if succeeded {
        let done = "Reached expected number of succeeded pods";
        json!({
            "startTime": STARTED,
            "completionTime": FINISHED,
            "succeeded": 1,
            "conditions": [
                condition("SuccessCriteriaMet", "CompletionsReached", done),
                condition("Complete", "CompletionsReached", done),
            ],
        })
    } else {
        let limit = "Job has reached the specified backoff limit";
        json!({
            "startTime": STARTED,
            "failed": 1,
            "conditions": [
                condition("FailureTarget", "BackoffLimitExceeded", limit),
                condition("Failed", "BackoffLimitExceeded", limit),
            ],
        })
    };
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    jobs.patch_status(
        job,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .unwrap_or_else(|e| panic!("writing the status of Job {job}: {e}"));
}
