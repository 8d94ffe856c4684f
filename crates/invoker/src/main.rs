//! `motif-invoker`: serves a function behind the motif contract on `$PORT`.
//!
//! The container entrypoint of every motif function that is not a language invoker of
//! its own. `--command` serves any executable (CONTRACT.md §8); `--wasm` a WebAssembly
//! component (CONTRACT.md §7). It is a thin binary: the server is `motif-runtime`, the
//! command handler lives there too, and the wasm host is `motif-wasm`.

use std::path::{Path, PathBuf};

use motif_wasm::cache::{self, Cache};
use motif_wasm::detect::{self, Shape};
use motif_wasm::{AllowedHosts, EngineSettings, WasmEngine, WasmFunction};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Parser;
use motif_runtime::cgi::Output;
use motif_runtime::{Command, Config, Kind};

/// Serve a function behind the motif function contract.
///
/// Settings come from the environment as the contract names them: PORT, MOTIF_TIMEOUT,
/// MOTIF_CONCURRENCY, MOTIF_QUEUE, MOTIF_MAX_BODY, MOTIF_DRAIN_SECONDS, MOTIF_LOG,
/// MOTIF_HOST, MOTIF_FUNCTION_NAME.
#[derive(Debug, Parser)]
#[command(name = "motif-invoker", version, about)]
struct Args {
    /// The function's kind.
    #[arg(long, env = "MOTIF_FUNCTION_KIND", value_enum, default_value = "http")]
    kind: Kind,

    /// Media type of the command's stdout (for a cloudevent function, the reply's
    /// datacontenttype; `application/cloudevents+json` means stdout is the whole reply).
    #[arg(
        long,
        env = "MOTIF_RESPONSE_TYPE",
        default_value = "application/octet-stream"
    )]
    response_type: String,

    /// The reply event's type [default: the request's type with `.reply` appended].
    #[arg(long, env = "MOTIF_REPLY_TYPE")]
    reply_type: Option<String>,

    /// Shell command run once before the function turns ready (10 s cap).
    #[arg(long, env = "MOTIF_INIT")]
    init: Option<String>,

    /// Shell command run once on drain (10 s cap).
    #[arg(long, env = "MOTIF_SHUTDOWN")]
    shutdown: Option<String>,

    /// Serve a WebAssembly function: a `motif:function` cloudevent component or a
    /// `wasi:http` proxy component (its exports decide the kind), or a WASI preview 1
    /// command module (the command contract, as `--command`, in a sandbox).
    #[arg(
        long,
        value_name = "FILE",
        env = "MOTIF_WASM",
        conflicts_with = "command"
    )]
    wasm: Option<PathBuf>,

    /// The most linear memory one wasm instance may use, in bytes.
    #[arg(long, env = "MOTIF_MAX_MEMORY", default_value_t = motif_wasm::DEFAULT_MAX_MEMORY)]
    max_memory: usize,

    /// A host a wasm function may send HTTP requests to, as `scheme://host[:port]`
    /// (`*` wildcards: `https://*.example.com`, `http://127.0.0.1:*`). Repeat it, or
    /// separate entries with commas in the environment. None by default.
    #[arg(
        long = "allow-outbound",
        value_name = "URL",
        env = "MOTIF_ALLOWED_OUTBOUND_HOSTS",
        value_delimiter = ','
    )]
    allowed_outbound_hosts: Vec<String>,

    /// Compile the `--wasm` file into the artifact cache (MOTIF_CACHE_DIR) and exit
    /// without serving, so that later starts load it instead of compiling (in an image
    /// build, or once before starting many instances at once). The engine is set up as
    /// for serving, so the artifact is the one serving looks for.
    #[arg(long)]
    precompile: bool,

    /// Serve an executable: one process per request. Everything after it is its
    /// arguments, so give the other options first.
    #[arg(
        long,
        value_name = "CMD",
        num_args = 1..,
        allow_hyphen_values = true,
        required_unless_present = "wasm"
    )]
    command: Vec<String>,
}

fn main() -> ExitCode {
    motif_runtime::mark_process_start();
    // wasmtime makes and drops an error in every request's store; with RUST_BACKTRACE
    // set, each would capture a backtrace, walking the unwind tables of every loaded
    // module (measured: 10x slower with 1,000 wasm functions loaded). Errors capture none
    // unless RUST_LIB_BACKTRACE asks; panics still print theirs under RUST_BACKTRACE.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: first thing in main, before any other thread exists.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("RUST_LIB_BACKTRACE", "0");
        }
    }
    let args = Args::parse();
    motif_runtime::log::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return report(&anyhow::Error::new(e).context("cannot start the async runtime")),
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    if args.precompile && args.wasm.is_none() {
        bail!("--precompile compiles a wasm file: give it --wasm FILE");
    }
    let mut config = Config::from_env().context("invalid setting")?;
    config.kind = args.kind;
    if let Some(path) = &args.wasm {
        let output = Output {
            response_type: args.response_type,
            reply_type: args.reply_type,
        };
        let settings = engine_settings(args.max_memory, &config);
        if args.precompile {
            return precompile(path, settings);
        }
        let allowed = AllowedHosts::parse(&args.allowed_outbound_hosts)?;
        return serve_wasm(path, settings, allowed, output, config).await;
    }
    let (program, rest) = args
        .command
        .split_first()
        .expect("clap requires at least one value");
    let program = resolve(program)?;
    name_after(&mut config, &program);
    let handler = Command::new(program, rest)
        .response_type(args.response_type)
        .reply_type(args.reply_type)
        .max_output(config.max_body)
        .init_hook(args.init)
        .shutdown_hook(args.shutdown);
    motif_runtime::serve(handler, config).await?;
    Ok(())
}

