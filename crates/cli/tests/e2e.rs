//! End to end, per language, the examples of `examples/hello/` (what `motif create` makes):
//! `motif run` -> `motif invoke` on this machine, then `motif build --push` to a real `docker-registry`, the image read by
//! `skopeo inspect`, copied out by `skopeo copy`, unpacked by `umoci`, run with `runc`
//! and invoked over HTTP; a cloudevent function of each language run and invoked with a
//! CloudEvent.
//!
//! The base images of JavaScript, Python and command functions are made here from this
//! machine's own `node`, `python3` and `/bin/sh` (with their shared libraries), since no
//! public registry is reachable: they are pushed to the test's registry and given to
//! `motif build --base`, exactly as a user's base image would be.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::{motif, motif_command, ok, stderr, stdout, workspace};
use motif_build::oci::{Image, ImageConfig, LayerBuilder, NoProgress, Platform, RegistryOptions};
use motif_test_support::{Container, Registry, add_host_binaries, http};

fn temp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("motif-e2e-")
        .tempdir()
        .unwrap()
}

/// Rust functions share one target directory across tests and runs.
fn cargo_target() -> PathBuf {
    workspace().join("target/motif-test-functions")
}

/// The environment of every `motif` these tests run that may build Rust: the shared
/// target directory, no debug info (the functions' cold builds are most of this test's
/// time), and the workspace's `motif-invoker`.
fn build_env(command: &mut std::process::Command) -> &mut std::process::Command {
    command
        .env("CARGO_TARGET_DIR", cargo_target())
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env("MOTIF_INVOKER_BIN", invoker())
}

fn motif_in(cwd: &Path, args: &[&str]) -> Output {
    build_env(&mut motif_command(cwd, args)).output().unwrap()
}

fn invoker() -> &'static Path {
    static INVOKER: OnceLock<PathBuf> = OnceLock::new();
    INVOKER.get_or_init(|| motif_test_support::motif_invoker().expect("motif-invoker builds"))
}

/// `motif run DIR --port PORT`, until it prints its URL.
struct Running {
    child: Child,
}

impl Running {
    fn start(cwd: &Path, dir: &str, port: u16, watch: bool) -> Running {
        let port = port.to_string();
        let mut args = vec!["run", dir, "--port", &port];
        if watch {
            args.push("--watch");
        }
        let mut child = build_env(&mut motif_command(cwd, &args))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        match rx.recv_timeout(Duration::from_secs(600)) {
            Ok(line) => assert!(line.contains("is serving at http://localhost:"), "{line}"),
            Err(e) => panic!(
                "motif run {dir} printed no URL: {e} ({:?})",
                child.try_wait()
            ),
        }
        Running { child }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let _ = self.child.wait();
    }
}

