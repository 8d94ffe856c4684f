//! The autoscaler at work: scale to zero, activation with buffered requests, scaling
//! out under a hard concurrency limit, min scale.

use std::time::Duration;

use motif_api::Scale;
use motif_serve::artifact::Source;

use crate::common::*;

/// Scale to zero once idle for a second (Knative's is 60 s + 30 s).
fn quick(dir: &std::path::Path) -> motif_serve::Settings {
    let mut settings = settings(dir);
    settings.stable_window = Duration::from_secs(1);
    settings.scale_to_zero_grace = Duration::ZERO;
    settings
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_revision_scales_to_zero_and_the_next_request_starts_it() {
    let dir = scratch("to-zero");
    let served = Served::start(quick(&dir)).await;
    served
        .deploy(
            "idle",
            &command_spec(),
            &command_function(&dir.join("fn"), "echo up"),
        )
        .await;
    served
        .deploy(
            "idle-wasm",
            &wasm_spec(),
            &Source::Wasm {
                path: http_fixture(),
            },
        )
        .await;
    assert_eq!(served.instances("idle").await.len(), 1);
    served
        .wait_instances("idle", 0, Duration::from_secs(10))
        .await;
    served
        .wait_instances("idle-wasm", 0, Duration::from_secs(10))
        .await;

    let reply = served.post("idle", "").await;
    assert_eq!((reply.status, reply.text().as_str()), (200, "up\n"));
    assert_eq!(served.instances("idle").await.len(), 1);
    let wasm = served.post("idle-wasm", "").await;
    assert_eq!(wasm.status, 200);
    let logs = served
        .admin(http::Method::GET, "/v1/functions/idle/logs?tail=50", None)
        .await
        .text();
    assert!(logs.contains("scaling from 1 to 0"), "{logs}");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_arriving_at_zero_wait_for_the_cold_start_and_none_is_dropped() {
    let dir = scratch("buffered");
    let served = Served::start(quick(&dir)).await;
    // A slow start: the invoker's init hook takes half a second.
    let mut spec = command_spec();
    spec.env.insert("MOTIF_INIT".into(), "sleep 0.5".into());
    served
        .deploy("slow", &spec, &command_function(&dir.join("fn"), "cat"))
        .await;
    served
        .wait_instances("slow", 0, Duration::from_secs(10))
        .await;

    let served = std::sync::Arc::new(served);
    let requests: Vec<_> = (0..20)
        .map(|i| {
            let served = served.clone();
            tokio::spawn(async move { served.post("slow", &format!("r{i}")).await })
        })
        .collect();
    for (i, request) in requests.into_iter().enumerate() {
        let reply = request.await.unwrap();
        assert_eq!((reply.status, reply.text()), (200, format!("r{i}")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hard_concurrency_limit_scales_out_and_back() {
    let dir = scratch("scale-out");
    let served = Served::start(quick(&dir)).await;
    let mut spec = command_spec();
    spec.concurrency = Some(1);
    spec.scale = Scale {
        max: Some(4),
        ..Scale::default()
    };
    served
        .deploy(
            "busy",
            &spec,
            &command_function(&dir.join("fn"), "sleep 1; cat"),
        )
        .await;
    let served = std::sync::Arc::new(served);
    let requests: Vec<_> = (0..8)
        .map(|i| {
            let served = served.clone();
            tokio::spawn(async move { served.post("busy", &format!("r{i}")).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let during = served.instances("busy").await;
    assert!(
        (2..=4).contains(&during.len()),
        "{} instances for 8 requests with a limit of 1 and max 4",
        during.len()
    );
    for instance in &during {
        assert!(instance["inFlight"].as_u64().unwrap() <= 1, "{instance}");
    }
    for (i, request) in requests.into_iter().enumerate() {
        let reply = request.await.unwrap();
        assert_eq!((reply.status, reply.text()), (200, format!("r{i}")));
    }
    served
        .wait_instances("busy", 0, Duration::from_secs(15))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn min_scale_keeps_instances_through_idleness() {
    let dir = scratch("min-scale");
    let served = Served::start(quick(&dir)).await;
    let mut spec = command_spec();
    spec.scale = Scale {
        min: Some(2),
        ..Scale::default()
    };
    served
        .deploy(
            "warm",
            &spec,
            &command_function(&dir.join("fn"), "echo warm"),
        )
        .await;
    served
        .wait_instances("warm", 2, Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(served.instances("warm").await.len(), 2);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_started_for_one_short_request_stays_for_the_idle_window() {
    let dir = scratch("short-request");
    let mut settings = settings(&dir);
    settings.stable_window = Duration::from_secs(3);
    settings.scale_to_zero_grace = Duration::ZERO;
    let served = Served::start(settings).await;
    served
        .deploy(
            "brief",
            &command_spec(),
            &command_function(&dir.join("fn"), "echo hi"),
        )
        .await;
    served
        .wait_instances("brief", 0, Duration::from_secs(15))
        .await;
    // Over well before the next look of the scaling loop.
    assert_eq!(served.post("brief", "").await.text(), "hi\n");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        served.instances("brief").await.len(),
        1,
        "scaled down too early"
    );
    served
        .wait_instances("brief", 0, Duration::from_secs(10))
        .await;
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn functions_deployed_from_one_component_share_its_compiled_code() {
    let dir = scratch("shared-code");
    let mut settings = settings(&dir);
    // A cache of this test's own, so that the mappings counted are this server's.
    settings.cache_dir = dir.join("cache");
    let cache = settings.cache_dir.display().to_string();
    let served = Served::start(settings).await;
    // The read-only and executable mappings of the compiled file: its code. (Writable
    // ones are linear memories' initial images, one per pool slot in use.)
    let mappings = || {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .filter(|line| line.contains(&cache) && !line.contains(" rw-p "))
            .count()
    };
    let source = Source::Wasm {
        path: http_fixture(),
    };
    served.deploy("one-0", &wasm_spec(), &source).await;
    let one = mappings();
    assert!(one > 0, "the compiled code is mapped from the cache");
    for i in 1..10 {
        served
            .deploy(&format!("one-{i}"), &wasm_spec(), &source)
            .await;
        assert_eq!(served.post(&format!("one-{i}"), "").await.status, 200);
    }
    assert_eq!(mappings(), one, "ten functions map the code once");
    served.stop().await;
}
