//! What must not fail: an instance killed mid-request fails that request alone, a
//! restart keeps every function, a stop drains, a redeploy under load drops nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::Method;
use motif_serve::artifact::Source;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn killing_an_instance_mid_request_fails_only_that_request() {
    let dir = scratch("kill");
    let served = Arc::new(Served::start(settings(&dir)).await);
    served
        .deploy(
            "fragile",
            &command_spec(),
            &command_function(&dir.join("fn"), "sleep 2; cat"),
        )
        .await;
    let pid = served.instances("fragile").await[0]["pid"]
        .as_u64()
        .unwrap();

    let in_flight = {
        let served = served.clone();
        tokio::spawn(async move { served.post("fragile", "doomed").await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
    let failed = in_flight.await.unwrap();
    let problem = failed.assert_problem(502);
    assert!(
        problem["detail"].as_str().unwrap().contains("exited"),
        "{problem}"
    );

    let next = served.post("fragile", "fine").await;
    assert_eq!((next.status, next.text().as_str()), (200, "fine"));
    let instances = served.instances("fragile").await;
    assert_eq!(instances.len(), 1);
    assert_ne!(instances[0]["pid"].as_u64(), Some(pid));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_keeps_every_function_its_revisions_and_routes() {
    let dir = scratch("restart");
    let served = Served::start(settings(&dir)).await;
    served
        .deploy(
            "keep",
            &command_spec(),
            &command_function(&dir.join("fn"), "echo one"),
        )
        .await;
    served
        .deploy(
            "keep",
            &command_spec(),
            &command_function(&dir.join("fn"), "echo two"),
        )
        .await;
    let tagged = served
        .admin(
            Method::PUT,
            "/v1/functions/keep/traffic",
            Some(serde_json::json!({"targets": [
                {"percent": 100},
                {"revision": "keep-00001", "percent": 0, "tag": "first"}
            ]})),
        )
        .await;
    assert_eq!(tagged.status, 200, "{}", tagged.text());
    served
        .deploy(
            "keep-wasm",
            &wasm_spec(),
            &Source::Wasm {
                path: http_fixture(),
            },
        )
        .await;
    served.stop().await;
    // The sources are gone: the revisions run from the state directory's copies.
    std::fs::remove_dir_all(dir.join("fn")).unwrap();

    let served = Served::start(settings(&dir)).await;
    assert_eq!(served.post("keep", "").await.text(), "two\n");
    assert_eq!(served.post("first-keep", "").await.text(), "one\n");
    assert_eq!(served.post("keep-wasm", "").await.status, 200);
    let list = served
        .admin(Method::GET, "/v1/functions", None)
        .await
        .json();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].clone())
        .collect();
    assert_eq!(names, ["keep", "keep-wasm"]);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_drains_requests_in_flight_and_stops_every_instance() {
    let dir = scratch("drain");
    let served = Served::start(settings(&dir)).await;
    served
        .deploy(
            "slow",
            &command_spec(),
            &command_function(&dir.join("fn"), "sleep 1; cat"),
        )
        .await;
    let pid = served.instances("slow").await[0]["pid"].as_u64().unwrap();
    let gateway = served.gateway();
    let in_flight = tokio::spawn(async move {
        send(
            gateway,
            http::Request::post("/slow/")
                .body(b"finished".to_vec())
                .unwrap(),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = served.begin_stop();
    let reply = in_flight.await.unwrap();
    assert_eq!((reply.status, reply.text().as_str()), (200, "finished"));
    stopping.await.unwrap().unwrap();
    // The instance is gone: signal 0 finds no such process.
    assert!(kill(Pid::from_raw(pid as i32), None).is_err());
    assert!(!dir.join("state/serve.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_under_load_fails_no_request() {
    let dir = scratch("redeploy-load");
    let served = Arc::new(Served::start(settings(&dir)).await);
    served
        .deploy(
            "live",
            &command_spec(),
            &command_function(&dir.join("fn"), "echo one"),
        )
        .await;
    let done = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (served, done) = (served.clone(), done.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                while !done.load(Ordering::SeqCst) {
                    let reply = served.post("live", "").await;
                    answers.push((reply.status, reply.text()));
                }
                answers
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    served
        .deploy(
            "live",
            &command_spec(),
            &command_function(&dir.join("fn"), "echo two"),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    done.store(true, Ordering::SeqCst);
    let mut seen = std::collections::BTreeMap::new();
    for worker in workers {
        for (status, text) in worker.await.unwrap() {
            assert_eq!(status, 200, "{text}");
            *seen.entry(text).or_insert(0) += 1;
        }
    }
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        ["one\n", "two\n"],
        "{seen:?}"
    );
}
