//! Per-request costs of the wasm host, in process (no network): how long a fresh
//! instance of a `wasi:http` component takes to create from its pre-instantiated form
//! (a new Store with motif's per-request state, then `instantiate`), and how long a whole
//! request through `HttpProxyFunction` takes (instantiate, call, collect the response).
//!
//! `wasm-instantiate FILE.wasm [ITERATIONS]` prints p50/p99/mean in µs, one line each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use motif_runtime::{Context, FunctionInfo, Handler, Kind, KnativeEnv, TraceContext};
use motif_wasm::cache::{self, Cache};
use motif_wasm::{AllowedHosts, EngineSettings, HostState, HttpProxyFunction, WasmEngine};
use wasmtime::Store;
use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

fn cx() -> Context {
    Context {
        function: Arc::new(FunctionInfo {
            name: "bench".into(),
            kind: Kind::Http,
            knative: KnativeEnv::default(),
        }),
        trace: TraceContext::root(),
        deadline: Instant::now() + Duration::from_secs(30),
    }
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    let mean = samples.iter().sum::<Duration>().as_secs_f64() * 1e6 / samples.len() as f64;
    println!(
        "{what}: n={} p50={:.1}us p99={:.1}us mean={:.1}us",
        samples.len(),
        at(0.5),
        at(0.99),
        mean
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .context("usage: wasm-instantiate FILE.wasm [ITERATIONS]")?;
    let n: usize = args.next().map_or(Ok(10_000), |s| s.parse())?;
    let wasm = std::fs::read(&file).with_context(|| format!("cannot read {file}"))?;
    let engine =
        WasmEngine::new(EngineSettings::default()).map_err(|e| anyhow::anyhow!("{e:#}"))?;
    println!("pooling allocator: {}", engine.is_pooling());
    let loaded = Cache::new(cache::default_dir())
        .component(engine.engine(), &wasm)
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;

    // The bare instantiation, as HttpProxyFunction does it per request.
    let mut linker = Linker::<HostState>::new(engine.engine());
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| anyhow::anyhow!("{e:#}"))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let pre = ProxyPre::new(
        linker
            .instantiate_pre(&loaded.artifact)
            .map_err(|e| anyhow::anyhow!("{e:#}"))?,
    )
    .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let allowed = Arc::new(AllowedHosts::none());
    let (mut samples, mut stores, mut instances) = (vec![], vec![], vec![]);
    for i in 0..n + n / 10 {
        let start = Instant::now();
        let state = HostState::new(cx(), engine.settings().max_memory, allowed.clone());
        let mut store = Store::new(engine.engine(), state);
        store.set_epoch_deadline(u64::MAX / 2);
        let stored = start.elapsed();
        let instance = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let elapsed = start.elapsed();
        let _ = instance;
        drop(store);
        if i >= n / 10 {
            samples.push(elapsed);
            stores.push(stored);
            instances.push(elapsed - stored);
        }
    }
    report("instantiate (a new Store, then instantiate)", samples);
    report("  the Store with its WASI state", stores);
    report("  instantiate", instances);

    // A whole request, in process.
    let function = HttpProxyFunction::new(&engine, &loaded.artifact, 1 << 20)
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + n / 10 {
        let request = http::Request::builder()
            .uri("/hello")
            .header("host", "bench")
            .body(Bytes::new())?;
        let start = Instant::now();
        let response = function
            .handle_http(request, cx())
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        let elapsed = start.elapsed();
        anyhow::ensure!(
            response.status() == 200,
            "the function answered {}",
            response.status()
        );
        if i >= n / 10 {
            samples.push(elapsed);
        }
    }
    report("request (in process)", samples);
    Ok(())
}