/// The wasm engine's settings for a function served with `config`.
fn engine_settings(max_memory: usize, config: &Config) -> EngineSettings {
    EngineSettings {
        max_memory,
        // The pool holds one instance per request in flight: as many as the concurrency
        // limit allows, or 256 (more wait for a slot) when it is unlimited.
        instances: u32::try_from(config.concurrency)
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or(256),
    }
}

/// `--precompile`: compiles `path` into the cache (unless it is there already) and
/// returns.
fn precompile(path: &Path, settings: EngineSettings) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let wasm = std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let shape = detect::shape(&wasm)
        .with_context(|| format!("`{}` is not a wasm function", path.display()))?;
    let engine = WasmEngine::new(settings)
        .map_err(|e| anyhow::anyhow!("cannot start the wasm engine: {e:#}"))?;
    let cache = Cache::new(cache::default_dir());
    let compiled = match shape {
        Shape::Command => cache.module(engine.engine(), &wasm).map(|l| l.compiled),
        Shape::CloudEvent | Shape::HttpProxy => {
            cache.component(engine.engine(), &wasm).map(|l| l.compiled)
        }
    }
    .map_err(|e| anyhow::anyhow!("cannot compile wasm `{}`: {e:#}", path.display()))?;
    tracing::info!(
        path = %path.display(),
        shape = ?shape,
        compiled,
        cache = %cache::default_dir().display(),
        millis = started.elapsed().as_millis() as u64,
        "precompiled"
    );
    Ok(())
}

async fn serve_wasm(
    path: &Path,
    settings: EngineSettings,
    allowed: AllowedHosts,
    output: Output,
    mut config: Config,
) -> anyhow::Result<()> {
    let engine = WasmEngine::new(settings)
        .map_err(|e| anyhow::anyhow!("cannot start the wasm engine: {e:#}"))?;
    let cache = Cache::new(cache::default_dir());
    let function = WasmFunction::open(path, engine, cache, output, config.max_body)?
        .with_allowed_hosts(allowed);
    // A component's exports decide its kind; a command module takes `--kind`.
    config.kind = function.kind().unwrap_or(config.kind);
    name_after(&mut config, path);
    motif_runtime::serve(function, config).await?;
    Ok(())
}

/// Names the function after its file when neither `MOTIF_FUNCTION_NAME` nor `K_SERVICE`
/// does.
fn name_after(config: &mut Config, file: &Path) {
    if std::env::var_os("MOTIF_FUNCTION_NAME").is_none()
        && config.knative.service.is_none()
        && let Some(stem) = file.file_stem().and_then(|s| s.to_str())
    {
        config.name = stem.to_owned();
    }
}

/// Finds the program now, so a typo fails at start rather than on every request.
fn resolve(program: &str) -> anyhow::Result<PathBuf> {
    let is_executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        if !path.exists() {
            bail!("command `{program}` does not exist");
        }
        if !is_executable(&path) {
            bail!("command `{program}` is not an executable file (chmod +x?)");
        }
        return Ok(std::path::absolute(&path).unwrap_or(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
        .with_context(|| format!("command `{program}` is not on PATH"))
}

fn report(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  Caused by: {cause}");
    }
    let hint = if e.to_string().contains("cannot listen") {
        "is another process using $PORT? set PORT to a free port, or 0 to pick one"
    } else if e.to_string().contains("invalid setting") {
        "see CONTRACT.md §5 for the settings and their units"
    } else if e.to_string().contains("command `") {
        "give --command a path to an executable, or a program on PATH"
    } else if e.to_string().contains("allowed outbound host") {
        "write an allowed host as scheme://host[:port], e.g. https://api.example.com or http://127.0.0.1:*"
    } else if e.to_string().contains("--precompile") {
        "motif-invoker --wasm FILE --precompile compiles FILE into MOTIF_CACHE_DIR and exits"
    } else if e.to_string().contains("wasm") {
        "give --wasm a motif:function component (see invokers/wit), a wasi:http proxy component or a wasm32-wasip1 command module"
    } else {
        "run with RUST_LOG=debug for more detail"
    };
    eprintln!("hint: {hint}");
    ExitCode::FAILURE
}
