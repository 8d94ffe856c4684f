//! `wasi:http` proxy components against a real guest, built from
//! `tests/wasm-guests/http-fixture` by this test: the response path, isolation, limits,
//! capability denial and the outbound allow-list, each bad guest failing alone.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use motif_runtime::{
    Context, FunctionInfo, Handler, HandlerError, HttpResponse, Kind, KnativeEnv, TraceContext,
};
use motif_wasm::cache::Cache;
use motif_wasm::detect::Shape;
use motif_wasm::{AllowedHosts, EngineSettings, HttpProxyFunction, WasmEngine, WasmFunction};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod common;

const MAX_RESPONSE: usize = 64 * 1024;

fn fixture_wasm() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| common::build_guest("wasm32-wasip2", "http-fixture", "http_fixture.wasm"))
}

fn engine() -> &'static WasmEngine {
    static ENGINE: OnceLock<WasmEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        WasmEngine::new(EngineSettings {
            max_memory: 32 * 1024 * 1024,
            instances: 16,
        })
        .expect("the engine builds")
    })
}

fn cache() -> Cache {
    Cache::new(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("motif-wasm-cache"))
}

fn load(allowed: AllowedHosts) -> HttpProxyFunction {
    let loaded = cache()
        .component(engine().engine(), fixture_wasm())
        .expect("the fixture compiles");
    HttpProxyFunction::new(engine(), &loaded.artifact, MAX_RESPONSE)
        .expect("the fixture links")
        .with_allowed_hosts(allowed)
}

fn function() -> &'static HttpProxyFunction {
    static FUNCTION: OnceLock<HttpProxyFunction> = OnceLock::new();
    FUNCTION.get_or_init(|| load(AllowedHosts::none()))
}

fn cx(timeout: Duration) -> Context {
    Context {
        function: Arc::new(FunctionInfo {
            name: "http-fixture".into(),
            kind: Kind::Http,
            knative: KnativeEnv::default(),
        }),
        trace: TraceContext::root(),
        deadline: Instant::now() + timeout,
    }
}