fn invoke(cwd: &Path, dir: &str, target: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["invoke", dir, "--target", target, "-o", "json"];
    args.extend_from_slice(extra);
    let out = motif(cwd, &args);
    ok(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A base image made from this machine's binaries, for the language's image.
fn base(language: &str) -> Option<&'static Image> {
    static NODE: OnceLock<Image> = OnceLock::new();
    static PYTHON: OnceLock<Image> = OnceLock::new();
    static SHELL: OnceLock<Image> = OnceLock::new();
    let (cell, make): (_, fn() -> Image) = match language {
        "js" | "ts" => (&NODE, node_base),
        "python" => (&PYTHON, python_base),
        "command" => (&SHELL, shell_base),
        _ => return None,
    };
    Some(cell.get_or_init(make))
}

fn base_image(layer: LayerBuilder, env: &[&str]) -> Image {
    let config = ImageConfig {
        env: env.iter().map(|e| e.to_string()).collect(),
        cmd: vec!["/bin/sh".into()],
        ..ImageConfig::default()
    };
    Image::assemble(
        None,
        vec![layer.finish().unwrap()],
        &config,
        &Platform::host(),
    )
    .unwrap()
}

fn which(tool: &str) -> PathBuf {
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        .canonicalize()
        .unwrap()
}

fn tmp_dir(layer: &mut LayerBuilder) {
    layer.add_dir("/tmp", 0o1777);
}

fn shell_base() -> Image {
    let mut layer = LayerBuilder::new();
    let tools: Vec<(String, PathBuf)> = ["sh", "cat", "tr", "sed", "env"]
        .iter()
        .map(|t| {
            let host = which(t);
            let image = if *t == "sh" {
                "/bin/sh".to_owned()
            } else {
                format!("/usr/bin/{t}")
            };
            (image, host)
        })
        .collect();
    let refs: Vec<(&str, &Path)> = tools
        .iter()
        .map(|(i, h)| (i.as_str(), h.as_path()))
        .collect();
    add_host_binaries(&mut layer, &refs).unwrap();
    tmp_dir(&mut layer);
    base_image(layer, &["PATH=/usr/bin:/bin"])
}

fn node_base() -> Image {
    let mut layer = LayerBuilder::new();
    let node = which("node");
    add_host_binaries(&mut layer, &[("/usr/local/bin/node", &node)]).unwrap();
    tmp_dir(&mut layer);
    base_image(layer, &["PATH=/usr/local/bin:/usr/bin:/bin"])
}

/// This machine's Python at its own paths (its prefix is found from the executable),
/// with the standard library but not its site-packages or tests.
fn python_base() -> Image {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys, sysconfig; print(sys.executable); print(sysconfig.get_paths()['stdlib']); print('%d.%d.%d' % sys.version_info[:3])"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let executable = PathBuf::from(lines.next().unwrap()).canonicalize().unwrap();
    let stdlib = PathBuf::from(lines.next().unwrap());
    let version = lines.next().unwrap().to_owned();
    let mut layer = LayerBuilder::new();
    let image_path = executable.to_str().unwrap().to_owned();
    add_host_binaries(&mut layer, &[(&image_path, &executable)]).unwrap();
    layer.add_symlink("/usr/local/bin/python3", &image_path);
    let skip = [
        "site-packages",
        "test",
        "tests",
        "idlelib",
        "tkinter",
        "turtledemo",
        "ensurepip",
        "lib2to3",
        "__pycache__",
    ];
    layer
        .add_tree(stdlib.to_str().unwrap(), &stdlib, &|p: &Path| {
            !p.components()
                .any(|c| skip.contains(&c.as_os_str().to_str().unwrap_or("")))
                && !p.starts_with("config-")
                && !p.to_string_lossy().starts_with("config-")
        })
        .unwrap();
    // The standard library's C extensions load shared libraries of their own.
    let dynload = stdlib.join("lib-dynload");
    let mut extensions = Vec::new();
    for entry in std::fs::read_dir(&dynload).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "so") {
            extensions.push(path);
        }
    }
    let mut libraries = std::collections::BTreeSet::new();
    for extension in &extensions {
        libraries.extend(motif_test_support::shared_libraries(extension).unwrap());
    }
    for library in libraries {
        if !library.starts_with(&stdlib) {
            layer
                .add_file_from(library.to_str().unwrap(), &library)
                .unwrap();
        }
    }
    // The C libraries every manylinux wheel may link, as a real distribution has them.
    for name in [
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libutil.so.1",
        "libgcc_s.so.1",
    ] {
        let library = Path::new("/lib/x86_64-linux-gnu").join(name);
        if library.exists() {
            layer
                .add_file_from(library.to_str().unwrap(), &library)
                .unwrap();
        }
    }
    tmp_dir(&mut layer);
    base_image(
        layer,
        &[
            "PATH=/usr/local/bin:/usr/bin:/bin",
            &format!("PYTHON_VERSION={version}"),
        ],
    )
}

