//! Reconcile latency of `motif controller` against a real kube-apiserver (the test
//! support's: kube-apiserver 1.20 + etcd on loopback, Knative CRDs installed).
//!
//! `controller-reconcile MOTIF_BIN [N]` installs motif's manifests, starts `MOTIF_BIN
//! controller` as the restricted service account, then measures, over N Functions
//! applied one at a time: Function applied -> its Knative Service seen by a watch ->
//! its status written for that generation (seen by a watch). The baseline, in the same
//! run and against the same apiserver, is one server-side apply of a Knative Service
//! (the floor of any reconcile: it applies one and writes one status). Then N Functions
//! applied at once (a burst), and the controller's memory (VmRSS, VmHWM).

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{Scope, pinned_kind};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use motif_api::knative::KnativeService;
use motif_api::{Function, FunctionSpec, Language, compile};
use motif_controller::install::{InstallOptions, manifests};
use motif_test_support::Cluster;

const IMAGE: &str = "127.0.0.1:5000/fns/hello@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

type Seen = Arc<Mutex<HashMap<String, Instant>>>;

fn function(name: &str) -> Function {
    let mut spec = FunctionSpec {
        language: Language::RustWasm,
        ..FunctionSpec::default()
    };
    spec.artifact.image = Some(IMAGE.into());
    Function::new(name, spec)
}

async fn install(client: &Client) -> anyhow::Result<()> {
    let options = InstallOptions {
        namespace: "motif-system".into(),
        image: "motif:bench".into(),
        builder_image: "motif-builder:bench".into(),
    };
    for manifest in manifests(&options) {
        let object: DynamicObject = serde_json::from_value(manifest)?;
        let gvk = GroupVersionKind::try_from(object.types.as_ref().context("types")?)?;
        let (resource, caps) = pinned_kind(client, &gvk).await?;
        let api: Api<DynamicObject> = match (&object.metadata.namespace, caps.scope) {
            (Some(ns), Scope::Namespaced) => Api::namespaced_with(client.clone(), ns, &resource),
            _ => Api::all_with(client.clone(), &resource),
        };
        let apply = PatchParams::apply("motif-bench").force();
        api.patch(&object.name_any(), &apply, &Patch::Apply(&object))
            .await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await; // the CRD becomes Established
    Ok(())
}

/// Records when each Service is first seen.
fn watch_services(api: Api<KnativeService>, seen: Seen) {
    tokio::spawn(async move {
        let mut events = watcher(api, watcher::Config::default())
            .applied_objects()
            .boxed();
        while let Some(Ok(service)) = events.next().await {
            seen.lock()
                .unwrap()
                .entry(service.name_any())
                .or_insert_with(Instant::now);
        }
    });
}

/// Records when each Function first has a status for its current generation.
fn watch_status(api: Api<Function>, seen: Seen) {
    tokio::spawn(async move {
        let mut events = watcher(api, watcher::Config::default())
            .applied_objects()
            .boxed();
        while let Some(Ok(f)) = events.next().await {
            let written = f
                .status
                .as_ref()
                .is_some_and(|s| s.observed_generation == f.metadata.generation);
            if written {
                seen.lock()
                    .unwrap()
                    .entry(f.name_any())
                    .or_insert_with(Instant::now);
            }
        }
    });
}

async fn wait_for(seen: &Seen, name: &str, limit: Duration) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(at) = seen.lock().unwrap().get(name) {
            return Ok(*at);
        }
        if Instant::now() > deadline {
            bail!("{name} was not reconciled within {limit:?}");
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn summary(what: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let p50 = percentile(&samples, 50.0);
    println!(
        "| {what} | {} | {} | {} |",
        ms(p50),
        ms(percentile(&samples, 99.0)),
        ms(*samples.last().unwrap())
    );
    p50
}

fn memory(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    format!("VmRSS {}, VmHWM {}", field("VmRSS:"), field("VmHWM:"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let motif = args
        .next()
        .context("usage: controller-reconcile MOTIF_BIN [N]")?;
    let n: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(100);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cluster = Cluster::shared().context("no kube-apiserver (see scripts/kube-apiserver.sh)")?;
    let client = cluster.client().await;
    install(&client).await?;
    let ns = cluster.namespace("bench").await;

    let mut controller = Command::new(&motif)
        .args(["controller", "--namespace", &ns])
        .env("KUBECONFIG", cluster.controller_kubeconfig())
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {motif} controller"))?;
    let pid = controller.id();

    let services: Api<KnativeService> = Api::namespaced(client.clone(), &ns);
    let functions: Api<Function> = Api::namespaced(client.clone(), &ns);
    let (service_seen, status_seen): (Seen, Seen) = Default::default();
    watch_services(services.clone(), service_seen.clone());
    watch_status(functions.clone(), status_seen.clone());
    let apply = PatchParams::apply("motif-bench").force();

    // Warm up the controller's and the apiserver's caches and connections.
    for i in 0..5 {
        let f = function(&format!("warm-{i}"));
        functions
            .patch(&f.name_any(), &apply, &Patch::Apply(&f))
            .await?;
        wait_for(&status_seen, &f.name_any(), Duration::from_secs(60)).await?;
    }

    // Baseline: one server-side apply of a compiled Knative Service.
    let mut baseline = Vec::with_capacity(n);
    for i in 0..n {
        let mut f = function(&format!("base-{i}"));
        f.metadata.namespace = Some(ns.clone());
        let service = compile(&f)?.service;
        let start = Instant::now();
        services
            .patch(&service.name_any(), &apply, &Patch::Apply(&service))
            .await?;
        baseline.push(start.elapsed());
    }

    let (mut to_service, mut to_status) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let f = function(&format!("fn-{i}"));
        let start = Instant::now();
        functions
            .patch(&f.name_any(), &apply, &Patch::Apply(&f))
            .await?;
        let service = wait_for(&service_seen, &f.name_any(), Duration::from_secs(60)).await?;
        let status = wait_for(&status_seen, &f.name_any(), Duration::from_secs(60)).await?;
        to_service.push(service - start);
        to_status.push(status - start);
    }
    let after_sequential = memory(pid);

    // A burst: every Function applied at once, until the last status is written.
    let start = Instant::now();
    let names: Vec<String> = (0..n).map(|i| format!("burst-{i}")).collect();
    futures::future::try_join_all(names.iter().map(|name| {
        let f = function(name);
        let functions = functions.clone();
        let apply = apply.clone();
        async move { functions.patch(name, &apply, &Patch::Apply(&f)).await }
    }))
    .await?;
    for name in &names {
        wait_for(&status_seen, name, Duration::from_secs(120)).await?;
    }
    let burst = start.elapsed();
    let after_burst = memory(pid);
    controller.kill()?;
    controller.wait()?;

    println!("| measure ({n} Functions, one at a time) | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|");
    let floor = summary("baseline: one SSA of a Knative Service", baseline);
    summary("Function applied -> Service applied", to_service);
    let p50 = summary("Function applied -> status written", to_status);
    println!();
    println!(
        "reconcile p50 / SSA p50 = {:.2}x; burst of {n}: all statuses written in {} ms ({:.0} Functions/s)",
        p50.as_secs_f64() / floor.as_secs_f64(),
        ms(burst),
        n as f64 / burst.as_secs_f64()
    );
    println!(
        "controller memory after the sequential run: {after_sequential}; after the burst: {after_burst}"
    );
    Ok(())
}