fn request(method: &str, target: &str, body: &'static str) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(target)
        .header("host", "fixture.test")
        .header("content-type", "text/plain")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

async fn get_with(
    f: &HttpProxyFunction,
    target: &str,
    timeout: Duration,
) -> Result<HttpResponse, HandlerError> {
    f.handle_http(request("GET", target, ""), cx(timeout)).await
}

async fn get(target: &str) -> Result<HttpResponse, HandlerError> {
    get_with(function(), target, Duration::from_secs(5)).await
}

fn text(r: &HttpResponse) -> String {
    String::from_utf8_lossy(r.body()).into_owned()
}

#[tokio::test]
async fn hello() {
    let r = get("/hello").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(text(&r), "hello from wasi:http\n");
    assert_eq!(r.headers()["content-type"], "text/plain");
}

#[tokio::test]
async fn the_request_reaches_the_guest_whole() {
    let r = function()
        .handle_http(
            request("POST", "/echo?x=1", "a body"),
            cx(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(text(&r), "a body");
    assert_eq!(r.headers()["x-method"], "POST");
    assert_eq!(r.headers()["x-path"], "/echo");
    assert_eq!(r.headers()["content-type"], "text/plain");
}

#[tokio::test]
async fn the_guest_status_is_kept() {
    let r = get("/nowhere").await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn every_request_gets_a_fresh_instance() {
    for _ in 0..3 {
        assert_eq!(text(&get("/state").await.unwrap()), "1", "state leaked");
    }
}

#[tokio::test]
async fn bad_guests_fail_alone_while_good_requests_succeed() {
    let f = function();
    let bad = async {
        tokio::join!(
            get("/trap"),
            get_with(f, "/loop", Duration::from_millis(300)),
            get("/memory"),
            get("/stack"),
        )
    };
    let good = async {
        let mut ok = 0;
        for _ in 0..20 {
            let r = get("/hello").await;
            ok += usize::from(r.is_ok_and(|r| r.status() == 200));
        }
        ok
    };
    let ((trap, spin, memory, stack), ok) = tokio::join!(bad, good);
    let trap = trap.unwrap_err();
    assert_eq!(trap.status, 500);
    assert!(trap.message.contains("trapped"), "{}", trap.message);
    assert_eq!(spin.unwrap_err().status, 504);
    assert_eq!(memory.unwrap_err().status, 500);
    assert_eq!(stack.unwrap_err().status, 500);
    assert_eq!(ok, 20, "good requests failed beside bad ones");
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_at_the_deadline() {
    let start = Instant::now();
    let err = get_with(function(), "/loop", Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err.status, 504, "{}", err.message);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn files_environment_and_sockets_are_denied() {
    let file = text(&get("/file").await.unwrap());
    assert!(file.starts_with("denied"), "read a host file: {file}");
    let socket = text(&get("/socket").await.unwrap());
    assert!(socket.starts_with("denied"), "opened a socket: {socket}");
    assert_eq!(text(&get("/env").await.unwrap()), "0");
}

#[tokio::test]
async fn a_guest_without_a_response_is_a_500() {
    let err = get("/none").await.unwrap_err();
    assert_eq!(err.status, 500);
    assert!(
        err.message.contains("without setting a response"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_response_over_the_cap_is_a_500() {
    assert_eq!(get("/big?1000").await.unwrap().body().len(), 1000);
    let err = get(&format!("/big?{}", MAX_RESPONSE + 1))
        .await
        .unwrap_err();
    assert_eq!(err.status, 500);
    assert!(err.message.contains("larger than"), "{}", err.message);
}

#[tokio::test]
async fn a_complete_response_survives_a_later_trap() {
    let r = get("/late-trap").await.unwrap();
    assert_eq!((r.status().as_u16(), text(&r).as_str()), (200, "complete"));
}

/// A one-shot HTTP/1.1 server that answers every request with `upstream` and counts the
/// connections it accepts.
async fn upstream() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0; 4096];
                let _ = socket.read(&mut buf).await;
                let reply =
                    "HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: close\r\n\r\nupstream";
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (port, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_http_reaches_allowed_hosts_only() {
    let (allowed_port, allowed_hits) = upstream().await;
    let (forbidden_port, forbidden_hits) = upstream().await;
    let f = load(AllowedHosts::parse([format!("http://127.0.0.1:{allowed_port}")]).unwrap());
    let timeout = Duration::from_secs(5);

    let r = get_with(
        &f,
        &format!("/fetch?http://127.0.0.1:{allowed_port}/x"),
        timeout,
    )
    .await
    .unwrap();
    assert_eq!(
        (r.status().as_u16(), text(&r).as_str()),
        (200, "200 upstream")
    );
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 1);

    let r = get_with(
        &f,
        &format!("/fetch?http://127.0.0.1:{forbidden_port}/x"),
        timeout,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 502);
    assert!(text(&r).contains("HttpRequestDenied"), "{}", text(&r));
    assert_eq!(
        forbidden_hits.load(Ordering::SeqCst),
        0,
        "a denied request connected"
    );

    // The default denies everything, the allowed host included.
    let r = get(&format!("/fetch?http://127.0.0.1:{allowed_port}/x"))
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wasm_file_of_this_shape_is_served_as_an_http_function() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("http-fixture");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("http_fixture.wasm");
    std::fs::write(&path, fixture_wasm()).unwrap();
    let output = motif_runtime::cgi::Output {
        response_type: "text/plain".into(),
        reply_type: None,
    };
    let f = WasmFunction::open(&path, engine().clone(), cache(), output, MAX_RESPONSE).unwrap();
    assert_eq!(f.shape(), Shape::HttpProxy);
    assert_eq!(f.kind(), Some(Kind::Http));
    f.init().await.unwrap();
    let r = f
        .handle_http(request("GET", "/hello", ""), cx(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(text(&r), "hello from wasi:http\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_that_compute_do_not_hold_the_worker_threads() {
    // Twice as many spinning guests as worker threads: each must yield at every epoch
    // tick, or the hellos below could not run until the spinners are stopped.
    let spinners: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(async { get_with(function(), "/loop", Duration::from_secs(3)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..5 {
        let r = get("/hello").await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert!(
        spinners.iter().all(|s| !s.is_finished()),
        "the hellos were served only after the spinning guests stopped"
    );
    for s in spinners {
        assert_eq!(s.await.unwrap().unwrap_err().status, 504);
    }
}