fn skopeo(args: &[&str]) -> String {
    let out = std::process::Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Copies `examples/hello/KIND/LANGUAGE` (what `motif create` makes from the built-in
/// template: `tests/examples.rs` checks it) into `cwd`, its Rust SDK dependency made
/// absolute; its name.
fn example(cwd: &Path, kind: &str, language: &str) -> String {
    let name = match kind {
        "http" => format!("hello-{language}"),
        _ => format!("events-{language}"),
    };
    let source = workspace().join("examples/hello").join(kind).join(language);
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&source)
        .arg(cwd.join(&name))
        .status()
        .unwrap();
    assert!(status.success(), "copying {}", source.display());
    let cargo = cwd.join(&name).join("Cargo.toml");
    if let Ok(text) = std::fs::read_to_string(&cargo) {
        let sdk = workspace().join("invokers/rust");
        let text = text.replace(
            "\"../../../../invokers/rust\"",
            &format!("{:?}", sdk.display().to_string()),
        );
        std::fs::write(&cargo, text).unwrap();
    }
    name
}

/// The whole loop for the `http` example of `language`.
fn http_end_to_end(language: &str) {
    let tmp = temp();
    let cwd = tmp.path();
    let name = example(cwd, "http", language);

    // Locally: motif run, motif invoke.
    let port = http::free_port();
    let target = format!("http://127.0.0.1:{port}");
    {
        let _running = Running::start(cwd, &name, port, false);
        let answer = invoke(cwd, &name, &target, &["--data", "motif"]);
        assert_eq!(answer["status"], 200, "{answer}");
        let body = answer["body"].to_string();
        assert!(body.contains("motif"), "{language}: {answer}");
    }

    // An image, pushed to a real registry.
    let registry = Registry::start().expect("docker-registry starts");
    let host = registry.host();
    let mut args = vec!["build".to_owned(), name.clone(), "--push".into()];
    args.extend(["--registry".into(), format!("{host}/functions/{name}")]);
    if let Some(base) = base(language) {
        let reference = format!("{host}/base/{language}:1");
        tokio_block(base.push(&reference, &RegistryOptions::from_env(), &NoProgress)).unwrap();
        args.extend(["--base".into(), reference]);
    }
    args.extend(["-o".into(), "json".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = motif_in(cwd, &args);
    ok(&out);
    let built: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let digest = built["digest"].as_str().unwrap().to_owned();
    let pushed = built["pushed"].as_str().unwrap().to_owned();
    assert_eq!(pushed, format!("{host}/functions/{name}@{digest}"));
    let spec = std::fs::read_to_string(cwd.join(&name).join("motif.toml")).unwrap();
    assert!(
        spec.contains(&pushed),
        "the digest is recorded in motif.toml:\n{spec}"
    );

    // Read back by skopeo.
    let inspected = skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{host}/functions/{name}:latest"),
    ]);
    let inspected: serde_json::Value = serde_json::from_str(&inspected).unwrap();
    assert_eq!(inspected["Digest"], digest.as_str());
    assert_eq!(inspected["Os"], "linux");
    assert_eq!(inspected["Labels"]["dev.motif.function.language"], language);
    assert_eq!(
        inspected["Labels"]["dev.motif.function.name"],
        name.as_str()
    );
    let env: Vec<&str> = inspected["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"PORT=8080"), "{env:?}");
    assert!(
        env.contains(&format!("MOTIF_FUNCTION_NAME={name}").as_str()),
        "{env:?}"
    );

    // Copied out, unpacked by umoci, run by runc, invoked over HTTP.
    let layout = cwd.join("layout");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{host}/functions/{name}:latest"),
        &format!("oci:{}:{name}", layout.display()),
    ]);
    let port = http::free_port();
    let port_text = port.to_string();
    let mut container = Container::run(&layout, &name, &[("PORT", &port_text)]).expect("runc runs");
    let addr = format!("127.0.0.1:{port}");
    if let Err(e) = http::wait_ok(&addr, "/_/ready", Duration::from_secs(60)) {
        panic!(
            "{language} container not ready: {e}; exited {:?}; logs:\n{}",
            container.exited(),
            container.logs()
        );
    }
    let answer = invoke(cwd, &name, &format!("http://{addr}"), &["--data", "motif"]);
    assert_eq!(answer["status"], 200, "{answer}\n{}", container.logs());
    assert!(answer["body"].to_string().contains("motif"), "{answer}");
    drop(container);
}

