//! `--tail` on the cluster: the logs of a function's pods (its build Job's and its
//! revisions') streamed to stderr while `motif function create` waits for it.
//!
//! # Caveats
//! - Pods are looked for every two seconds by the `motif.dev/function` label; a pod
//!   that starts and ends between two looks is still read (its log is kept by the
//!   kubelet), but one deleted in between is missed.
//! - A pod's log is followed from its start; lines are prefixed `[POD/CONTAINER]`.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::AsyncBufReadExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};
use motif_api::FUNCTION_LABEL;
use tokio::task::JoinSet;

/// How often new pods are looked for.
const POLL: Duration = Duration::from_secs(2);

/// Streams the logs of the pods of function `name` until it is dropped.
pub async fn pods(client: kube::Client, namespace: String, name: String) {
    let api: Api<Pod> = Api::namespaced(client, &namespace);
    let selector = ListParams::default().labels(&format!("{FUNCTION_LABEL}={name}"));
    let mut following: HashSet<(String, String)> = HashSet::new();
    let mut streams = JoinSet::new();
    loop {
        if let Ok(list) = api.list(&selector).await {
            for pod in list {
                let Some(pod_name) = pod.metadata.name.clone() else {
                    continue;
                };
                for container in started_containers(&pod) {
                    if following.insert((pod_name.clone(), container.clone())) {
                        streams.spawn(follow(api.clone(), pod_name.clone(), container));
                    }
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The containers of `pod` that have started (a waiting one has no log yet).
fn started_containers(pod: &Pod) -> Vec<String> {
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default();
    statuses
        .into_iter()
        .filter(|s| {
            s.state
                .as_ref()
                .is_some_and(|state| state.running.is_some() || state.terminated.is_some())
        })
        .map(|s| s.name)
        .collect()
}

/// Prints one container's log, following it until it ends.
async fn follow(api: Api<Pod>, pod: String, container: String) {
    let params = LogParams {
        container: Some(container.clone()),
        follow: true,
        ..LogParams::default()
    };
    let stream = match api.log_stream(&pod, &params).await {
        Ok(stream) => stream,
        Err(error) => {
            eprintln!("[{pod}/{container}] (cannot read its log: {error})");
            return;
        }
    };
    let mut lines = stream.lines();
    while let Some(Ok(line)) = futures_util::StreamExt::next(&mut lines).await {
        eprintln!("[{pod}/{container}] {line}");
    }
}
