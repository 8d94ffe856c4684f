//! The cloudevent world against a real guest, built from `tests/wasm-guests/fixture` by
//! this test: isolation, limits and capability denial, each failing alone.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use motif_contract::Event;
use motif_runtime::{Context, FunctionInfo, Handler, Kind, KnativeEnv, TraceContext};
use motif_wasm::cache::Cache;
use motif_wasm::{CloudEventFunction, EngineSettings, WasmEngine};

mod common;

/// The fixture guest, built once per test binary.
fn fixture_wasm() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| common::build_guest("wasm32-wasip2", "fixture", "fixture.wasm"))
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

fn function() -> &'static CloudEventFunction {
    static FUNCTION: OnceLock<CloudEventFunction> = OnceLock::new();
    FUNCTION.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("motif-wasm-cache");
        let loaded = Cache::new(dir)
            .component(engine().engine(), fixture_wasm())
            .expect("the fixture compiles");
        CloudEventFunction::new(engine(), &loaded.artifact).expect("the fixture links")
    })
}

fn cx(timeout: Duration) -> Context {
    Context {
        function: Arc::new(FunctionInfo {
            name: "fixture".into(),
            kind: Kind::CloudEvent,
            knative: KnativeEnv::default(),
        }),
        trace: TraceContext::root(),
        deadline: Instant::now() + timeout,
    }
}

fn event(ty: &str) -> Event {
    Event::builder("e1", "/tests", ty)
        .data("text/plain", "hello, wasm")
        .extension("myext", "kept")
        .build()
        .unwrap()
}

async fn call(ty: &str) -> Result<Option<Event>, motif_runtime::HandlerError> {
    function()
        .handle_event(event(ty), cx(Duration::from_secs(5)))
        .await
}

fn data(e: &Event) -> String {
    String::from_utf8_lossy(e.data().expect("data")).into_owned()
}

#[tokio::test]
async fn an_echo_returns_the_event_it_was_given() {
    let reply = call("echo").await.unwrap().unwrap();
    assert_eq!(reply, event("echo"));
}

#[tokio::test]
async fn a_reply_event_is_built_by_the_guest() {
    let reply = call("uppercase").await.unwrap().unwrap();
    assert_eq!(
        (reply.ty(), data(&reply).as_str()),
        ("uppercase.reply", "HELLO, WASM")
    );
    assert_eq!(call("none").await.unwrap(), None);
}

#[tokio::test]
async fn every_request_gets_a_fresh_instance() {
    for _ in 0..3 {
        let reply = call("state").await.unwrap().unwrap();
        assert_eq!(data(&reply), "1", "state leaked from an earlier request");
    }
}

#[tokio::test]
async fn a_guest_error_keeps_its_status_and_message() {
    let err = call("error").await.unwrap_err();
    assert_eq!(err.status, 422);
    assert_eq!(err.message, "the order is not valid");
}

#[tokio::test]
async fn a_trap_is_a_500_and_other_requests_keep_succeeding() {
    let (trap, echoes) = tokio::join!(call("trap"), async {
        let mut ok = 0;
        for _ in 0..5 {
            ok += usize::from(call("echo").await.is_ok());
        }
        ok
    });
    let err = trap.unwrap_err();
    assert_eq!(err.status, 500);
    assert!(err.message.contains("trapped"), "{}", err.message);
    assert_eq!(echoes, 5);
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_at_the_deadline_with_a_504() {
    let start = Instant::now();
    let err = function()
        .handle_event(event("loop"), cx(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert_eq!(err.status, 504, "{}", err.message);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    assert!(call("echo").await.is_ok());
}

#[tokio::test]
async fn a_memory_bomb_fails_alone_with_a_500() {
    let err = call("memory").await.unwrap_err();
    assert_eq!(err.status, 500, "{}", err.message);
    assert!(call("echo").await.is_ok());
}

#[tokio::test]
async fn a_stack_overflow_fails_alone_with_a_500() {
    let err = call("stack").await.unwrap_err();
    assert_eq!(err.status, 500, "{}", err.message);
    assert!(call("echo").await.is_ok());
}

#[tokio::test]
async fn files_environment_and_sockets_are_denied() {
    let err = call("file").await.unwrap_err();
    assert_eq!(
        err.status, 403,
        "reading /etc/passwd must fail: {}",
        err.message
    );
    let env = call("env").await.unwrap().unwrap();
    assert_eq!(data(&env), "", "the guest saw environment variables");
    let err = call("socket").await.unwrap_err();
    assert_eq!(
        err.status, 403,
        "opening a socket must fail: {}",
        err.message
    );
}

#[tokio::test]
async fn the_context_import_tells_the_name_and_trace() {
    let cx = cx(Duration::from_secs(5));
    let trace_id = cx.trace.trace_id();
    let reply = function()
        .handle_event(event("context"), cx)
        .await
        .unwrap()
        .unwrap();
    let text = data(&reply);
    let parts: Vec<&str> = text.split('|').collect();
    assert_eq!(parts[0], "fixture");
    assert!(parts[1].contains(&trace_id), "{text}");
    assert_eq!(parts[2], "true");
}

#[tokio::test]
async fn an_invalid_reply_event_is_a_500() {
    let err = call("invalid").await.unwrap_err();
    assert_eq!(err.status, 500);
    assert!(err.message.contains("invalid event"), "{}", err.message);
}

#[test]
fn the_cache_compiles_once_and_loads_after() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("motif-wasm-cache-test");
    let _ = std::fs::remove_dir_all(&dir);
    let cache = Cache::new(&dir);
    let first = cache.component(engine().engine(), fixture_wasm()).unwrap();
    let second = cache.component(engine().engine(), fixture_wasm()).unwrap();
    assert!(first.compiled && !second.compiled);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "one artifact, no temporary files left");
    let _ = std::fs::remove_dir_all(&dir);
}
