//! The controller's startup check, on a cluster where Knative is installed but motif is
//! not (its own test binary, so its own cluster: no other test installs the CRD here).

use motif_controller::{Error, preflight};
use motif_test_support::Cluster;

#[tokio::test]
async fn a_missing_function_crd_is_a_clear_startup_error() {
    let Some(cluster) = Cluster::shared() else {
        eprintln!("skipping: no kube-apiserver for the controller's preflight test");
        return;
    };
    let err = preflight(&cluster.client().await, None).await.unwrap_err();
    assert!(
        matches!(&err, Error::MissingCrd { resource, .. } if resource == "functions.motif.dev"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "the motif Function CRD (functions.motif.dev) is not installed on the cluster"
    );
    assert!(err.hint().unwrap().contains("motif system install"));
}
