//! The examples of `examples/`, run as their READMEs say, with the workspace's `motif`:
//! the order pipeline on `motif serve` (events through three languages, and a dead
//! letter).

mod common;

use std::time::{Duration, Instant};

use common::readme::{run_shell, shell_blocks};
use common::*;
use motif_test_support::{Registry, http};

/// Polls `motif logs NAME` until a line contains `wanted`.
fn wait_for_log(dir: &std::path::Path, name: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let logs = stdout(&motif_at(dir, &["logs", name]));
        if let Some(line) = logs.lines().find(|l| l.contains(wanted)) {
            return line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no `{wanted}` in the logs of {name} within 60 s:\n{logs}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_order_pipeline_runs_as_its_readme_says() {
    let dir = scratch_dir("cli-examples", "order-pipeline");
    let server = Server::start(&dir, http::free_port(), &[], &[]);
    let root = workspace();
    let readme = root.join("examples/order-pipeline/README.md");
    let blocks = shell_blocks(&readme);
    assert_eq!(blocks.len(), 1, "the README has one shell block");
    let out = run_shell(&blocks[0], &root, &dir.join("state"), &[]);
    assert!(
        out.status.success(),
        "the README's commands failed:\n{}\n{}\n{}",
        stdout(&out),
        stderr(&out),
        server.log()
    );
    let notified = wait_for_log(&dir, "notify", "notified ada@example.com");
    assert!(
        notified.contains("of invoice INV-A-1 for 25.00"),
        "{notified}"
    );
    let dead = wait_for_log(&dir, "dead-letters", "dead letter:");
    assert!(
        dead.contains("com.example.order.placed B-2 from /shop: 422") && dead.contains("no items"),
        "{dead}"
    );
    // The valid order never reached the dead letters.
    let logs = stdout(&motif_at(&dir, &["logs", "dead-letters"]));
    assert!(!logs.contains("A-1"), "{logs}");
}

#[test]
fn the_wasm_example_is_pushed_and_rendered_as_its_readme_says() {
    // A copy of the example: the push records its digest in motif.toml.
    let root = scratch_dir("cli-examples", "wasm-to-cluster");
    let example = workspace().join("examples/wasm-to-cluster");
    std::fs::create_dir_all(root.join("examples")).unwrap();
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(&example)
        .arg(root.join("examples"))
        .status()
        .unwrap();
    assert!(copied.success());
    let registry = Registry::start().expect("docker-registry starts");
    let blocks = shell_blocks(&example.join("README.md"));
    assert_eq!(
        blocks.len(),
        2,
        "the README's registry, then the build and render"
    );
    let host = registry.host();
    let out = run_shell(
        &blocks[1],
        &root,
        &root.join("state"),
        &[("REGISTRY", &host)],
    );
    assert!(
        out.status.success(),
        "the README's commands failed:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    let image = format!("{host}/hello-wasm@sha256:");
    assert!(text.contains(&format!("image = \"{image}")), "{text}");
    let rendered = std::fs::read_to_string(root.join("hello-wasm.yaml")).unwrap();
    for wanted in [
        "kind: Function",
        "kind: Service",
        "namespace: apps",
        image.as_str(),
    ] {
        assert!(rendered.contains(wanted), "no `{wanted}` in:\n{rendered}");
    }
    // The image is in the registry, by the digest motif.toml records.
    let toml = std::fs::read_to_string(root.join("examples/wasm-to-cluster/hello-wasm/motif.toml"))
        .unwrap();
    let digest = toml.split("@").nth(1).unwrap().split('"').next().unwrap();
    assert!(
        registry.blob_file(digest).is_file(),
        "{digest} is not in the registry"
    );
}

/// The README's first command: `scripts/start.sh` builds motif and serves the Rust wasm
/// hello, and prints the URL to curl (here in the debug profile, the tests' build).
#[test]
fn the_start_script_serves_an_example_and_says_where() {
    use std::io::{BufRead, BufReader};
    let dir = scratch_dir("cli-examples", "start");
    let port = http::free_port();
    let mut child = std::process::Command::new("bash")
        .arg(workspace().join("scripts/start.sh"))
        .env("MOTIF_PROFILE", "debug")
        .env("MOTIF_SERVE_PORT", port.to_string())
        .env("MOTIF_STATE_DIR", dir.join("state"))
        .env("MOTIF_DATA_DIR", data_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(dir.join("start.log")).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("is serving at"));
    let log = std::fs::read_to_string(dir.join("start.log")).unwrap_or_default();
    let line = line.unwrap_or_else(|| panic!("start.sh served nothing:\n{log}"));
    assert!(
        line.contains(&format!("http://hello-rust-wasm.localhost:{port}/")),
        "{line}"
    );
    assert!(
        log.contains(&format!(
            "curl -d motif http://hello-rust-wasm.localhost:{port}/"
        )),
        "{log}"
    );
    let answer = http::request(
        "POST",
        &format!("127.0.0.1:{port}"),
        "/hello-rust-wasm/",
        b"motif",
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains("motif"), "{}", answer.text());
}

/// The languages, and the kinds of `examples/hello/`.
const LANGUAGES: [&str; 8] = [
    "rust",
    "rust-wasm",
    "js",
    "ts",
    "python",
    "python-wasm",
    "c-wasm",
    "command",
];

/// What running an example leaves beside it (build output, installed dependencies).
const BUILT: [&str; 5] = [
    ".motif",
    "target",
    "Cargo.lock",
    "node_modules",
    "__pycache__",
];

/// Every file under `dir`, relative, with its content, leaving out [`BUILT`].
fn tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut files = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if BUILT.contains(&name.as_ref()) {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap().display().to_string();
                files.insert(relative, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files
}

/// `examples/hello/KIND/LANGUAGE` is exactly what `motif create` makes from the built-in
/// template (the Rust SDK by a path relative to the example), so the examples the
/// end-to-end tests run (`tests/e2e.rs`) are what a user gets.
#[test]
fn every_hello_example_is_what_motif_create_makes() {
    let dir = scratch_dir("cli-examples", "hello");
    let root = workspace();
    let sdk = root.join("invokers/rust");
    for (kind, prefix) in [("http", "hello"), ("cloudevent", "events")] {
        for language in LANGUAGES {
            let name = format!("{prefix}-{language}");
            let made = dir.join(&name);
            ok(
                &motif_command(&dir, &["create", &name, "-l", language, "-t", kind])
                    .env("MOTIF_SDK_PATH", &sdk)
                    .output()
                    .unwrap(),
            );
            let mut expected = tree(&made);
            if let Some(cargo) = expected.get_mut("Cargo.toml") {
                let absolute = format!("{:?}", sdk.canonicalize().unwrap().display().to_string());
                *cargo = cargo.replace(&absolute, "\"../../../../invokers/rust\"");
            }
            let example = root.join("examples/hello").join(kind).join(language);
            assert_eq!(
                tree(&example),
                expected,
                "examples/hello/{kind}/{language} is not what `motif create {name} -l \
                 {language} -t {kind}` makes: make it again"
            );
        }
    }
}
