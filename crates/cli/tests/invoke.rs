//! `motif invoke` end to end: the real binary against a real server on loopback.
//!
//! The server records every request it receives (so a test checks what the CLI sent,
//! decoding CloudEvents with `motif-contract`) and answers `/reply/*` with fixed replies
//! (so a test checks how the CLI shows them). Text output is snapshotted with the port
//! and generated ids redacted.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::Bytes;
use motif_contract::Event;
use motif_contract::http::{Message, Mode};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// A request as the server received it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    /// The request as a CloudEvents message.
    fn event(&self) -> (Event, Mode) {
        match motif_contract::http::decode(&self.headers, self.body.clone()) {
            Ok(Message::Event(event, mode)) => (event, mode),
            other => panic!("not one CloudEvent: {other:?}"),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// The test server: its address and what it has received.
struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start() -> Server {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let router = Router::new()
            .route("/reply/binary", any(|| async { event_reply(Mode::Binary) }))
            .route(
                "/reply/structured",
                any(|| async { event_reply(Mode::Structured) }),
            )
            .route("/reply/problem", any(problem_reply))
            .route("/reply/text", any(text_reply))
            .route("/reply/bytes", any(bytes_reply))
            .route("/reply/slow", any(slow_reply))
            .fallback(echo)
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Server { addr, seen }
    }

    fn target(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The one request received so far.
    fn only_request(&self) -> Seen {
        let seen = self.seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "requests received: {seen:?}");
        seen[0].clone()
    }
}

/// Records the request and answers with a summary of it as JSON.
async fn echo(
    State(seen): State<Arc<Mutex<Vec<Seen>>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let summary = json!({
        "method": method.as_str(),
        "path": uri.path(),
        "body": String::from_utf8_lossy(&body),
    });
    seen.lock().unwrap().push(Seen {
        method,
        uri,
        headers,
        body,
    });
    json_response(StatusCode::OK, "application/json", &summary)
}

fn json_response(status: StatusCode, content_type: &'static str, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap();
    (status, [(CONTENT_TYPE, content_type)], body).into_response()
}

/// A reply event, JSON data in binary mode and text in structured mode.
fn event_reply(mode: Mode) -> Response {
    let builder = Event::builder("reply-1", "/test/server", "com.example.greeted")
        .time("2024-05-01T12:00:00Z")
        .extension("greeting", "casual");
    let event = match mode {
        Mode::Binary => builder.json_data(&json!({"greeting": "hello, world", "n": 1})),
        _ => builder.data("text/plain", "hello, structured"),
    };
    let (headers, body) = motif_contract::http::encode(&event.build().unwrap(), mode);
    (StatusCode::OK, headers, body).into_response()
}

async fn problem_reply() -> Response {
    let problem = json!({
        "type": "https://example.com/problems/invalid-order",
        "title": "Invalid order",
        "status": 422,
        "detail": "the total must be positive",
        "field": "total",
    });
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        "application/problem+json",
        &problem,
    )
}

async fn text_reply() -> Response {
    (
        [
            (CONTENT_TYPE, "text/plain"),
            (axum::http::HeaderName::from_static("x-greeting"), "yes"),
        ],
        "hello, world\n",
    )
        .into_response()
}

async fn bytes_reply() -> Response {
    (
        [(CONTENT_TYPE, "application/octet-stream")],
        vec![0xff_u8, 0xfe, 0x00, 0x01],
    )
        .into_response()
}

/// Answers after longer than any test's `--timeout`.
async fn slow_reply() -> &'static str {
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    "too late"
}

/// What a run of `motif` did.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// Exit code, stdout and stderr as one text to snapshot.
    fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.transcript()))
    }
}

