//! The broker end to end over real HTTP: a subscriber server on loopback whose answers
//! each test programs (status codes, replies, delays), reached through a [`Dispatch`]
//! that sends functions to `/NAME` on it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use motif_api::{BackoffPolicy, Delivery, Destination, Filter, Subscription};
use motif_contract::Event;
use motif_contract::http as binding;
use motif_events::delivery::BoxFuture;
use motif_events::log::LogOptions;
use motif_events::{Broker, Dispatch, Target, Trigger};

/// What the subscriber server saw: per function, each delivered event and headers.
#[derive(Default)]
struct Seen {
    events: Mutex<HashMap<String, Vec<(Event, HeaderMap)>>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

type Behaviour = Arc<dyn Fn(&str, &Event, usize) -> Response + Send + Sync>;

#[derive(Clone)]
struct Subscriber {
    seen: Arc<Seen>,
    behaviour: Behaviour,
    delay: Duration,
}

async fn receive(
    State(s): State<Subscriber>,
    UrlPath(function): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = s.seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(s.delay).await;
    s.seen.in_flight.fetch_sub(1, Ordering::SeqCst);
    let event = match binding::decode(&headers, body) {
        Ok(binding::Message::Event(event, _)) => event,
        other => return (StatusCode::BAD_REQUEST, format!("{other:?}")).into_response(),
    };
    let attempt = {
        let mut events = s.seen.events.lock().unwrap();
        let list = events.entry(function.clone()).or_default();
        list.push((event.clone(), headers));
        list.iter().filter(|(e, _)| e.id() == event.id()).count()
    };
    (s.behaviour)(&function, &event, attempt)
}

async fn subscriber(behaviour: Behaviour, delay: Duration) -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/{function}", post(receive))
        .with_state(Subscriber {
            seen: seen.clone(),
            behaviour,
            delay,
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

/// Functions are `/NAME` on the subscriber server; URLs are themselves.
struct Http {
    addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Dispatch for Http {
    fn send(
        &self,
        target: &Target,
        request: http::Request<Bytes>,
    ) -> BoxFuture<Result<http::Response<Bytes>, String>> {
        let url = match target {
            Target::Function(name) => format!("http://{}/{name}", self.addr),
            Target::Url(url) => url.clone(),
        };
        let client = self.client.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            parts.uri = url.parse().map_err(|e| format!("{e}"))?;
            let response = client
                .request(http::Request::from_parts(parts, Full::new(body)))
                .await
                .map_err(|e| e.to_string())?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok(http::Response::from_parts(parts, body))
        })
    }
}

fn open(dir: &Path, addr: SocketAddr) -> Arc<Broker> {
    let dispatch = Arc::new(Http {
        addr,
        client: Client::builder(TokioExecutor::new()).build_http(),
    });
    Broker::open(dir, LogOptions::default(), dispatch).unwrap()
}

fn subscription(filters: Vec<Filter>, delivery: Option<Delivery>) -> Subscription {
    Subscription {
        name: None,
        broker: "default".into(),
        filter: None,
        filters,
        delivery,
        concurrency: None,
    }
}

fn trigger(name: &str, function: &str, sub: &Subscription) -> Trigger {
    Trigger::from_subscription(name, function, sub).unwrap()
}

fn event(id: &str, ty: &str) -> Event {
    Event::builder(id, "/test", ty).build().unwrap()
}

fn exact(ty: &str) -> Filter {
    Filter::Exact([("type".to_owned(), ty.to_owned())].into())
}

fn fast(retry: u32) -> Delivery {
    Delivery {
        retry: Some(retry),
        backoff_policy: Some(BackoffPolicy::Linear),
        backoff_delay: Some("PT0.01S".into()),
        ..Delivery::default()
    }
}

fn accept() -> Behaviour {
    Arc::new(|_, _, _| StatusCode::ACCEPTED.into_response())
}

/// Waits until `check` holds, for at most 10 s.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ids(seen: &Seen, function: &str) -> Vec<String> {
    let events = seen.events.lock().unwrap();
    let mut ids: Vec<String> = events
        .get(function)
        .map(|l| l.iter().map(|(e, _)| e.id().to_owned()).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn each_matching_trigger_gets_its_own_delivery_with_prefer_reply() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, seen) = subscriber(accept(), Duration::ZERO).await;
    let broker = open(dir.path(), addr);
    broker
        .set_triggers(vec![
            trigger(
                "a-1",
                "a",
                &subscription(vec![exact("order.created")], None),
            ),
            trigger("b-1", "b", &subscription(vec![], None)),
            trigger("c-1", "c", &subscription(vec![exact("nothing")], None)),
            trigger(
                "d-1",
                "d",
                &Subscription {
                    broker: "other".into(),
                    ..subscription(vec![], None)
                },
            ),
        ])
        .await;
    broker
        .publish(
            "default",
            vec![event("1", "order.created"), event("2", "order.paid")],
        )
        .await
        .unwrap();
    broker
        .publish("other", vec![event("3", "order.created")])
        .await
        .unwrap();
    eventually("deliveries", || {
        ids(&seen, "a").len() == 1 && ids(&seen, "b").len() == 2 && ids(&seen, "d").len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(ids(&seen, "a"), ["1"]);
    assert_eq!(ids(&seen, "b"), ["1", "2"]);
    assert_eq!(ids(&seen, "c"), Vec::<String>::new());
    assert_eq!(ids(&seen, "d"), ["3"]);
    {
        let events = seen.events.lock().unwrap();
        let (event, headers) = &events["a"][0];
        assert_eq!(headers["prefer"], "reply");
        assert_eq!(headers["ce-id"], "1");
        assert!(event.attribute("knativearrivaltime").is_some());
        assert_eq!(event.attribute("knativebrokerttl").unwrap(), "255");
    }
    let status = broker.triggers();
    let a = status.iter().find(|t| t.name == "a-1").unwrap();
    assert_eq!((a.matched, a.delivered, a.lag), (1, 1, 0));
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_follow_the_knative_table_then_the_dead_letter_sink() {
    let dir = tempfile::tempdir().unwrap();
    // The event's type is the status code the subscriber answers.
    let behaviour: Behaviour = Arc::new(|function, event, _| {
        if function == "dls" {
            return StatusCode::ACCEPTED.into_response();
        }
        let code: u16 = event.ty().parse().unwrap();
        (StatusCode::from_u16(code).unwrap(), "no thanks").into_response()
    });
    let (addr, seen) = subscriber(behaviour, Duration::ZERO).await;
    let broker = open(dir.path(), addr);
    let delivery = Delivery {
        dead_letter_sink: Some(Destination {
            function: Some("dls".into()),
            uri: None,
        }),
        ..fast(2)
    };
    broker
        .set_triggers(vec![trigger(
            "f-1",
            "f",
            &subscription(vec![], Some(delivery)),
        )])
        .await;
    let codes = [
        "404", "408", "409", "429", "500", "503", "400", "401", "403", "413",
    ];
    let events = codes.iter().map(|c| event(&format!("e{c}"), c)).collect();
    broker.publish("default", events).await.unwrap();
    eventually("dead letters", || ids(&seen, "dls").len() == codes.len()).await;
    {
        let events = seen.events.lock().unwrap();
        for code in codes {
            let attempts = events["f"].iter().filter(|(e, _)| e.ty() == code).count();
            let retried = ["404", "408", "409", "429", "500", "503"].contains(&code);
            assert_eq!(attempts, if retried { 3 } else { 1 }, "attempts for {code}");
            let (dead, _) = events["dls"].iter().find(|(e, _)| e.ty() == code).unwrap();
            assert_eq!(dead.attribute("knativeerrorcode").unwrap(), code);
            assert_eq!(dead.attribute("knativeerrordest").unwrap(), "f");
            assert_eq!(dead.attribute("knativeerrordata").unwrap(), "bm8gdGhhbmtz");
        }
    }
    let status = &broker.triggers()[0];
    assert_eq!(status.dead_lettered, codes.len() as u64);
    assert_eq!(status.retries, 12);
    assert_eq!(status.delivered, 0);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_attempt_succeeds_and_backoff_spaces_the_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let behaviour: Behaviour = Arc::new(|_, _, attempt| {
        if attempt < 3 {
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        } else {
            StatusCode::ACCEPTED.into_response()
        }
    });
    let (addr, seen) = subscriber(behaviour, Duration::ZERO).await;
    let broker = open(dir.path(), addr);
    let delivery = Delivery {
        retry: Some(5),
        backoff_policy: Some(BackoffPolicy::Exponential),
        backoff_delay: Some("PT0.05S".into()),
        ..Delivery::default()
    };
    broker
        .set_triggers(vec![trigger(
            "f-1",
            "f",
            &subscription(vec![], Some(delivery)),
        )])
        .await;
    let started = Instant::now();
    broker
        .publish("default", vec![event("1", "t")])
        .await
        .unwrap();
    eventually("a delivery", || broker.triggers()[0].delivered == 1).await;
    // Two retries: 0.05 × 2 + 0.05 × 4 = 0.3 s at least.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(ids(&seen, "f"), ["1", "1", "1"]);
    assert_eq!(broker.triggers()[0].retries, 2);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_go_back_into_the_broker_and_loops_end_at_the_ttl() {
    let dir = tempfile::tempdir().unwrap();
    // `ping` answers a `pong`; `loop` answers an event of its own type, for ever.
    let behaviour: Behaviour = Arc::new(|function, event, _| {
        let ty = match function {
            "ping" => "pong",
            "loop" => "loop",
            _ => return StatusCode::ACCEPTED.into_response(),
        };
        let reply = Event::builder(format!("{}-reply", event.id()), "/replier", ty)
            .build()
            .unwrap();
        let (headers, body) = binding::encode_binary(&reply);
        (StatusCode::OK, headers, body).into_response()
    });
    let (addr, seen) = subscriber(behaviour, Duration::ZERO).await;
    let broker = open(dir.path(), addr);
    broker
        .set_triggers(vec![
            trigger("ping-1", "ping", &subscription(vec![exact("ping")], None)),
            trigger("pong-1", "pong", &subscription(vec![exact("pong")], None)),
            trigger("loop-1", "loop", &subscription(vec![exact("loop")], None)),
        ])
        .await;
    broker
        .publish("default", vec![event("p", "ping")])
        .await
        .unwrap();
    eventually("the reply", || ids(&seen, "pong") == ["p-reply"]).await;
    let ttl = seen.events.lock().unwrap()["pong"][0]
        .0
        .attribute("knativebrokerttl")
        .unwrap()
        .into_owned();
    assert_eq!(ttl, "254");
    broker
        .publish("default", vec![event("l", "loop")])
        .await
        .unwrap();
    eventually("the loop to end", || {
        let loops = ids(&seen, "loop").len();
        loops >= 250 && broker.triggers().iter().all(|t| t.lag == 0)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // 255 passes through the broker at most: then the reply is refused, the delivery
    // fails and, after its retries, is dropped (and counted).
    let loops = ids(&seen, "loop").len();
    assert!(loops <= 255 + 3, "{loops} deliveries");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trigger_delivers_at_most_its_concurrency_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, seen) = subscriber(accept(), Duration::from_millis(50)).await;
    let broker = open(dir.path(), addr);
    let sub = Subscription {
        concurrency: Some(4),
        ..subscription(vec![], None)
    };
    broker.set_triggers(vec![trigger("f-1", "f", &sub)]).await;
    let events = (0..40).map(|i| event(&i.to_string(), "t")).collect();
    broker.publish("default", events).await.unwrap();
    eventually("40 deliveries", || ids(&seen, "f").len() == 40).await;
    let max = seen.max_in_flight.load(Ordering::SeqCst);
    assert_eq!(max, 4, "at most 4 in flight, and the limit is reached");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reopened_broker_resumes_each_trigger_at_its_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, seen) = subscriber(accept(), Duration::ZERO).await;
    let sub = subscription(vec![], None);
    {
        let broker = open(dir.path(), addr);
        broker.set_triggers(vec![trigger("f-1", "f", &sub)]).await;
        broker
            .publish("default", vec![event("1", "t")])
            .await
            .unwrap();
        eventually("the first", || ids(&seen, "f").len() == 1).await;
        // Stopped: events published now wait for the trigger's next start.
        broker.set_triggers(vec![]).await;
        broker.shutdown().await;
    }
    {
        // Published with no trigger: a new trigger starts at the head, not before.
        let broker = open(dir.path(), addr);
        broker
            .publish("default", vec![event("2", "t")])
            .await
            .unwrap();
        broker.set_triggers(vec![trigger("f-1", "f", &sub)]).await;
        broker
            .publish("default", vec![event("3", "t")])
            .await
            .unwrap();
        eventually("the third", || ids(&seen, "f").len() == 2).await;
        broker.shutdown().await;
    }
    {
        // The trigger's cursor was kept through the shutdown: 4 and 5, published while
        // it was stopped, are delivered when it starts again.
        let broker = open(dir.path(), addr);
        broker
            .publish("default", vec![event("4", "t"), event("5", "t")])
            .await
            .unwrap();
        broker.set_triggers(vec![trigger("f-1", "f", &sub)]).await;
        eventually("4 and 5", || ids(&seen, "f").len() == 4).await;
        broker.shutdown().await;
    }
    assert_eq!(ids(&seen, "f"), ["1", "3", "4", "5"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tail_follows_one_broker_or_all() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _seen) = subscriber(accept(), Duration::ZERO).await;
    let broker = open(dir.path(), addr);
    broker
        .publish("default", vec![event("0", "t")])
        .await
        .unwrap();
    let mut all = broker.tail(None, Some(0));
    let mut other = broker.tail(Some("other".into()), None);
    broker
        .publish("other", vec![event("1", "t")])
        .await
        .unwrap();
    broker
        .publish("default", vec![event("2", "t")])
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let tailed = all.next().await.unwrap();
        seen.push((tailed.offset, tailed.broker, tailed.event.id().to_owned()));
    }
    assert_eq!(
        seen,
        [
            (0, "default".into(), "0".into()),
            (1, "other".into(), "1".into()),
            (2, "default".into(), "2".into())
        ]
    );
    assert_eq!(other.next().await.unwrap().event.id(), "1");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_events_and_methods_get_knative_ingress_answers() {
    use motif_events::ingress::ingress;
    let dir = tempfile::tempdir().unwrap();
    let (addr, _seen) = subscriber(accept(), Duration::ZERO).await;
    let broker = open(dir.path(), addr);
    let post = http::Method::POST;
    let headers = |pairs: &[(&str, &str)]| {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    };
    let binary = headers(&[
        ("ce-specversion", "1.0"),
        ("ce-id", "1"),
        ("ce-source", "/s"),
        ("ce-type", "t"),
        ("content-type", "application/xml"),
    ]);
    let ok = ingress(&broker, "default", &post, &binary, Bytes::from("<a/>")).await;
    assert_eq!(ok.status(), 202);
    let structured = headers(&[("content-type", "application/cloudevents+json")]);
    let body =
        Bytes::from(r#"{"specversion":"1.0","id":"2","source":"/s","type":"t","data":{"x":1}}"#);
    let ok = ingress(&broker, "default", &post, &structured, body).await;
    assert_eq!(ok.status(), 202);
    let batch = headers(&[("content-type", "application/cloudevents-batch+json")]);
    let body = Bytes::from(
        r#"[{"specversion":"1.0","id":"3","source":"/s","type":"t"},{"specversion":"1.0","id":"4","source":"/s","type":"t"}]"#,
    );
    let ok = ingress(&broker, "default", &post, &batch, body).await;
    assert_eq!(ok.status(), 202);
    assert_eq!(broker.head(), 4);

    let wrong_version = headers(&[
        ("ce-specversion", "19.0"),
        ("ce-id", "1"),
        ("ce-source", "/s"),
        ("ce-type", "t"),
    ]);
    for (h, body) in [
        (wrong_version, Bytes::new()),
        (
            headers(&[("content-type", "application/json")]),
            Bytes::from("{}"),
        ),
        (structured.clone(), Bytes::from("{not json")),
        (
            structured,
            Bytes::from(r#"{"specversion":"1.0","id":"","source":"/s","type":"t"}"#),
        ),
    ] {
        let bad = ingress(&broker, "default", &post, &h, body).await;
        assert_eq!(bad.status(), 400);
        assert_eq!(bad.headers()["content-type"], "application/problem+json");
    }
    let get = ingress(
        &broker,
        "default",
        &http::Method::GET,
        &binary,
        Bytes::new(),
    )
    .await;
    assert_eq!(get.status(), 405);
    let options = ingress(
        &broker,
        "default",
        &http::Method::OPTIONS,
        &HeaderMap::new(),
        Bytes::new(),
    )
    .await;
    assert_eq!(options.status(), 200);
    assert!(
        options.headers()["allow"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let unknown = ingress(&broker, "Not_A_Broker", &post, &binary, Bytes::new()).await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(broker.head(), 4, "nothing refused was stored");
    broker.shutdown().await;
}
