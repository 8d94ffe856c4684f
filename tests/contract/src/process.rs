//! Starting and stopping a function under an invoker, as a real process on a loopback port.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// How long a function may take to turn ready. Generous: a wasm or interpreted invoker
/// compiles or imports on start, and the suite's processes share two cores.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// An invoker and how it starts each role.
#[derive(Debug, Clone)]
pub struct Invoker {
    /// Its name, the directory under `functions/`.
    pub name: String,
    roles: BTreeMap<String, Launch>,
    kinds: BTreeMap<String, String>,
}

/// `functions/<invoker>/roles.toml`: per role, the command line and its environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Launch {
    argv: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// `roles.toml` at the suite's root: per role, its kind and what it does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Role {
    kind: String,
    #[allow(dead_code)]
    does: String,
}

impl Invoker {
    /// Reads `functions/<name>/roles.toml`, replacing `{dir}` (that directory) and each
    /// `{key}` of `vars` in its command lines.
    pub fn load(suite: &Path, name: &str, vars: &[(&str, String)]) -> Result<Self, String> {
        let roles: BTreeMap<String, Role> = read_toml(&suite.join("roles.toml"))?;
        let dir = suite.join("functions").join(name);
        let mut launches: BTreeMap<String, Launch> = read_toml(&dir.join("roles.toml"))?;
        let subst = |s: &str| {
            let mut s = s.replace("{dir}", &dir.display().to_string());
            for (k, v) in vars {
                s = s.replace(&format!("{{{k}}}"), v);
            }
            s
        };
        for (role, launch) in &mut launches {
            if !roles.contains_key(role) {
                return Err(format!(
                    "{name}/roles.toml: `{role}` is not a role in roles.toml"
                ));
            }
            launch.argv = launch.argv.iter().map(|a| subst(a)).collect();
            for v in launch.env.values_mut() {
                *v = subst(v);
            }
        }
        Ok(Self {
            name: name.to_owned(),
            roles: launches,
            kinds: roles.into_iter().map(|(k, r)| (k, r.kind)).collect(),
        })
    }

    /// Whether this invoker implements `role`.
    pub fn implements(&self, role: &str) -> bool {
        self.roles.contains_key(role)
    }

    /// Starts `role` with extra `env`, and waits until `/_/ready` answers 200.
    pub async fn start(
        &self,
        role: &str,
        env: &BTreeMap<String, String>,
    ) -> Result<Function, String> {
        let launch = self
            .roles
            .get(role)
            .ok_or_else(|| format!("invoker `{}` has no role `{role}`", self.name))?;
        let kind = self.kinds.get(role).map_or("http", String::as_str);
        let port = free_port()?;
        let (program, args) = launch.argv.split_first().ok_or("empty argv")?;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env("PORT", port.to_string())
            .env("MOTIF_HOST", "127.0.0.1")
            .env("MOTIF_FUNCTION_KIND", kind)
            .env("MOTIF_FUNCTION_NAME", role)
            .envs(&launch.env)
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start `{program}`: {e}"))?;
        let logs = Arc::new(Mutex::new(String::new()));
        tokio::spawn(collect(child.stdout.take().expect("piped"), logs.clone()));
        tokio::spawn(collect(child.stderr.take().expect("piped"), logs.clone()));
        let mut function = Function {
            base: format!("http://127.0.0.1:{port}"),
            child,
            logs,
            client: http_client(),
        };
        function.wait_ready().await?;
        Ok(function)
    }
}

fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A port nobody listens on now. The invoker binds it a moment later; another process
/// taking it in between is possible but rare on a test machine, and shows as a clear
/// start failure.
fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

async fn collect(r: impl AsyncRead + Unpin, logs: Arc<Mutex<String>>) {
    let mut lines = BufReader::new(r).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut logs = logs.lock().expect("log lock");
        logs.push_str(&line);
        logs.push('\n');
    }
}

/// A running function.
#[derive(Debug)]
pub struct Function {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    child: tokio::process::Child,
    logs: Arc<Mutex<String>>,
    /// A client with a connection pool, as a real caller has.
    pub client: reqwest::Client,
}