/// Runs `motif invoke ARGS` from `dir` with `stdin` and only the variables of `env`.
async fn invoke_with(dir: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Outcome {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_motif"))
        .arg("invoke")
        .args(args)
        .current_dir(dir)
        // No MOTIF_*, PORT or proxy variable of the test's environment leaks in.
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).await.unwrap();
    drop(input);
    let output = child.wait_with_output().await.unwrap();
    Outcome {
        code: output.status.code().expect("motif exited"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Runs `motif invoke ARGS` in a clean environment, from `dir`, with `stdin`.
async fn invoke_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Outcome {
    invoke_with(dir, args, stdin, &[]).await
}

/// Runs `motif invoke ARGS` from an empty directory (no motif.toml).
async fn invoke(args: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    invoke_in(dir.path(), args, b"").await
}

/// Snapshots `outcome` with the port and UUIDs redacted.
fn snapshot(name: &str, outcome: &Outcome) {
    insta::with_settings!({
        filters => vec![
            (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
            (r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", "[UUID]"),
        ],
        prepend_module_to_snapshot => true,
    }, {
        insta::assert_snapshot!(name, outcome.transcript());
    });
}

#[tokio::test]
async fn a_binary_cloudevent_carries_its_attributes_percent_encoded() {
    let server = Server::start().await;
    let out = invoke(&[
        "--target",
        &server.target(),
        "--cloudevent",
        "--source",
        "/motif/caf%C3%A9",
        "--type",
        "com.example.café",
        "--id",
        "order 1",
        "--data",
        r#"{"total": 12}"#,
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.transcript());
    let seen = server.only_request();
    assert_eq!(seen.method, Method::POST);
    // The binding percent-encodes non-ASCII, space and `%` (so a source that is already
    // percent-encoded, as a URI-reference with non-ASCII must be, is encoded again).
    assert_eq!(seen.header("ce-type"), Some("com.example.caf%C3%A9"));
    assert_eq!(seen.header("ce-id"), Some("order%201"));
    assert_eq!(seen.header("ce-source"), Some("/motif/caf%25C3%25A9"));
    let (event, mode) = seen.event();
    assert_eq!(mode, Mode::Binary);
    assert_eq!(event.id(), "order 1");
    assert_eq!(event.source(), "/motif/caf%C3%A9");
    assert_eq!(event.ty(), "com.example.café");
    assert_eq!(event.datacontenttype(), Some("application/json"));
    assert_eq!(event.data().unwrap().as_ref(), br#"{"total": 12}"#);
}

#[tokio::test]
async fn a_structured_cloudevent_has_the_default_attributes_and_a_fresh_uuid() {
    let server = Server::start().await;
    let out = invoke(&[
        "--target",
        &server.target(),
        "--cloudevent",
        "--structured",
        "--data",
        "hello",
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.transcript());
    let seen = server.only_request();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(
        seen.header("content-type"),
        Some("application/cloudevents+json")
    );
    assert!(!seen.headers.contains_key("ce-id"));
    let (event, mode) = seen.event();
    assert_eq!(mode, Mode::Structured);
    assert_eq!(event.ty(), "dev.motif.invoke");
    assert_eq!(event.source(), "/motif/invoke");
    let id = uuid::Uuid::parse_str(event.id()).expect("the id is a UUID");
    assert_eq!(id.get_version_num(), 4);
    assert_eq!(event.datacontenttype(), Some("text/plain; charset=utf-8"));
    assert_eq!(event.data().unwrap().as_ref(), b"hello");
}

#[tokio::test]
async fn a_cloudevent_function_gets_a_cloudevent_without_the_flag() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("motif.toml"),
        "name = \"orders\"\nlanguage = \"rust\"\nkind = \"cloudevent\"\n",
    )
    .unwrap();
    let out = invoke_in(dir.path(), &["--target", &server.target()], b"").await;
    assert_eq!(out.code, 0, "{}", out.transcript());
    let seen = server.only_request();
    assert_eq!(seen.method, Method::POST);
    let (event, mode) = seen.event();
    assert_eq!(mode, Mode::Binary);
    assert_eq!(event.data(), None);
    // --cloudevent=false overrides motif.toml.
    let out = invoke_in(
        dir.path(),
        &["--target", &server.target(), "--cloudevent=false"],
        b"",
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.transcript());
    let last = server.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.method, Method::GET);
    assert!(!motif_contract::http::has_ce_headers(&last.headers));
}

#[tokio::test]
async fn data_comes_from_a_file_or_stdin_with_a_content_type_it_implies() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("order.json"), br#"{"total": 12}"#).unwrap();
    std::fs::write(dir.path().join("blob"), [0xff_u8, 0x00]).unwrap();
    let target = server.target();
    for args in [
        &["--data", "@order.json"][..],
        &["--data", "@-"],
        &["--data", "plain words"],
        &["--data", "@blob"],
        &["--data", "<a/>", "--content-type", "application/xml"],
        &[],
    ] {
        let mut args = args.to_vec();
        args.extend(["--target", &target]);
        let out = invoke_in(dir.path(), &args, b"from stdin").await;
        assert_eq!(out.code, 0, "{}", out.transcript());
    }
    let seen = server.seen.lock().unwrap().clone();
    let summary: Vec<_> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.header("content-type"), s.body.as_ref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST", Some("application/json"), &br#"{"total": 12}"#[..]),
            ("POST", Some("text/plain; charset=utf-8"), b"from stdin"),
            ("POST", Some("text/plain; charset=utf-8"), b"plain words"),
            ("POST", Some("application/octet-stream"), &[0xff, 0x00]),
            ("POST", Some("application/xml"), b"<a/>"),
            ("GET", None, b""),
        ]
    );
}

#[tokio::test]
async fn method_path_query_and_headers_reach_the_function() {
    let server = Server::start().await;
    let out = invoke(&[
        "--target",
        &format!("{}/base/", server.target()),
        "--path",
        "/orders?limit=1",
        "-X",
        "PUT",
        "-H",
        "X-Trace: one",
        "-H",
        "x-trace: two",
        "-H",
        "Content-Type: application/vnd.example+json",
        "--data",
        "{}",
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.transcript());
    let seen = server.only_request();
    assert_eq!(seen.method, Method::PUT);
    assert_eq!(seen.uri.path(), "/base/orders");
    assert_eq!(seen.uri.query(), Some("limit=1"));
    let traces: Vec<_> = seen.headers.get_all("x-trace").iter().collect();
    assert_eq!(traces, ["one", "two"]);
    assert_eq!(
        seen.header("content-type"),
        Some("application/vnd.example+json")
    );
}

#[tokio::test]
async fn a_binary_cloudevent_reply_is_shown_as_an_event() {
    let server = Server::start().await;
    let out = invoke(&[
        "--target",
        &server.target(),
        "--path",
        "/reply/binary",
        "--cloudevent",
    ])
    .await;
    snapshot("binary_reply", &out);
}

#[tokio::test]
async fn a_structured_cloudevent_reply_is_shown_as_an_event() {
    let server = Server::start().await;
    let out = invoke(&["--target", &server.target(), "--path", "/reply/structured"]).await;
    snapshot("structured_reply", &out);
}

#[tokio::test]
async fn a_problem_is_printed_and_exits_6() {
    let server = Server::start().await;
    let out = invoke(&[
        "--target",
        &server.target(),
        "--path",
        "/reply/problem",
        "--data",
        r#"{"total": -1}"#,
    ])
    .await;
    assert_eq!(out.code, 6);
    snapshot("problem_reply", &out);
}

#[tokio::test]
async fn a_plain_reply_is_shown_with_its_headers() {
    let server = Server::start().await;
    let out = invoke(&["--target", &server.target(), "--path", "/reply/text"]).await;
    snapshot("text_reply", &out);
    let out = invoke(&["--target", &server.target(), "--path", "/reply/bytes"]).await;
    snapshot("bytes_reply", &out);
}

#[tokio::test]
async fn json_output_is_one_document_with_stable_fields() {
    let server = Server::start().await;
    let target = server.target();

    let event = invoke(&["-o", "json", "--target", &target, "--path", "/reply/binary"]).await;
    assert_eq!(event.code, 0, "{}", event.transcript());
    let event = event.json();
    assert_eq!(event["status"], 200);
    assert_eq!(event["mode"], "binary");
    assert_eq!(event["cloudevent"]["id"], "reply-1");
    assert_eq!(event["cloudevent"]["specversion"], "1.0");
    assert_eq!(event["cloudevent"]["greeting"], "casual");
    assert_eq!(event["headers"]["ce-id"], "reply-1");
    assert_eq!(event["body"], json!({"greeting": "hello, world", "n": 1}));

    let problem = invoke(&[
        "-o",
        "json",
        "--target",
        &target,
        "--path",
        "/reply/problem",
    ])
    .await;
    assert_eq!(problem.code, 6);
    let problem = problem.json();
    assert_eq!(problem["status"], 422);
    assert_eq!(problem["cloudevent"], Value::Null);
    assert_eq!(problem["mode"], Value::Null);
    assert_eq!(problem["body"]["title"], "Invalid order");

    let text = invoke(&["-o", "json", "--target", &target, "--path", "/reply/text"]).await;
    assert_eq!(text.json()["body"], "hello, world\n");
    let bytes = invoke(&["-o", "json", "--target", &target, "--path", "/reply/bytes"]).await;
    assert_eq!(bytes.json()["body"], json!({"base64": "//4AAQ=="}));
    let echo = invoke(&["-o", "json", "--target", &target, "--data", "hi"]).await;
    assert_eq!(
        echo.json()["body"],
        json!({"method": "POST", "path": "/", "body": "hi"})
    );
}

#[tokio::test]
async fn an_unreachable_function_exits_5_with_a_hint() {
    // A port that was free a moment ago, and that nothing listens on now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = invoke(&["--target", &format!("127.0.0.1:{port}")]).await;
    assert_eq!(out.code, 5, "{}", out.transcript());
    snapshot("unreachable", &out);
    let out = invoke(&["--target", &format!("https://127.0.0.1:{port}")]).await;
    assert_eq!(out.code, 5, "{}", out.transcript());
}

#[tokio::test]
async fn a_function_slower_than_the_timeout_exits_5() {
    let server = Server::start().await;
    let started = std::time::Instant::now();
    let out = invoke(&[
        "--target",
        &server.target(),
        "--path",
        "/reply/slow",
        "--timeout",
        "0.3",
    ])
    .await;
    assert_eq!(out.code, 5, "{}", out.transcript());
    assert!(started.elapsed().as_secs() < 5, "{}", out.transcript());
    assert!(out.stderr.contains("--timeout"), "{}", out.transcript());
}

#[tokio::test]
async fn the_environment_sets_the_flags_and_the_default_port() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = server.addr.port().to_string();
    let env = [
        ("PORT", port.as_str()),
        ("MOTIF_INVOKE_CLOUDEVENT", "true"),
        ("MOTIF_INVOKE_TYPE", "com.example.from-env"),
        ("MOTIF_INVOKE_HEADER", "X-One: 1\nX-Two: 2"),
        ("MOTIF_INVOKE_DATA", "[1]"),
    ];
    // `localhost`: whichever of ::1 and 127.0.0.1 the server listens on is found.
    let out = invoke_with(dir.path(), &[], b"", &env).await;
    assert_eq!(out.code, 0, "{}", out.transcript());
    let seen = server.only_request();
    assert_eq!(seen.header("x-one"), Some("1"));
    assert_eq!(seen.header("x-two"), Some("2"));
    let (event, _) = seen.event();
    assert_eq!(event.ty(), "com.example.from-env");
    assert_eq!(event.data().unwrap().as_ref(), b"[1]");
}

#[tokio::test]
async fn bad_flags_exit_3_and_say_which() {
    let event_flag_on_http = invoke(&["--type", "com.example.x"]).await;
    assert_eq!(event_flag_on_http.code, 3);
    snapshot("event_flag_on_http", &event_flag_on_http);

    let missing_file = invoke(&["--data", "@no-such-file.json"]).await;
    assert_eq!(missing_file.code, 3);
    assert!(
        missing_file.stderr.contains("no-such-file.json"),
        "{}",
        missing_file.transcript()
    );

    let bad_header = invoke(&["-H", "no colon here"]).await;
    assert_eq!(bad_header.code, 3);
    snapshot("bad_header", &bad_header);

    let iri_source = invoke(&["--cloudevent", "--source", "/motif/café"]).await;
    assert_eq!(iri_source.code, 3, "{}", iri_source.transcript());
    snapshot("iri_source", &iri_source);
}
