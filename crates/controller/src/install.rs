//! What `motif system install` applies: the Function CRD, the controller's namespace,
//! service account and least-privilege RBAC, and its Deployment.
//!
//! The RBAC rules grant exactly the verbs the controller uses: it lists and watches
//! Functions and writes their status; it lists, watches and applies (create + patch)
//! Knative Services, Triggers and PingSources, and deletes the Triggers and PingSources
//! no longer wanted; it lists, watches, creates and deletes build Jobs, and lists pods to
//! read the builds' reports (their termination messages). It never reads single
//! objects, deletes Services (owner references do), reads Secrets or logs (a build's
//! credentials go from the Secret to the builder's container, by reference) or touches
//! anything else.

use kube::CustomResourceExt;
use motif_api::Function;
use serde_json::{Value, json};

/// The name of the controller's service account, ClusterRole, ClusterRoleBinding and
/// Deployment.
pub const NAME: &str = "motif-controller";
/// The namespace the controller runs in by default.
pub const DEFAULT_NAMESPACE: &str = "motif-system";

/// Where the controller is installed, and from which image.
#[derive(Clone, Debug)]
pub struct InstallOptions {
    /// The controller's namespace.
    pub namespace: String,
    /// The image with the `motif` binary (its entrypoint or `/motif` runs `motif controller`).
    pub image: String,
    /// The image of the build Jobs ([`crate::Options::builder_image`]), given to the
    /// controller as `MOTIF_BUILDER_IMAGE`.
    pub builder_image: String,
}

/// The RBAC rules of the controller, as a ClusterRole's `rules`.
pub fn rules() -> Value {
    json!([
        {
            "apiGroups": ["motif.dev"],
            "resources": ["functions"],
            "verbs": ["list", "watch"],
        },
        {
            "apiGroups": ["motif.dev"],
            "resources": ["functions/status"],
            "verbs": ["patch"],
        },
        {
            "apiGroups": ["serving.knative.dev"],
            "resources": ["services"],
            "verbs": ["list", "watch", "create", "patch"],
        },
        {
            "apiGroups": ["eventing.knative.dev"],
            "resources": ["triggers"],
            "verbs": ["list", "watch", "create", "patch", "delete"],
        },
        {
            "apiGroups": ["sources.knative.dev"],
            "resources": ["pingsources"],
            "verbs": ["list", "watch", "create", "patch", "delete"],
        },
        {
            "apiGroups": ["batch"],
            "resources": ["jobs"],
            "verbs": ["list", "watch", "create", "delete"],
        },
        {
            "apiGroups": [""],
            "resources": ["pods"],
            "verbs": ["list"],
        },
    ])
}

/// Every object to apply, in order: CRD, Namespace, ServiceAccount, ClusterRole,
/// ClusterRoleBinding, Deployment.
pub fn manifests(options: &InstallOptions) -> Vec<Value> {
    let ns = options.namespace.as_str();
    let labels = json!({ "app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "motif" });
    let crd = serde_json::to_value(Function::crd()).expect("a CRD serializes");
    vec![
        crd,
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": ns, "labels": labels },
        }),
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": { "name": NAME, "namespace": ns, "labels": labels },
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": { "name": NAME, "labels": labels },
            "rules": rules(),
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": { "name": NAME, "labels": labels },
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NAME,
            },
            "subjects": [{ "kind": "ServiceAccount", "name": NAME, "namespace": ns }],
        }),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": { "name": NAME, "namespace": ns, "labels": labels },
            "spec": {
                // One writer: there is no leader election.
                "replicas": 1,
                "strategy": { "type": "Recreate" },
                "selector": { "matchLabels": { "app.kubernetes.io/name": NAME } },
                "template": {
                    "metadata": { "labels": labels },
                    "spec": {
                        "serviceAccountName": NAME,
                        "securityContext": {
                            "runAsNonRoot": true,
                            "runAsUser": 65532,
                            "seccompProfile": { "type": "RuntimeDefault" },
                        },
                        "containers": [{
                            "name": "controller",
                            "image": options.image,
                            "args": ["controller"],
                            "env": [
                                { "name": "MOTIF_CLI_LOG", "value": "info" },
                                { "name": "MOTIF_BUILDER_IMAGE", "value": options.builder_image },
                            ],
                            "resources": {
                                "requests": { "cpu": "50m", "memory": "64Mi" },
                                "limits": { "memory": "256Mi" },
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": false,
                                "readOnlyRootFilesystem": true,
                                "capabilities": { "drop": ["ALL"] },
                            },
                        }],
                    },
                },
            },
        }),
    ]
}
