//! Functions written in other languages than Rust, built from source by this test and
//! served by the wasm host:
//! - C (`tests/wasm-guests/c`), a WASI preview 1 command module built with
//!   `clang --target=wasm32-wasi` and wasi-libc: the command contract;
//! - Python (`tests/wasm-guests/python`), a `motif:function/cloudevent-function`
//!   component built with componentize-py (the version pinned in its
//!   `requirements.txt`) against `invokers/wit` as it is.
//!
//! A guest whose toolchain is missing skips its tests with a `skip:` notice naming what
//! to install; `scripts/test.sh` installs both, so that the suite always runs them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use motif_contract::Event;
use motif_runtime::cgi::Output;
use motif_runtime::{Context, FunctionInfo, Handler, HandlerError, Kind, KnativeEnv, TraceContext};
use motif_wasm::cache::Cache;
use motif_wasm::{CloudEventFunction, CommandModule, EngineSettings, WasmEngine};

mod common;

/// Where this binary builds its guests, emptied at its start.
fn out_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| common::scratch_dir("motif-wasm-languages"))
}

/// The compiled artifacts. Not kept across runs: componentize-py's output differs from
/// one build to the next, so a kept cache would only grow.
fn cache() -> Cache {
    Cache::new(out_dir().join("cache"))
}

