//! The shared cluster is a real kube-apiserver: the Knative CRDs are Established, their
//! schemas validate Knative objects, and RBAC is enforced.
//!
//! Each test skips (after the support's `skipping:` notice) when there is no apiserver
//! binary, etcd or conformance data, unless `MOTIF_REQUIRE_CLUSTER=1`.

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use motif_test_support::Cluster;
use serde_json::json;

/// The CRDs of `knative-crds/{serving,eventing}`.
const KNATIVE_CRDS: [&str; 6] = [
    "services.serving.knative.dev",
    "configurations.serving.knative.dev",
    "revisions.serving.knative.dev",
    "routes.serving.knative.dev",
    "brokers.eventing.knative.dev",
    "triggers.eventing.knative.dev",
];

fn knative_service() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(
        "serving.knative.dev",
        "v1",
        "Service",
    ))
}

fn trigger() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(
        "eventing.knative.dev",
        "v1",
        "Trigger",
    ))
}

/// A Knative Service as motif's controller would make it, with `timeout` as its
/// `timeoutSeconds`.
fn service_json(name: &str, timeout: serde_json::Value) -> serde_json::Value {
    json!({
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "motif"}},
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {
                        "autoscaling.knative.dev/min-scale": "1",
                        "autoscaling.knative.dev/max-scale": "10",
                    },
                },
                "spec": {
                    "containerConcurrency": 8,
                    "timeoutSeconds": timeout,
                    "containers": [{
                        "image": "127.0.0.1:5000/hello@sha256:\
                                  2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                        "ports": [{"name": "h2c", "containerPort": 8080}],
                        "env": [{"name": "MOTIF_FUNCTION", "value": "hello"}],
                        "readinessProbe": {"httpGet": {"path": "/healthz"}},
                    }],
                },
            },
            "traffic": [{"latestRevision": true, "percent": 100}],
        },
    })
}

/// Server-side apply as the support's field manager.
fn apply() -> PatchParams {
    PatchParams::apply("motif-test")
}

#[tokio::test]
async fn the_knative_crds_are_established() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let crds = Api::<CustomResourceDefinition>::all(cluster.client().await);
    for name in KNATIVE_CRDS {
        let crd = crds
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let conditions = crd.status.and_then(|s| s.conditions).unwrap_or_default();
        assert!(
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True"),
            "{name} is not Established: {conditions:?}"
        );
    }
}

#[tokio::test]
async fn a_knative_service_is_accepted_by_server_side_apply_and_kept_whole() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let namespace = cluster.namespace("ksvc").await;
    let api = Api::<DynamicObject>::namespaced_with(
        cluster.client().await,
        &namespace,
        &knative_service(),
    );
    let service = service_json("hello", json!(30));
    api.patch("hello", &apply(), &Patch::Apply(&service))
        .await
        .expect("the apiserver accepts a valid Knative Service");

    // The schema prunes unknown fields: what was applied must come back as it was.
    let stored = api.get("hello").await.expect("the Service is stored");
    let template = &stored.data["spec"]["template"];
    assert_eq!(
        template["metadata"]["annotations"]["autoscaling.knative.dev/min-scale"],
        "1"
    );
    assert_eq!(template["spec"]["containerConcurrency"], 8);
    assert_eq!(template["spec"]["timeoutSeconds"], 30);
    assert_eq!(
        template["spec"]["containers"][0]["image"],
        service["spec"]["template"]["spec"]["containers"][0]["image"]
    );
    assert_eq!(stored.data["spec"]["traffic"][0]["percent"], 100);
}

#[tokio::test]
async fn a_knative_service_with_a_string_timeout_is_rejected_with_422_naming_the_field() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let namespace = cluster.namespace("ksvc-invalid").await;
    let api = Api::<DynamicObject>::namespaced_with(
        cluster.client().await,
        &namespace,
        &knative_service(),
    );
    let service = service_json("hello", json!("thirty"));
    let error = api
        .patch("hello", &apply(), &Patch::Apply(&service))
        .await
        .expect_err("a string timeoutSeconds is invalid");
    let kube::Error::Api(status) = &error else {
        panic!("expected the apiserver's refusal, got {error:?}");
    };
    assert_eq!(status.code, 422, "{status:?}");
    assert!(
        status.message.contains("spec.template.spec.timeoutSeconds"),
        "the message names the field: {}",
        status.message
    );
}

#[tokio::test]
async fn an_eventing_trigger_is_accepted_by_server_side_apply() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let namespace = cluster.namespace("trigger").await;
    let api = Api::<DynamicObject>::namespaced_with(cluster.client().await, &namespace, &trigger());
    let trigger = json!({
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": "on-order"},
        "spec": {
            "broker": "default",
            "filter": {"attributes": {"type": "dev.motif.order.created"}},
            "subscriber": {
                "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "hello"},
            },
        },
    });
    api.patch("on-order", &apply(), &Patch::Apply(&trigger))
        .await
        .expect("the apiserver accepts a valid Trigger");
    let stored = api.get("on-order").await.expect("the Trigger is stored");
    assert_eq!(stored.data["spec"]["subscriber"]["ref"]["name"], "hello");
}

#[tokio::test]
async fn the_controller_user_may_not_list_namespaces() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let namespaces = Api::<Namespace>::all(cluster.controller_client().await);
    let error = namespaces
        .list(&ListParams::default())
        .await
        .expect_err("RBAC grants the controller nothing");
    let kube::Error::Api(status) = &error else {
        panic!("expected the apiserver's refusal, got {error:?}");
    };
    assert_eq!(status.code, 403, "{status:?}");
    assert!(
        status
            .message
            .contains("system:serviceaccount:motif-system:motif-controller"),
        "{}",
        status.message
    );

    // The admin may.
    let admin = Api::<Namespace>::all(cluster.client().await);
    let listed = admin
        .list(&ListParams::default())
        .await
        .expect("an admin lists");
    assert!(
        listed
            .items
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some("default"))
    );
}