impl Function {
    /// Its address and client, for sending requests (also from other tasks).
    pub fn view(&self) -> FunctionView {
        FunctionView {
            base: self.base.clone(),
            client: self.client.clone(),
        }
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        let url = format!("{}/_/ready", self.base);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(format!(
                    "function exited with {status} before turning ready\n--- logs ---\n{}",
                    self.logs()
                ));
            }
            if let Ok(res) = self.client.get(&url).send().await
                && res.status() == 200
            {
                return Ok(());
            }
            if start.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "function not ready after {}s\n--- logs ---\n{}",
                    READY_TIMEOUT.as_secs(),
                    self.logs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the process has logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().expect("log lock").clone()
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }

    /// Waits for the process to exit, up to `limit`; `None` if it did not.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .ok()?
            .ok()
    }

    /// Stops the function (SIGTERM, then SIGKILL after 5 s) and returns its logs.
    pub async fn stop(mut self) -> String {
        self.terminate();
        if self.wait_exit(Duration::from_secs(5)).await.is_none() {
            let _ = self.child.kill().await;
        }
        // Let the log readers drain the pipes.
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.logs()
    }
}

/// The running test binary's profile directory (`target/<profile>`).
fn profile_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/deps/suite-<hash>
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .ok_or_else(|| "cannot find the target directory".into())
}

fn cargo_build(args: &[&str], what: &str) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--quiet"])
        .args(args)
        .current_dir(crate::suite_dir())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building {what} failed"))
    }
}

/// Builds, natively, `motif-invoker`, the Rust SDK's role binaries and its examples into
/// the running test binary's profile directory, and returns that directory
/// (`MOTIF_INVOKER_BIN` overrides the invoker). One cargo run for the whole workspace,
/// so that it resolves the features `cargo test --workspace` resolved and none of it is
/// compiled twice.
pub fn native_binaries() -> Result<PathBuf, String> {
    let dir = profile_dir()?;
    let mut args = vec!["--workspace", "--bins", "--examples"];
    if dir.file_name().is_some_and(|n| n == "release") {
        args.push("--release");
    }
    cargo_build(&args, "motif-invoker and the Rust SDK roles")?;
    Ok(dir)
}

/// Locates `motif-invoker` (building it with [`native_binaries`]; `MOTIF_INVOKER_BIN`
/// overrides).
pub fn motif_invoker() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("MOTIF_INVOKER_BIN") {
        return Ok(PathBuf::from(bin));
    }
    Ok(native_binaries()?.join("motif-invoker"))
}

/// Builds the Rust SDK's role binaries and examples for wasm32-wasip2 (components) and
/// returns the directory of the roles (the examples are in its `examples/`).
pub fn rust_roles_wasm() -> Result<PathBuf, String> {
    let args = [
        "-p",
        "motif-rust-roles",
        "-p",
        "motif-function",
        "--bins",
        "--examples",
        "--release",
        "--target",
        "wasm32-wasip2",
    ];
    cargo_build(&args, "the Rust SDK roles for wasm32-wasip2")?;
    Ok(profile_dir()?.join("../wasm32-wasip2/release"))
}

/// The address and client of a function, without its process.
#[derive(Debug, Clone)]
pub struct FunctionView {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The client.
    pub client: reqwest::Client,
}

/// Builds the wasm guests (`tests/wasm-guests`): the components for `wasm32-wasip2`, the
/// command module for `wasm32-wasip1`. Returns their target directory.
pub fn wasm_guests() -> Result<PathBuf, String> {
    let dir = crate::suite_dir().join("../wasm-guests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (target, packages) in [
        ("wasm32-wasip2", &["fixture", "contract-roles"][..]),
        ("wasm32-wasip1", &["p1-roles"][..]),
    ] {
        let mut build = std::process::Command::new(&cargo);
        build
            .args(["build", "--quiet", "--release", "--target", target])
            .current_dir(&dir);
        for p in packages {
            build.args(["-p", p]);
        }
        let status = build
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!(
                "building the wasm guests for {target} failed (rustup target add {target}?)"
            ));
        }
    }
    Ok(dir.join("target"))
}

