//! Deploys, revisions, routes by host and path, traffic splits and tags, wasm in
//! process, and bad input.

use std::collections::BTreeMap;

use http::{Method, Request};
use motif_serve::artifact::Source;

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_function_is_served_by_host_and_by_path() {
    let dir = scratch("host-and-path");
    let served = Served::start(settings(&dir)).await;
    let deployed = served
        .deploy(
            "hello",
            &command_spec(),
            &command_function(&dir.join("fn"), "printf 'hello, '; cat"),
        )
        .await;
    assert_eq!(deployed["revision"], "hello-00001");
    assert_eq!(deployed["created"], true);
    let port = served.gateway().port();
    assert_eq!(deployed["url"], format!("http://hello.localhost:{port}/"));

    let reply = served.post("hello", "host").await;
    assert_eq!((reply.status, reply.text().as_str()), (200, "hello, host"));
    let by_path = send(
        served.gateway(),
        Request::post("/hello/anything?x=1")
            .body(b"path".to_vec())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (by_path.status, by_path.text().as_str()),
        (200, "hello, path")
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_deploy_makes_no_revision_and_a_changed_one_serves_new_code() {
    let dir = scratch("revisions");
    let served = Served::start(settings(&dir)).await;
    let one = command_function(&dir.join("fn"), "echo one");
    served.deploy("f", &command_spec(), &one).await;
    let again = served.deploy("f", &command_spec(), &one).await;
    assert_eq!(
        (again["revision"].as_str(), again["created"].as_bool()),
        (Some("f-00001"), Some(false))
    );

    let two = command_function(&dir.join("fn"), "echo two");
    let second = served.deploy("f", &command_spec(), &two).await;
    assert_eq!(
        (second["revision"].as_str(), second["created"].as_bool()),
        (Some("f-00002"), Some(true))
    );
    assert_eq!(served.post("f", "").await.text(), "two\n");

    // The first revision kept its own copy of the handler, rewritten since.
    let pinned = served
        .admin(
            Method::PUT,
            "/v1/functions/f/traffic",
            Some(serde_json::json!({"targets": [{"revision": "f-00001", "percent": 100}]})),
        )
        .await;
    assert_eq!(pinned.status, 200, "{}", pinned.text());
    assert_eq!(served.post("f", "").await.text(), "one\n");
    // A changed spec alone is a new revision too.
    let mut spec = command_spec();
    spec.timeout_seconds = Some(30);
    let third = served.deploy("f", &spec, &two).await;
    assert_eq!(third["revision"], "f-00003");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn traffic_splits_by_percent_and_a_tag_routes_to_its_revision_alone() {
    let dir = scratch("traffic");
    let served = Served::start(settings(&dir)).await;
    served
        .deploy(
            "split",
            &command_spec(),
            &command_function(&dir.join("fn"), "echo one"),
        )
        .await;
    served
        .deploy(
            "split",
            &command_spec(),
            &command_function(&dir.join("fn"), "echo two"),
        )
        .await;
    let route = served
        .admin(
            Method::PUT,
            "/v1/functions/split/traffic",
            Some(serde_json::json!({"targets": [
                {"revision": "split-00001", "percent": 50, "tag": "old"},
                {"percent": 50}
            ]})),
        )
        .await;
    assert_eq!(route.status, 200, "{}", route.text());

    let mut counts = BTreeMap::new();
    for _ in 0..200 {
        *counts
            .entry(served.post("split", "").await.text())
            .or_insert(0) += 1;
    }
    let (one, two) = (counts["one\n"], counts["two\n"]);
    assert_eq!(one + two, 200);
    // Binomial(200, 0.5): 60..140 fails with odds far below one in a billion.
    assert!((60..=140).contains(&one), "{counts:?}");

    for _ in 0..20 {
        assert_eq!(served.post("old-split", "").await.text(), "one\n");
    }
    let by_path = send(
        served.gateway(),
        Request::post("/old-split/").body(vec![]).unwrap(),
    )
    .await;
    assert_eq!(by_path.text(), "one\n");
    let function = served
        .admin(Method::GET, "/v1/functions/split", None)
        .await
        .json();
    let port = served.gateway().port();
    assert_eq!(
        function["tagUrls"],
        serde_json::json!([["old", format!("http://old-split.localhost:{port}/")]])
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_split_must_sum_to_100_over_revisions_of_the_function() {
    let dir = scratch("traffic-invalid");
    let served = Served::start(settings(&dir)).await;
    served
        .deploy(
            "v",
            &command_spec(),
            &command_function(&dir.join("fn"), "echo v"),
        )
        .await;
    let set = |targets: serde_json::Value| {
        served.admin(
            Method::PUT,
            "/v1/functions/v/traffic",
            Some(serde_json::json!({ "targets": targets })),
        )
    };
    let short = set(serde_json::json!([{"percent": 90}])).await;
    let problem = short.assert_problem(422);
    assert!(
        problem["detail"].as_str().unwrap().contains("sum to 90"),
        "{problem}"
    );
    let foreign = set(serde_json::json!([{"revision": "other-00001", "percent": 100}])).await;
    let problem = foreign.assert_problem(422);
    assert!(
        problem["detail"].as_str().unwrap().contains("other-00001"),
        "{problem}"
    );
    let missing = served
        .admin(
            Method::PUT,
            "/v1/functions/nope/traffic",
            Some(serde_json::json!({"targets": [{"percent": 100}]})),
        )
        .await;
    missing.assert_problem(404);
    // Still serving as before.
    assert_eq!(served.post("v", "").await.text(), "v\n");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wasm_function_runs_in_the_server_process() {
    let dir = scratch("wasm");
    let served = Served::start(settings(&dir)).await;
    let source = Source::Wasm {
        path: http_fixture(),
    };
    let deployed = served.deploy("hello-wasm", &wasm_spec(), &source).await;
    assert_eq!(deployed["revision"], "hello-wasm-00001");
    let reply = send(
        served.gateway(),
        Request::get("/hello")
            .header("host", "hello-wasm.localhost")
            .body(vec![])
            .unwrap(),
    )
    .await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (200, "hello from wasi:http\n")
    );
    let echo = send(
        served.gateway(),
        Request::post("/hello-wasm/echo")
            .body(b"abc".to_vec())
            .unwrap(),
    )
    .await;
    assert_eq!(echo.text(), "abc");
    assert_eq!(echo.headers["x-path"], "/echo");
    let instances = served.instances("hello-wasm").await;
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0]["runtime"], "wasm");
    assert!(instances[0].get("pid").is_none());
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_clear_problem_and_changes_nothing() {
    let dir = scratch("bad-input");
    let served = Served::start(settings(&dir)).await;
    let admin = served.endpoints.admin;

    let anonymous = send(admin, Request::get("/v1/functions").body(vec![]).unwrap()).await;
    anonymous.assert_problem(401);
    let wrong = send(
        admin,
        Request::get("/v1/functions")
            .header("authorization", "Bearer 00")
            .body(vec![])
            .unwrap(),
    )
    .await;
    wrong.assert_problem(401);
    let mode = std::fs::metadata(served.state.join("admin-token")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );

    let unknown = served.post("nobody", "").await;
    let problem = unknown.assert_problem(404);
    assert!(problem["detail"].as_str().unwrap().contains("nobody"));
    let bare = send(served.gateway(), Request::get("/").body(vec![]).unwrap()).await;
    bare.assert_problem(404);

    let garbled = served
        .admin(
            Method::PUT,
            "/v1/functions/x",
            Some(serde_json::json!({"spec": 1})),
        )
        .await;
    garbled.assert_problem(400);
    let source = command_function(&dir.join("fn"), "cat");
    let bad_name = served
        .admin(
            Method::PUT,
            "/v1/functions/Bad_Name",
            Some(serde_json::json!({"spec": command_spec(), "source": source})),
        )
        .await;
    let problem = bad_name.assert_problem(422);
    assert!(
        problem["detail"].as_str().unwrap().contains("Bad_Name"),
        "{problem}"
    );
    let not_wasm = served
        .admin(
            Method::PUT,
            "/v1/functions/x",
            Some(serde_json::json!({"spec": wasm_spec(), "source": {"runtime": "wasm", "path": dir.join("fn/handler.sh")}})),
        )
        .await;
    not_wasm.assert_problem(422);

    // A function that exits at once: refused with its output, and not recorded.
    let broken = Source::Process {
        program: "/bin/sh".into(),
        args: vec![
            "-c".into(),
            "echo 'cannot find my config' >&2; exit 3".into(),
        ],
        env: vec![],
        dir: dir.join("fn"),
        program_is_artifact: false,
    };
    let refused = served
        .admin(
            Method::PUT,
            "/v1/functions/broken",
            Some(serde_json::json!({"spec": command_spec(), "source": broken})),
        )
        .await;
    let problem = refused.assert_problem(422);
    assert!(
        problem["detail"].as_str().unwrap().contains("broken-00001"),
        "{problem}"
    );
    assert!(
        problem["logs"]
            .to_string()
            .contains("cannot find my config"),
        "{problem}"
    );
    served
        .admin(Method::GET, "/v1/functions/broken", None)
        .await
        .assert_problem(404);
    served.stop().await;
}
