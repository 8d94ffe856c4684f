//! WASI preview 1 command modules against a real guest, built from
//! `tests/wasm-guests/p1-roles` by this test: the command contract in a sandbox.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use motif_runtime::cgi::Output;
use motif_runtime::{Context, FunctionInfo, Handler, Kind, KnativeEnv, TraceContext};
use motif_wasm::cache::Cache;
use motif_wasm::{CommandModule, EngineSettings, WasmEngine};

mod common;

fn module() -> &'static CommandModule {
    static MODULE: OnceLock<CommandModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        let wasm = common::build_guest("wasm32-wasip1", "p1-roles", "p1-roles.wasm");
        let engine = WasmEngine::new(EngineSettings {
            max_memory: 32 << 20,
            instances: 8,
        })
        .unwrap();
        let cache =
            Cache::new(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("motif-wasm-p1-cache"));
        let loaded = cache.module(engine.engine(), &wasm).unwrap();
        let output = Output {
            response_type: "text/plain".into(),
            reply_type: None,
        };
        CommandModule::new(&engine, &loaded.artifact, output, 1 << 20).unwrap()
    })
}

fn cx(role: &str, timeout: Duration) -> Context {
    Context {
        function: Arc::new(FunctionInfo {
            name: role.into(),
            kind: Kind::Http,
            knative: KnativeEnv {
                revision: Some("r-00001".into()),
                ..KnativeEnv::default()
            },
        }),
        trace: TraceContext::root(),
        deadline: Instant::now() + timeout,
    }
}

async fn call(role: &str, body: &'static str) -> Result<String, motif_runtime::HandlerError> {
    let req = http::Request::post("/path?q=1")
        .header("x-motif-test", "t")
        .body(Bytes::from(body))
        .unwrap();
    let res = module()
        .handle_http(req, cx(role, Duration::from_secs(5)))
        .await?;
    Ok(String::from_utf8_lossy(res.body()).into_owned())
}

#[tokio::test]
async fn the_body_goes_to_stdin_and_stdout_comes_back() {
    assert_eq!(call("echo", "hello, p1").await.unwrap(), "hello, p1");
}

#[tokio::test]
async fn the_environment_holds_only_the_contract_variables() {
    let names = call("environment", "").await.unwrap();
    let mut names: Vec<&str> = names.split(',').collect();
    names.sort_unstable();
    for name in &names {
        let allowed = name.starts_with("HTTP_")
            || [
                "GATEWAY_INTERFACE",
                "SERVER_PROTOCOL",
                "REQUEST_METHOD",
                "PATH_INFO",
                "SCRIPT_NAME",
                "QUERY_STRING",
                "REQUEST_URI",
                "CONTENT_LENGTH",
                "CONTENT_TYPE",
                "TRACEPARENT",
                "K_SERVICE",
                "K_CONFIGURATION",
                "K_REVISION",
            ]
            .contains(name);
        assert!(allowed, "the guest saw `{name}`: {names:?}");
    }
    assert!(
        names.contains(&"K_REVISION") && names.contains(&"HTTP_X_MOTIF_TEST"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"HOME") && !names.contains(&"PATH"),
        "{names:?}"
    );
}

#[tokio::test]
async fn files_are_denied() {
    let err = call("files", "").await.unwrap_err();
    assert_eq!(err.status, 500);
    assert!(
        err.message.contains("exited with status 1"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_non_zero_exit_is_a_500_with_the_last_stderr_line() {
    let err = call("fail", "").await.unwrap_err();
    assert_eq!(
        (err.status.as_u16(), err.message.as_str()),
        (500, "function exited with status 3: boom")
    );
}

#[tokio::test]
async fn a_command_past_its_deadline_is_stopped_with_a_504() {
    let started = Instant::now();
    let req = http::Request::post("/").body(Bytes::new()).unwrap();
    let err = module()
        .handle_http(req, cx("sleep", Duration::from_millis(200)))
        .await
        .unwrap_err();
    assert_eq!(err.status, 504, "{}", err.message);
    assert!(started.elapsed() < Duration::from_secs(2));
}
