//! The broker on the gateway: its address by host and by path, Knative's ingress
//! answers, deliveries through the gateway's routes to a function, subscriptions added
//! through the admin API, and the log's tail.

use std::time::{Duration, Instant};

use http::{Method, Request};
use motif_api::{Kind, Subscription};

use crate::common::*;

fn event(host: &str, path: &str, id: &str, ty: &str) -> Request<Vec<u8>> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("host", host)
        .header("ce-specversion", "1.0")
        .header("ce-id", id)
        .header("ce-source", "/test")
        .header("ce-type", ty)
        .header("content-type", "text/plain")
        .body(b"hi".to_vec())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_broker_takes_events_at_its_host_and_path_and_delivers_them() {
    let dir = scratch("events");
    let served = Served::start(settings(&dir)).await;
    let record = dir.join("record.txt");
    let source = command_function(
        &dir.join("rec"),
        &format!(
            "cat >/dev/null; printf '%s %s\\n' \"$CE_ID\" \"$CE_KNATIVEARRIVALTIME\" >> '{}'",
            record.display()
        ),
    );
    let spec = motif_api::FunctionSpec {
        kind: Kind::Cloudevent,
        subscriptions: vec![Subscription {
            name: None,
            broker: "default".into(),
            filter: None,
            filters: vec![motif_api::Filter::Exact(
                [("type".to_owned(), "wanted".to_owned())].into(),
            )],
            delivery: None,
            concurrency: None,
        }],
        ..command_spec()
    };
    served.deploy("rec", &spec, &source).await;
    let gateway = served.gateway();

    // By host (the default broker at /), and by path; a named broker at /NAME.
    let by_host = send(gateway, event("broker.localhost", "/", "1", "wanted")).await;
    assert_eq!(by_host.status, 202, "{}", by_host.text());
    let by_path = send(gateway, event("127.0.0.1", "/broker/", "2", "wanted")).await;
    assert_eq!(by_path.status, 202, "{}", by_path.text());
    let other = send(gateway, event("broker.localhost", "/other", "3", "wanted")).await;
    assert_eq!(other.status, 202, "{}", other.text());
    let ignored = send(gateway, event("broker.localhost", "/", "4", "unwanted")).await;
    assert_eq!(ignored.status, 202);

    // Knative's answers: 404 for a path that is no broker, 405 for GET, 400 for what
    // is not an event.
    send(
        gateway,
        event("broker.localhost", "/Not_A_Broker", "5", "t"),
    )
    .await
    .assert_problem(404);
    let get = Request::builder()
        .uri("/")
        .header("host", "broker.localhost")
        .body(Vec::new())
        .unwrap();
    send(gateway, get).await.assert_problem(405);
    let mut bad = event("broker.localhost", "/", "", "t");
    bad.headers_mut().remove("ce-id");
    send(gateway, bad).await.assert_problem(400);

    // 1 and 2 reach `rec` (the default broker, type `wanted`); 3 and 4 do not.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&record).unwrap_or_default();
        let mut ids: Vec<&str> = text.lines().filter_map(|l| l.split(' ').next()).collect();
        ids.sort();
        if ids == ["1", "2"] {
            assert!(
                text.lines()
                    .all(|l| l.split(' ').nth(1).is_some_and(|t| t.len() > 10))
            );
            break;
        }
        assert!(Instant::now() < deadline, "delivered: {ids:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A subscription added through the admin API is a trigger of its own.
    let added = served
        .admin(
            Method::PUT,
            "/v1/functions/rec/subscriptions/others",
            Some(serde_json::json!({ "broker": "other" })),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.text());
    let triggers = served
        .admin(Method::GET, "/v1/events/triggers", None)
        .await
        .json();
    let names: Vec<&str> = triggers
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["rec-default-1", "rec-others"]);
    let invalid = served
        .admin(
            Method::PUT,
            "/v1/functions/rec/subscriptions/bad",
            Some(serde_json::json!({ "filters": [{ "cesql": "type =" }] })),
        )
        .await;
    invalid.assert_problem(422);
    let missing = served
        .admin(
            Method::PUT,
            "/v1/functions/nope/subscriptions/x",
            Some(serde_json::json!({})),
        )
        .await;
    missing.assert_problem(404);

    // The tail: every event the log holds, from an offset.
    let tail = send(
        served.endpoints.admin,
        Request::builder()
            .uri("/v1/events/tail?from=0")
            .header("authorization", format!("Bearer {}", served.token()))
            .body(Vec::new())
            .unwrap(),
    );
    let tail = tokio::time::timeout(Duration::from_millis(500), tail).await;
    assert!(tail.is_err(), "the tail follows: it does not end");

    // `broker` is the broker's name here: no function may take it.
    let taken = served
        .admin(
            Method::PUT,
            "/v1/functions/broker",
            Some(serde_json::json!({ "spec": spec, "source": source })),
        )
        .await;
    taken.assert_problem(422);

    // Deleting the function deletes its triggers.
    let deleted = served
        .admin(Method::DELETE, "/v1/functions/rec", None)
        .await;
    assert_eq!(deleted.status, 204);
    let triggers = served
        .admin(Method::GET, "/v1/events/triggers", None)
        .await
        .json();
    assert_eq!(triggers, serde_json::json!([]));
    served.stop().await;
}