/// The Python roles as components, built by [`python_roles_wasm`]: (file stem, role
/// module, kind).
const PYTHON_COMPONENTS: [(&str, &str, &str); 2] = [
    ("http-roles", "http_roles.py", "http"),
    ("event-roles", "event_roles.py", "cloudevent"),
];

/// Builds the Python invoker's roles (`functions/python/*.py`) into components with
/// componentize-py (`python3 -m motif.guest`: a `wasi:http` component for the http roles,
/// a `motif:function` one for the cloudevent roles) and compiles each into the cache
/// beside them (`motif-cache`) with `invoker --wasm FILE --precompile`. Returns their
/// directory.
///
/// A componentize-py component takes seconds to compile, and the cases start several
/// functions at once: compiled here, once, no case compiles, and none nears the ready
/// limit. The components are rebuilt only when their sources change (the role modules,
/// the invoker's package, the WIT, componentize-py's version): componentize-py's output
/// differs from one build to the next, so every rebuild is a new artifact to compile.
pub fn python_roles_wasm(invoker: &Path) -> Result<PathBuf, String> {
    let dir = profile_dir()?.join("python-roles-wasm");
    let repo = crate::repo_root();
    let package = repo.join("invokers/python");
    let roles = crate::suite_dir().join("functions/python");
    let tool = std::process::Command::new("componentize-py")
        .arg("--version")
        .output()
        .map_err(|e| {
            format!("componentize-py is not available ({e}): pip install -r tests/wasm-guests/python/requirements.txt")
        })?;
    let mut digest = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(&tool.stdout, &mut digest);
    for source in [
        package.join("motif"),
        roles.clone(),
        repo.join("invokers/wit"),
    ] {
        hash_tree(&source, &mut digest)?;
    }
    let digest = format!("{:016x}\n", std::hash::Hasher::finish(&digest));
    let stamp = dir.join("sources.digest");
    let built = PYTHON_COMPONENTS
        .iter()
        .all(|(stem, _, _)| dir.join(format!("{stem}.wasm")).is_file());
    if !built || std::fs::read_to_string(&stamp).ok().as_deref() != Some(digest.as_str()) {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let builds = PYTHON_COMPONENTS.map(|(stem, module, kind)| {
            std::process::Command::new("python3")
                .args(["-m", "motif.guest", "--kind", kind, "-o"])
                .arg(dir.join(format!("{stem}.wasm")))
                .arg(roles.join(module))
                .env("PYTHONPATH", &package)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot run python3: {e}"))
        });
        wait_all(builds, "building the Python roles into components")?;
        std::fs::write(&stamp, &digest)
            .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    }
    let precompiles = PYTHON_COMPONENTS.map(|(stem, _, _)| {
        std::process::Command::new(invoker)
            .arg("--wasm")
            .arg(dir.join(format!("{stem}.wasm")))
            .arg("--precompile")
            .env("MOTIF_CACHE_DIR", dir.join("motif-cache"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", invoker.display()))
    });
    wait_all(precompiles, "precompiling the Python components")?;
    Ok(dir)
}

/// Waits for every child, in parallel as they were started; the output of any that
/// failed.
fn wait_all<const N: usize>(
    children: [Result<std::process::Child, String>; N],
    what: &str,
) -> Result<(), String> {
    let mut failures = String::new();
    for child in children {
        let output = child?
            .wait_with_output()
            .map_err(|e| format!("{what}: {e}"))?;
        if !output.status.success() {
            failures.push_str(&String::from_utf8_lossy(&output.stdout));
            failures.push_str(&String::from_utf8_lossy(&output.stderr));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{what} failed:\n{failures}"))
    }
}

/// Feeds every file under `dir` (names and contents, in name order; `__pycache__`
/// skipped) into `hasher`.
fn hash_tree(dir: &Path, hasher: &mut std::hash::DefaultHasher) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n != "__pycache__"))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            hash_tree(&path, hasher)?;
        } else {
            let bytes =
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            std::hash::Hash::hash(&path, hasher);
            std::hash::Hash::hash(&bytes, hasher);
        }
    }
    Ok(())
}

/// A plain-HTTP client. The workspace builds reqwest with rustls but no default crypto
/// provider (motif-build's registry client brings ring), so one is installed first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
