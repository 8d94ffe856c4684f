//! The same Function on motif serve and on Knative: the environment a function's process
//! gets here is the one the compiled Knative Service gives its container, plus the
//! variables Knative itself sets (`K_SERVICE`, `K_CONFIGURATION`, `K_REVISION`).

use std::collections::BTreeMap;

use motif_api::{Artifact, Function};

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_function_sees_the_environment_knative_would_give_it() {
    let dir = scratch("parity");
    let mut spec = command_spec();
    spec.timeout_seconds = Some(42);
    spec.concurrency = Some(7);
    spec.env.insert("GREETING".into(), "hi".into());
    spec.artifact = Artifact {
        image: Some(format!("127.0.0.1:5000/parity@sha256:{}", "0".repeat(64))),
    };

    let mut function = Function::new("parity", spec.clone());
    function.metadata.namespace = Some("apps".into());
    let compiled = motif_api::compile(&function).expect("the spec compiles");
    let service = serde_json::to_value(&compiled.service).unwrap();
    let revision = &service["spec"]["template"]["spec"];
    let mut expected: BTreeMap<String, String> = revision["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|var| {
            let value = var["value"].as_str().unwrap_or_default();
            (var["name"].as_str().unwrap().to_owned(), value.to_owned())
        })
        .collect();
    // What Knative adds to every container (its runtime contract); Knative names the
    // first revision NAME-00001, as motif serve does.
    for (key, value) in [
        ("K_SERVICE", "parity"),
        ("K_CONFIGURATION", "parity"),
        ("K_REVISION", "parity-00001"),
    ] {
        expected.insert(key.into(), value.into());
    }
    assert_eq!(revision["containerConcurrency"], 7);
    assert_eq!(revision["timeoutSeconds"], 42);

    let served = Served::start(settings(&dir)).await;
    let print_env = "env | grep -E '^(MOTIF_|K_|GREETING=)' | sort";
    served
        .deploy(
            "parity",
            &spec,
            &command_function(&dir.join("fn"), print_env),
        )
        .await;
    let reply = served.post("parity", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let seen: BTreeMap<String, String> = reply
        .text()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (key, value) in &expected {
        assert_eq!(seen.get(key), Some(value), "{key}: served {seen:?}");
    }
    served.stop().await;
}
