//! The Rust SDK's promise: one source, two builds, the same answers. Each example of
//! `invokers/rust` is built natively (served by motif-runtime) and for wasm32-wasip2
//! (served by `motif-invoker --wasm`), both are started on real sockets, and every
//! request gets the same status, content type, body and CloudEvent attributes from both.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use motif_contract_suite::{motif_invoker, native_binaries, rust_roles_wasm};

/// A running function, stopped on drop.
struct Running {
    child: Child,
    base: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/<profile>` of this test binary (`target/<profile>/deps/rust_sdk-<hash>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_owned()
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn start(argv: &[PathBuf], name: &str) -> Running {
    let port = free_port();
    let cache = profile_dir().join("motif-cache");
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .env("PORT", port.to_string())
        .env("MOTIF_FUNCTION_NAME", name)
        .env("MOTIF_CACHE_DIR", cache)
        .env("MOTIF_HOST", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", argv[0].display()));
    let running = Running {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = motif_contract_suite::http_client();
    let start = Instant::now();
    loop {
        let ready = client.get(format!("{}/_/ready", running.base)).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            return running;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} never turned ready",
            argv[0].display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A request: method, headers, body.
type Ask<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'static [u8]);

/// What must be the same from both builds.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

async fn ask(base: &str, request: &Ask<'_>) -> Answer {
    let (method, headers, body) = request;
    let mut req = motif_contract_suite::http_client().request(method.parse().unwrap(), base);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.body(*body).send().await.expect("the function answers");
    let keep = [
        "content-type",
        "ce-id",
        "ce-type",
        "ce-source",
        "ce-specversion",
    ];
    let headers = keep
        .iter()
        .filter_map(|k| {
            let v = res.headers().get(*k)?;
            Some((k.to_string(), v.to_str().unwrap().to_owned()))
        })
        .collect();
    let status = res.status().as_u16();
    let mut body = res.text().await.unwrap();
    // The handler's span is new on every call: its traceparent cannot match.
    if let Ok(serde_json::Value::Object(mut event)) = serde_json::from_str(&body) {
        event.remove("traceparent");
        body = serde_json::Value::Object(event).to_string();
    }
    Answer {
        status,
        headers,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_example_answers_the_same_natively_and_as_wasm() {
    // The same cargo runs as the suite's, so neither test binary rebuilds for the other.
    let native_dir = native_binaries().expect("the native examples build");
    let invoker = motif_invoker().expect("motif-invoker builds");
    let wasm_dir = rust_roles_wasm()
        .expect("the examples build for wasm32-wasip2")
        .join("examples");

    let ce = |ty| {
        vec![
            ("ce-specversion", "1.0"),
            ("ce-id", "42"),
            ("ce-source", "/tests"),
            ("ce-type", ty),
            ("content-type", "text/plain"),
        ]
    };
    let structured = vec![("content-type", "application/cloudevents+json")];
    let examples: [(&str, Vec<Ask>); 2] = [
        (
            "hello",
            vec![
                ("POST", vec![], b"motif"),
                ("GET", vec![], b""),
                ("DELETE", vec![], b""),
                ("POST", vec![], b"\xff\xfe"),
            ],
        ),
        (
            "uppercase",
            vec![
                ("POST", ce("greeting"), b"hello"),
                ("POST", ce("greeting"), b""),
                ("POST", ce("greeting"), b"\xff"),
                (
                    "POST",
                    structured,
                    br#"{"specversion":"1.0","id":"7","source":"/s","type":"t","datacontenttype":"text/plain","data":"structured"}"#,
                ),
                ("POST", vec![("content-type", "text/plain")], b"not an event"),
            ],
        ),
    ];
    for (example, requests) in examples {
        let native = start(&[native_dir.join("examples").join(example)], example).await;
        let wasm_file = wasm_dir.join(format!("{example}.wasm"));
        let wasm = start(&[invoker.clone(), "--wasm".into(), wasm_file], example).await;
        for request in &requests {
            let from_native = ask(&native.base, request).await;
            let from_wasm = ask(&wasm.base, request).await;
            assert_eq!(
                from_native, from_wasm,
                "{example}: {request:?} answered differently natively and as wasm"
            );
            assert_ne!(from_native.status, 0);
        }
    }
}