/// Runs `command`; its stdout when it exits 0, else what went wrong (`None` when the
/// program is not there at all).
fn run(command: &mut Command) -> Result<String, Option<String>> {
    let output = match command.output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(format!("{command:?} did not start: {e}"))),
    };
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(Some(format!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

fn cx(name: &str, kind: Kind) -> Context {
    Context {
        function: Arc::new(FunctionInfo {
            name: name.into(),
            kind,
            knative: KnativeEnv::default(),
        }),
        trace: TraceContext::root(),
        deadline: Instant::now() + Duration::from_secs(30),
    }
}

fn data(e: &Event) -> String {
    String::from_utf8_lossy(e.data().expect("the reply has data")).into_owned()
}

// ---- C: a WASI preview 1 command module ------------------------------------------------

/// What building C for wasm32-wasi takes on Debian (scripts/test.sh installs it).
const C_TOOLS: &str = "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32";

/// Compiles `source` for wasm32-wasi into `output`.
fn clang(source: &Path, output: &Path) -> Result<String, Option<String>> {
    run(Command::new("clang")
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra", "-Werror"])
        .arg("-Wl,--strip-all")
        .arg("-o")
        .arg(output)
        .arg(source))
}

/// `tests/wasm-guests/c/echo.c`, built once per test binary; `None` (after a `skip:`
/// notice) when clang cannot build for wasm32-wasi here.
fn c_guest() -> Option<&'static CommandModule> {
    static MODULE: OnceLock<Option<CommandModule>> = OnceLock::new();
    MODULE
        .get_or_init(|| {
            let dir = out_dir().join("c");
            std::fs::create_dir_all(&dir).unwrap();
            // A program that needs nothing but the toolchain tells a missing toolchain
            // (skip) from a broken guest (fail).
            let probe = dir.join("probe.c");
            std::fs::write(
                &probe,
                "#include <stdio.h>\nint main(void) { return puts(\"\"); }\n",
            )
            .unwrap();
            if let Err(why) = clang(&probe, &dir.join("probe.wasm")) {
                let why = why.unwrap_or_else(|| "clang is not installed".into());
                common::skip(&format!(
                    "the C guest's tests: cannot build C for wasm32-wasi here ({C_TOOLS})\n{why}"
                ));
                return None;
            }
            let wasm = dir.join("echo.wasm");
            let started = Instant::now();
            if let Err(why) = clang(&common::guests_dir().join("c/echo.c"), &wasm) {
                panic!("building the C guest failed: {}", why.unwrap_or_default());
            }
            eprintln!("built the C guest in {:?}", started.elapsed());
            let engine = WasmEngine::new(EngineSettings {
                max_memory: 32 << 20,
                instances: 8,
            })
            .unwrap();
            let loaded = cache()
                .module(engine.engine(), &std::fs::read(&wasm).unwrap())
                .expect("the C guest compiles");
            let output = Output {
                response_type: "text/plain".into(),
                reply_type: None,
            };
            Some(CommandModule::new(&engine, &loaded.artifact, output, 1 << 20).expect("links"))
        })
        .as_ref()
}

async fn c_http(
    module: &CommandModule,
    method: &str,
    uri: &str,
    body: impl Into<Bytes>,
) -> Result<String, HandlerError> {
    let request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("x-motif-test", "from-test")
        .header("content-type", "text/plain")
        .body(body.into())
        .unwrap();
    let response = module
        .handle_http(request, cx("c-echo", Kind::Http))
        .await?;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain");
    Ok(String::from_utf8(response.body().to_vec()).expect("utf-8"))
}

#[tokio::test]
async fn c_reads_the_cgi_environment_and_stdin() {
    let Some(module) = c_guest() else { return };
    assert_eq!(
        c_http(module, "POST", "/echo?lang=c", "hello from c")
            .await
            .unwrap(),
        "POST /echo?lang=c from-test: HELLO FROM C"
    );
    assert_eq!(
        c_http(module, "PUT", "/other", "x").await.unwrap(),
        "PUT /other? from-test: X"
    );
}

#[tokio::test]
async fn c_reads_all_of_a_large_body() {
    let Some(module) = c_guest() else { return };
    let body = "abcdefgh".repeat(50_000);
    let out = c_http(module, "POST", "/big", body.clone()).await.unwrap();
    let (head, echoed) = out.split_once(": ").expect("a header line");
    assert_eq!(head, "POST /big? from-test");
    assert_eq!(echoed.len(), body.len());
    assert!(echoed == body.to_uppercase(), "the body came back altered");
}

#[tokio::test]
async fn c_exiting_non_zero_is_a_500_with_its_last_stderr_line() {
    let Some(module) = c_guest() else { return };
    let err = c_http(module, "POST", "/fail", "ignored")
        .await
        .unwrap_err();
    assert_eq!(
        (err.status.as_u16(), err.message.as_str()),
        (500, "function exited with status 7: c guest: asked to fail")
    );
}

#[tokio::test]
async fn c_gets_a_cloudevent_as_data_and_ce_variables() {
    let Some(module) = c_guest() else { return };
    let event = Event::builder("c1", "/tests", "com.example.shout")
        .data("text/plain", "quiet please")
        .build()
        .unwrap();
    let reply = module
        .handle_event(event, cx("c-echo", Kind::CloudEvent))
        .await
        .unwrap()
        .expect("a reply");
    assert_eq!(data(&reply), "POST /? [com.example.shout]: QUIET PLEASE");
    assert_eq!(
        (reply.ty(), reply.source(), reply.datacontenttype()),
        (
            "com.example.shout.reply",
            "/motif/c-echo",
            Some("text/plain")
        )
    );
}

// ---- Python: a cloudevent component -------------------------------------------------------

/// The componentize-py version `tests/wasm-guests/python/requirements.txt` pins.
fn pinned_componentize_py() -> String {
    let path = common::guests_dir().join("python/requirements.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("componentize-py=="))
        .unwrap_or_else(|| panic!("{} pins no componentize-py", path.display()))
        .trim()
        .to_owned()
}

/// `tests/wasm-guests/python/app.py`, built once per test binary; `None` (after a
/// `skip:` notice) when componentize-py is not installed.
fn python_guest() -> Option<&'static CloudEventFunction> {
    static FUNCTION: OnceLock<Option<CloudEventFunction>> = OnceLock::new();
    FUNCTION
        .get_or_init(|| {
            let pinned = pinned_componentize_py();
            let version = match run(Command::new("componentize-py").arg("--version")) {
                Ok(version) => version.trim().to_owned(),
                Err(why) => {
                    common::skip(&format!(
                        "the Python guest's tests: componentize-py is not available; install \
                         it with `pip install -r tests/wasm-guests/python/requirements.txt` \
                         (componentize-py {pinned}){}",
                        why.map(|w| format!("\n{w}")).unwrap_or_default()
                    ));
                    return None;
                }
            };
            // The app is built from a copy, so that nothing is written into the source tree.
            let dir = out_dir().join("python");
            let app = dir.join("app");
            std::fs::create_dir_all(&app).unwrap();
            std::fs::copy(
                common::guests_dir().join("python/app.py"),
                app.join("app.py"),
            )
            .unwrap();
            let wasm = dir.join("python.wasm");
            let wit = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../invokers/wit");
            let started = Instant::now();
            if let Err(why) = run(Command::new("componentize-py")
                .arg("-d")
                .arg(&wit)
                .args(["-w", "motif:function/cloudevent-function", "componentize"])
                .arg("-p")
                .arg(&app)
                .arg("-o")
                .arg(&wasm)
                .arg("app")
                .current_dir(&dir))
            {
                panic!(
                    "building the Python guest with {version} (pinned: {pinned}) failed: {}",
                    why.unwrap_or_default()
                );
            }
            eprintln!("built the Python guest in {:?}", started.elapsed());
            // An interpreter needs more room than a Rust guest.
            let engine = WasmEngine::new(EngineSettings {
                max_memory: 128 << 20,
                instances: 4,
            })
            .unwrap();
            let started = Instant::now();
            let loaded = cache()
                .component(engine.engine(), &std::fs::read(&wasm).unwrap())
                .expect("the Python guest compiles");
            eprintln!("compiled the Python guest in {:?}", started.elapsed());
            Some(
                CloudEventFunction::new(&engine, &loaded.artifact).expect("the Python guest links"),
            )
        })
        .as_ref()
}

fn event(ty: &str, data: &str) -> Event {
    Event::builder("p1", "/tests", ty)
        .subject("greeting")
        .data("text/plain", data.to_owned())
        .extension("myext", "kept")
        .build()
        .unwrap()
}

async fn py_call(function: &CloudEventFunction, ty: &str) -> Result<Option<Event>, HandlerError> {
    function
        .handle_event(event(ty, "hello, python"), cx("py-fn", Kind::CloudEvent))
        .await
}

#[tokio::test]
async fn python_replies_with_an_event_it_built() {
    let Some(function) = python_guest() else {
        return;
    };
    let reply = py_call(function, "uppercase")
        .await
        .unwrap()
        .expect("a reply");
    assert_eq!(data(&reply), "HELLO, PYTHON");
    assert_eq!(
        (
            reply.id(),
            reply.ty(),
            reply.datacontenttype(),
            reply.subject()
        ),
        (
            "p1-reply",
            "uppercase.reply",
            Some("text/plain"),
            Some("greeting")
        )
    );
    // The source carries the name the `context` import gave the guest.
    assert_eq!(reply.source(), "/motif/py-fn");
    let extension = |name| reply.extension(name).map(|v| v.to_canonical().into_owned());
    assert_eq!(extension("lang").as_deref(), Some("python"));
    assert_eq!(extension("myext").as_deref(), Some("kept"));
}

#[tokio::test]
async fn python_returning_none_is_no_reply() {
    let Some(function) = python_guest() else {
        return;
    };
    assert_eq!(py_call(function, "none").await.unwrap(), None);
}

#[tokio::test]
async fn python_raising_err_keeps_its_status_and_message() {
    let Some(function) = python_guest() else {
        return;
    };
    let err = py_call(function, "error").await.unwrap_err();
    assert_eq!(
        (err.status.as_u16(), err.message.as_str()),
        (422, "python refuses p1")
    );
    let err = py_call(function, "something.else").await.unwrap_err();
    assert_eq!(
        (err.status.as_u16(), err.message.as_str()),
        (400, "unknown type something.else")
    );
}