/// The `cloudevent` example of `language`, run locally and sent a CloudEvent.
fn cloudevent_end_to_end(language: &str) {
    let tmp = temp();
    let cwd = tmp.path();
    let name = example(cwd, "cloudevent", language);
    let port = http::free_port();
    let _running = Running::start(cwd, &name, port, false);
    let target = format!("http://127.0.0.1:{port}");
    // The kind in motif.toml makes `motif invoke` send a CloudEvent.
    let answer = invoke(
        cwd,
        &name,
        &target,
        &["--data", r#"{"name":"motif"}"#, "--type", "dev.motif.test"],
    );
    assert!(
        answer["status"] == 200 || answer["status"] == 204,
        "{language}: {answer}"
    );
    if answer["status"] == 200 {
        assert!(
            answer["cloudevent"]["id"].is_string(),
            "{language}: a reply event: {answer}"
        );
    }
}

fn tokio_block<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

macro_rules! languages {
    ($($test:ident, $events:ident => $language:literal;)*) => {$(
        #[test]
        fn $test() {
            http_end_to_end($language);
        }

        #[test]
        fn $events() {
            cloudevent_end_to_end($language);
        }
    )*};
}

languages! {
    rust_http, rust_cloudevent => "rust";
    rust_wasm_http, rust_wasm_cloudevent => "rust-wasm";
    js_http, js_cloudevent => "js";
    ts_http, ts_cloudevent => "ts";
    python_http, python_cloudevent => "python";
    python_wasm_http, python_wasm_cloudevent => "python-wasm";
    c_wasm_http, c_wasm_cloudevent => "c-wasm";
    command_http, command_cloudevent => "command";
}

/// `motif run --watch` restarts the function when its handler changes.
#[test]
fn run_watch_restarts_on_change() {
    let tmp = temp();
    let cwd = tmp.path();
    ok(&motif(cwd, &["create", "watched", "--language", "js"]));
    let port = http::free_port();
    let _running = Running::start(cwd, "watched", port, true);
    let target = format!("http://127.0.0.1:{port}");
    let before = invoke(cwd, "watched", &target, &["--data", "motif"]);
    assert!(before["body"].to_string().contains("motif"), "{before}");
    let handler = cwd.join("watched/index.js");
    let js = std::fs::read_to_string(&handler).unwrap();
    let changed = js.replace(
        "return `${GREETING}, ${name}!\\n`;",
        "return `changed, ${name}!\\n`;",
    );
    assert_ne!(js, changed, "the template's return line is as expected");
    std::fs::write(&handler, changed).unwrap();
    for _ in 0..200 {
        let out = motif(
            cwd,
            &[
                "invoke", "watched", "--target", &target, "--data", "motif", "-o", "json",
            ],
        );
        if out.status.success() && stdout(&out).contains("changed, motif") {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the function was not restarted with the new handler");
}

/// The same input gives the same image digest.
#[test]
fn images_are_reproducible() {
    let tmp = temp();
    let cwd = tmp.path();
    ok(&motif(cwd, &["create", "same", "--language", "c-wasm"]));
    let digest = || {
        let out = motif_in(cwd, &["build", "same", "--image", "-o", "json"]);
        ok(&out);
        let built: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        built["digest"].as_str().unwrap().to_owned()
    };
    let first = digest();
    assert_eq!(first, digest());
    let _ = stderr;
}
