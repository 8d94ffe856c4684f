//! The README's tour, run as written: every ```` ```sh ```` block of `README.md`, in order,
//! in one shell in a fresh directory, with the workspace's `motif` and `motif-invoker`
//! first on PATH (as `cargo install` puts them), a `docker-registry` (`REGISTRY`) and a
//! kube-apiserver with the Knative CRDs (`KUBECONFIG`, and `kubectl`) of its own.

mod common;

use std::time::Instant;

use common::readme::{run_shell, shell_blocks};
use common::*;
use motif_test_support::{Cluster, Registry, http};

#[test]
fn the_readme_tour_runs_as_written() {
    let Some(cluster) = Cluster::shared() else {
        eprintln!("skipping: no kube-apiserver for the README's Kubernetes commands");
        return;
    };
    let kubeconfig = cluster.kubeconfig();
    let dir = scratch_dir("cli-readme", "tour");
    let registry = Registry::start().expect("docker-registry starts");
    let blocks = shell_blocks(&workspace().join("README.md"));
    assert!(blocks.len() >= 4, "the README's tour has its sh blocks");
    // Whatever the tour starts in the background stops with it (`run_shell`).
    let script = blocks.join("\n");
    let port = http::free_port().to_string();
    let host = registry.host();
    let functions = workspace().join("target/motif-test-functions");
    let env = [
        ("MOTIF_SERVE_PORT", port.as_str()),
        ("REGISTRY", host.as_str()),
        ("KUBECONFIG", kubeconfig.to_str().unwrap()),
        ("MOTIF_CONFIG_DIR", dir.to_str().unwrap()),
        // Rust functions share the end-to-end tests' target directory.
        ("CARGO_TARGET_DIR", functions.to_str().unwrap()),
        ("CARGO_PROFILE_DEV_DEBUG", "false"),
    ];
    let started = Instant::now();
    let out = run_shell(&script, &dir, &dir.join("state"), &env);
    let text = stdout(&out);
    let serve_log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "the README's tour failed after {:?}:\n--- stdout\n{text}\n--- stderr\n{}\n--- motif serve\n{serve_log}",
        started.elapsed(),
        stderr(&out)
    );
    // Every language answered, the event was delivered, the cluster has the Function.
    assert_eq!(text.matches("hello, motif!").count(), 8, "{text}");
    assert!(text.contains("audit-orders"), "{text}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let function = runtime
        .block_on(async {
            kube::Api::<motif_api::Function>::namespaced(cluster.client().await, "apps")
                .get("hello-c-wasm")
                .await
        })
        .expect("the tour deployed hello-c-wasm to the cluster");
    let image = function.spec.artifact.image.unwrap_or_default();
    assert!(
        image.starts_with(&format!("{host}/hello@sha256:")),
        "{image}"
    );
}
