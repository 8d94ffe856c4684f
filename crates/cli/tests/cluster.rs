//! `motif deploy`, `list`, `describe`, `delete`, `system install` and `controller` against
//! a real kube-apiserver (motif-test-support's [`Cluster`]), each test in a namespace of
//! its own, the `motif` process pointed at the cluster by `KUBECONFIG`.
//!
//! The cluster has no Knative controllers, so the round trips through `motif controller`
//! play Knative's part: they write the status of the Knative Service and Triggers the
//! controller made, as Knative Serving and Eventing would.
//!
//! motif is installed once per test binary, from `motif system install`'s own output;
//! before that, the first test to need it records what `motif deploy` says to a cluster
//! without the Function CRD (see [`installed`]).

mod common;
#[path = "cluster/function.rs"]
mod function;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{motif, motif_command, ok, stderr, stdout};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::{GroupVersionKind, TypeMeta};
use kube::discovery::Scope;
use kube::runtime::wait::{await_condition, conditions};
use motif_api::Function;
use motif_api::knative::{KnativeService, Trigger};
use motif_test_support::Cluster;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

const IMAGE: &str = "127.0.0.1:5000/fns/hello@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
const INSTALL_HINT: &str =
    "hint: install motif on the cluster: motif system install | kubectl apply -f -";

/// A function directory with an http function `name` and its image by digest; `extra`
/// is more of motif.toml (top-level keys, then tables).
fn function_dir(name: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("motif-cluster-")
        .tempdir()
        .unwrap();
    let toml =
        format!("name = \"{name}\"\nlanguage = \"js\"\n{extra}\n[artifact]\nimage = \"{IMAGE}\"\n");
    std::fs::write(dir.path().join("motif.toml"), toml).unwrap();
    dir
}

/// A subscription, for `function_dir`'s `extra`.
const SUBSCRIPTION: &str = "kind = \"cloudevent\"\n[[subscriptions]]\nfilters = [{ prefix = { type = \"com.example.\" } }]\n";

/// `motif` pointed at `kubeconfig`, with none of the variables a user may have set.
fn motif_at(kubeconfig: &Path, cwd: &Path, args: &[&str]) -> Command {
    let mut command = motif_command(cwd, args);
    command.env("KUBECONFIG", kubeconfig);
    for variable in [
        "MOTIF_NAMESPACE",
        "MOTIF_CLUSTER",
        "MOTIF_DRY_RUN",
        "MOTIF_DEPLOY_NO_WAIT",
        "MOTIF_DEPLOY_TIMEOUT",
        "MOTIF_ALL_NAMESPACES",
        "MOTIF_CONTROLLER_NAMESPACE",
        "MOTIF_CLI_LOG",
    ] {
        command.env_remove(variable);
    }
    command
}

/// `motif` run on the test cluster as its admin.
fn motif_on(cluster: &Cluster, cwd: &Path, args: &[&str]) -> Output {
    motif_at(&cluster.kubeconfig(), cwd, args)
        .output()
        .expect("motif runs")
}

/// Asserts the exit code, showing both streams otherwise.
#[track_caller]
fn exits(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// What `motif deploy` said before motif was installed.
static INSTALLED: OnceCell<Output> = OnceCell::const_new();

/// The test binary's cluster with motif installed, and a fresh namespace on it; `None`
/// (the test skips) without a cluster.
async fn namespace_with_motif(prefix: &str) -> Option<(&'static Cluster, String)> {
    let cluster = Cluster::shared()?;
    installed(cluster).await;
    Some((cluster, cluster.namespace(prefix).await))
}

/// Installs motif on the cluster once, by server-side applying every object of
/// `motif system install -o json`; first records what `motif deploy` answers without
/// the Function CRD. Every test that needs the CRD comes through here, so the record is
/// taken before anything installs it.
async fn installed(cluster: &Cluster) -> &'static Output {
    INSTALLED
        .get_or_init(|| async {
            let namespace = cluster.namespace("before-install").await;
            let dir = function_dir("early", "");
            let before = motif_on(
                cluster,
                dir.path(),
                &[
                    "deploy",
                    "--cluster",
                    "--no-wait",
                    "--namespace",
                    &namespace,
                ],
            );
            let out = motif(dir.path(), &["system", "install", "-o", "json"]);
            ok(&out);
            let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
            let client = cluster.client().await;
            for item in list["items"].as_array().unwrap() {
                apply(&client, item).await;
            }
            let crds = Api::<CustomResourceDefinition>::all(client);
            let established = await_condition(
                crds,
                "functions.motif.dev",
                conditions::is_crd_established(),
            );
            tokio::time::timeout(Duration::from_secs(30), established)
                .await
                .expect("the Function CRD is established within 30 s")
                .unwrap();
            before
        })
        .await
}

/// Server-side applies any object, as `kubectl apply --server-side` would.
async fn apply(client: &kube::Client, object: &Value) {
    let types = TypeMeta {
        api_version: object["apiVersion"].as_str().unwrap().to_owned(),
        kind: object["kind"].as_str().unwrap().to_owned(),
    };
    let gvk = GroupVersionKind::try_from(&types).unwrap();
    let (resource, capabilities) = kube::discovery::pinned_kind(client, &gvk).await.unwrap();
    let name = object["metadata"]["name"].as_str().unwrap();
    let api: Api<DynamicObject> =
        match (capabilities.scope, object["metadata"]["namespace"].as_str()) {
            (Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, &resource),
            _ => Api::all_with(client.clone(), &resource),
        };
    api.patch(
        name,
        &PatchParams::apply("motif-test").force(),
        &Patch::Apply(object),
    )
    .await
    .unwrap_or_else(|e| panic!("applying the {} `{name}`: {e}", types.kind));
}

/// The Functions of a namespace.
async fn functions(cluster: &Cluster, namespace: &str) -> Vec<Function> {
    Api::<Function>::namespaced(cluster.client().await, namespace)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
}

#[test]
fn deploy_without_cluster_goes_to_motif_serve_and_says_how_to_start_it() {
    let dir = function_dir("hello", "");
    let out = motif_command(dir.path(), &["deploy"])
        .env("MOTIF_STATE_DIR", dir.path().join("state"))
        .output()
        .unwrap();
    exits(&out, 5);
    let err = stderr(&out);
    assert!(err.starts_with("error: no motif serve is running"), "{err}");
    assert!(err.contains("hint: start one with `motif serve`"), "{err}");
    assert!(err.contains("deploy to Kubernetes with --cluster"), "{err}");
}

#[test]
fn no_kubeconfig_is_a_network_error_with_a_hint() {
    let dir = function_dir("hello", "");
    let missing = dir.path().join("no-kubeconfig");
    let out = motif_at(&missing, dir.path(), &["deploy", "--cluster"])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    exits(&out, 5);
    let err = stderr(&out);
    assert!(
        err.starts_with("error: no Kubernetes cluster is configured"),
        "{err}"
    );
    assert!(
        err.contains("hint: point KUBECONFIG at a kubeconfig"),
        "{err}"
    );
}

#[test]
fn an_unreachable_cluster_is_a_network_error_with_a_hint() {
    let dir = function_dir("hello", "");
    // A port nothing listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: gone\n\
             clusters: [{{name: gone, cluster: {{server: 'https://127.0.0.1:{port}'}}}}]\n\
             users: [{{name: me, user: {{token: abc}}}}]\n\
             contexts: [{{name: gone, context: {{cluster: gone, user: me}}}}]\n"
        ),
    )
    .unwrap();
    for args in [
        &["deploy", "--cluster", "--no-wait"][..],
        &["list", "--cluster"],
        &["delete", "hello", "--cluster"],
    ] {
        let out = motif_at(&kubeconfig, dir.path(), args).output().unwrap();
        exits(&out, 5);
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "cannot reach the Kubernetes API server at `https://127.0.0.1:{port}/`"
            )),
            "{err}"
        );
        assert!(err.contains("hint: is the cluster running?"), "{err}");
    }
}

#[test]
fn invalid_input_is_rejected_before_the_cluster_is_looked_for() {
    let dir = function_dir("hello", "scale = { min = 3, max = 1 }");
    let missing = dir.path().join("no-kubeconfig");
    let out = motif_at(&missing, dir.path(), &["deploy", "--cluster"])
        .output()
        .unwrap();
    exits(&out, 3);
    assert!(stderr(&out).contains("`scale.min`"), "{}", stderr(&out));
}

#[tokio::test]
async fn deploy_before_motif_is_installed_gives_the_install_hint() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    let before = installed(cluster).await;
    exits(before, 1);
    let err = stderr(before);
    assert!(
        err.starts_with("error: the cluster has no Function resource (functions.motif.dev)"),
        "{err}"
    );
    assert!(err.ends_with(&format!("{INSTALL_HINT}\n")), "{err}");
}

#[tokio::test]
async fn deploy_to_a_namespace_that_does_not_exist_says_how_to_make_it() {
    let Some(cluster) = Cluster::shared() else {
        return;
    };
    installed(cluster).await;
    let dir = function_dir("hello", "");
    let out = motif_on(
        cluster,
        dir.path(),
        &["deploy", "--cluster", "--no-wait", "--namespace", "nowhere"],
    );
    exits(&out, 3);
    insta::assert_snapshot!("deploy_no_namespace", stderr(&out));
}

#[tokio::test]
async fn deploy_dry_run_prints_the_objects_and_touches_nothing() {
    let Some((cluster, ns)) = namespace_with_motif("dry-run").await else {
        return;
    };
    let dir = function_dir("hello", SUBSCRIPTION);
    let out = motif_on(
        cluster,
        dir.path(),
        &["deploy", "--cluster", "--dry-run", "--namespace", &ns],
    );
    ok(&out);
    let rendered = stdout(&motif(dir.path(), &["render", "--namespace", &ns]));
    assert_eq!(stdout(&out), rendered);
    assert!(rendered.contains("kind: Trigger"), "{rendered}");
    assert!(functions(cluster, &ns).await.is_empty());
}

#[tokio::test]
async fn invalid_functions_are_rejected_and_nothing_is_created() {
    let Some((cluster, ns)) = namespace_with_motif("invalid").await else {
        return;
    };
    let dir = function_dir(
        "hello",
        "scale = { min = 5, max = 2 }\ntraffic = [{ percent = 50 }, { revision = \"hello-00001\", percent = 20 }]",
    );
    let out = motif_on(
        cluster,
        dir.path(),
        &["deploy", "--cluster", "--namespace", &ns],
    );
    exits(&out, 3);
    insta::assert_snapshot!("deploy_invalid", stderr(&out));
    assert!(functions(cluster, &ns).await.is_empty());
}

#[tokio::test]
async fn deploy_no_wait_creates_the_function_and_list_and_describe_show_it() {
    let Some((cluster, ns)) = namespace_with_motif("no-wait").await else {
        return;
    };
    let dir = function_dir("hello", SUBSCRIPTION);
    let out = motif_on(
        cluster,
        dir.path(),
        &["deploy", "--cluster", "--no-wait", "--namespace", &ns],
    );
    ok(&out);
    assert!(
        stderr(&out).contains(&format!("applied Function {ns}/hello (generation 1)")),
        "{}",
        stderr(&out)
    );
    let created = functions(cluster, &ns).await;
    assert_eq!(created.len(), 1);
    let function = &created[0];
    assert_eq!(function.metadata.name.as_deref(), Some("hello"));
    assert_eq!(function.spec.artifact.image.as_deref(), Some(IMAGE));
    assert_eq!(function.spec.subscriptions.len(), 1);
    let managers: Vec<_> = function
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.as_deref())
        .collect();
    assert_eq!(managers, ["motif"]);

    // Deploying it again changes nothing: the same generation.
    let again = motif_on(
        cluster,
        dir.path(),
        &[
            "deploy",
            "--cluster",
            "--no-wait",
            "--namespace",
            &ns,
            "-o",
            "json",
        ],
    );
    ok(&again);
    let applied: Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_eq!(applied["metadata"]["generation"], 1);
    assert!(applied["metadata"].get("managedFields").is_none());

    let list = motif_on(
        cluster,
        dir.path(),
        &["list", "--cluster", "--namespace", &ns],
    );
    ok(&list);
    let text = stdout(&list);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "READY", "URL", "AGE"], "{text}");
    assert_eq!(lines[1][..3], ["hello", "-", "-"], "{text}");
    assert_eq!(lines.len(), 2, "{text}");

    let all = motif_on(
        cluster,
        dir.path(),
        &["list", "--cluster", "-A", "-o", "json"],
    );
    ok(&all);
    let all: Value = serde_json::from_str(&stdout(&all)).unwrap();
    assert_eq!(all["kind"], "List");
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["metadata"]["namespace"] == ns.as_str() && f["metadata"]["name"] == "hello"),
        "{all}"
    );

    let describe = motif_on(
        cluster,
        dir.path(),
        &["describe", "hello", "--cluster", "--namespace", &ns],
    );
    ok(&describe);
    insta::with_settings!({ filters => vec![
        (ns.as_str(), "[NAMESPACE]"),
        (r"Age:( +)\d+s", "Age:${1}[AGE]"),
    ] }, {
        insta::assert_snapshot!("describe_new", stdout(&describe));
    });
    let objects = motif_on(
        cluster,
        dir.path(),
        &[
            "describe",
            "hello",
            "--cluster",
            "--namespace",
            &ns,
            "-o",
            "yaml",
        ],
    );
    ok(&objects);
    let objects: Value = serde_yaml::from_str(&stdout(&objects)).unwrap();
    assert_eq!(objects["items"][0]["kind"], "Function");
    assert_eq!(
        objects["items"].as_array().unwrap().len(),
        1,
        "no controller, no children"
    );
}

#[tokio::test]
async fn delete_removes_the_function_and_a_missing_one_exits_6() {
    let Some((cluster, ns)) = namespace_with_motif("delete").await else {
        return;
    };
    let dir = function_dir("hello", "");
    ok(&motif_on(
        cluster,
        dir.path(),
        &["deploy", "--cluster", "--no-wait", "--namespace", &ns],
    ));
    let out = motif_on(
        cluster,
        dir.path(),
        &["delete", "hello", "--cluster", "--namespace", &ns],
    );
    ok(&out);
    assert!(
        stdout(&out).contains("garbage-collected through their owner references"),
        "{}",
        stdout(&out)
    );
    assert!(functions(cluster, &ns).await.is_empty());

    for args in [
        &["delete", "hello", "--cluster", "--namespace", &ns][..],
        &["describe", "hello", "--cluster", "--namespace", &ns],
    ] {
        let out = motif_on(cluster, dir.path(), args);
        exits(&out, 6);
        let err = stderr(&out).replace(&ns, "[NAMESPACE]");
        assert_eq!(
            err,
            "error: there is no Function `hello` in namespace `[NAMESPACE]`\n\n\
             hint: `motif list --cluster --namespace [NAMESPACE]` shows the Functions there\n"
        );
    }
}

#[tokio::test]
async fn deploy_without_a_controller_times_out_naming_what_it_waited_for() {
    let Some((cluster, ns)) = namespace_with_motif("no-controller").await else {
        return;
    };
    let dir = function_dir("hello", "");
    let out = motif_on(
        cluster,
        dir.path(),
        &["deploy", "--cluster", "--namespace", &ns, "--timeout", "2s"],
    );
    exits(&out, 6);
    insta::assert_snapshot!("deploy_timeout", stderr(&out).replace(&ns, "[NAMESPACE]"));
}

/// `motif controller --namespace ns` as the controller's service account, with the RBAC
/// `motif system install` grants it; stopped with SIGTERM.
struct Controller {
    child: tokio::process::Child,
}

impl Controller {
    fn start(cluster: &Cluster, dir: &Path, namespace: &str) -> Controller {
        let mut command = motif_at(
            &cluster.controller_kubeconfig(),
            dir,
            &["controller", "--namespace", namespace],
        );
        // Only what goes wrong, on the test's stderr.
        command.env("MOTIF_CLI_LOG", "warn");
        let child = tokio::process::Command::from(command)
            .kill_on_drop(true)
            .spawn()
            .expect("motif controller starts");
        Controller { child }
    }

    /// SIGTERM, then the controller must stop cleanly and soon.
    async fn stop(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id().unwrap() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the controller stops within 10 s of SIGTERM")
            .unwrap();
        assert!(status.success(), "motif controller: {status}");
    }
}

/// Knative's part: once the controller has made the Service (and the Triggers), writes
/// their status as Knative would, with the Service's `Ready` being `ready`.
async fn play_knative(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    ready: (&str, Option<&str>, Option<&str>),
) {
    let client = cluster.client().await;
    let services = Api::<KnativeService>::namespaced(client.clone(), namespace);
    let deadline = Instant::now() + Duration::from_secs(30);
    let service = loop {
        if let Some(service) = services.get_opt(name).await.unwrap() {
            break service;
        }
        assert!(
            Instant::now() < deadline,
            "the controller made no Service `{name}` in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (status, reason, message) = ready;
    let condition = |type_: &str| json!({"type": type_, "status": status, "reason": reason, "message": message});
    let service_status = json!({"status": {
        "observedGeneration": service.metadata.generation,
        "url": format!("http://{name}.{namespace}.example.com"),
        "latestCreatedRevisionName": format!("{name}-00001"),
        "latestReadyRevisionName": (status == "True").then(|| format!("{name}-00001")),
        "conditions": [condition("Ready"), condition("ConfigurationsReady"), condition("RoutesReady")],
    }});
    services
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(&service_status),
        )
        .await
        .unwrap();
    let triggers = Api::<Trigger>::namespaced(client, namespace);
    let selector = format!("motif.dev/function={name}");
    for trigger in triggers
        .list(&ListParams::default().labels(&selector))
        .await
        .unwrap()
    {
        let trigger_status = json!({"status": {
            "observedGeneration": trigger.metadata.generation,
            "subscriberUri": format!("http://{name}.{namespace}.svc.cluster.local"),
            "conditions": [{"type": "Ready", "status": "True"}],
        }});
        triggers
            .patch_status(
                trigger.metadata.name.as_deref().unwrap(),
                &PatchParams::default(),
                &Patch::Merge(&trigger_status),
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn deploy_waits_for_the_controller_and_knative_and_prints_the_url() {
    let Some((cluster, ns)) = namespace_with_motif("wait").await else {
        return;
    };
    let dir = function_dir("hello", SUBSCRIPTION);
    let controller = Controller::start(cluster, dir.path(), &ns);
    let deploy = tokio::process::Command::from(motif_at(
        &cluster.kubeconfig(),
        dir.path(),
        &[
            "deploy",
            "--cluster",
            "--namespace",
            &ns,
            "--timeout",
            "60s",
        ],
    ))
    .output();
    let (out, ()) = tokio::join!(
        deploy,
        play_knative(cluster, &ns, "hello", ("True", None, None))
    );
    let out = out.unwrap();
    controller.stop().await;
    ok(&out);
    assert_eq!(
        stdout(&out).replace(&ns, "[NAMESPACE]"),
        "Function hello is ready\n  URL:      http://hello.[NAMESPACE].example.com\n  \
         Revision: hello-00001\n"
    );

    let describe = motif_on(
        cluster,
        dir.path(),
        &["describe", "hello", "--cluster", "--namespace", &ns],
    );
    ok(&describe);
    let text = stdout(&describe);
    assert!(text.contains("Ready:         True"), "{text}");
    assert!(text.contains("hello-default-1  default  True"), "{text}");
    let list = stdout(&motif_on(
        cluster,
        dir.path(),
        &["list", "--cluster", "-n", &ns],
    ));
    assert!(
        list.contains(&format!("hello  True   http://hello.{ns}.example.com")),
        "{list}"
    );
}

#[tokio::test]
async fn deploy_fails_fast_with_the_reason_when_knative_says_not_ready() {
    let Some((cluster, ns)) = namespace_with_motif("failed").await else {
        return;
    };
    let dir = function_dir("hello", "");
    let controller = Controller::start(cluster, dir.path(), &ns);
    let started = Instant::now();
    let deploy = tokio::process::Command::from(motif_at(
        &cluster.kubeconfig(),
        dir.path(),
        &[
            "deploy",
            "--cluster",
            "--namespace",
            &ns,
            "--timeout",
            "60s",
            "-o",
            "json",
        ],
    ))
    .output();
    let failure = (
        "False",
        Some("RevisionFailed"),
        Some("Revision \"hello-00001\" failed with message: Back-off pulling image"),
    );
    let (out, ()) = tokio::join!(deploy, play_knative(cluster, &ns, "hello", failure));
    let out = out.unwrap();
    controller.stop().await;
    exits(&out, 6);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    insta::assert_snapshot!("deploy_failed", stderr(&out).replace(&ns, "[NAMESPACE]"));
}

#[tokio::test]
async fn subscribe_and_unsubscribe_change_the_functions_subscriptions() {
    let Some((cluster, ns)) = namespace_with_motif("subscribe").await else {
        return;
    };
    let dir = function_dir("hello", SUBSCRIPTION);
    ok(&motif_on(
        cluster,
        dir.path(),
        &["deploy", "--cluster", "--no-wait", "--namespace", &ns],
    ));
    let subscribe = |extra: &[&str]| {
        let mut args = vec!["subscribe", "hello", "--cluster", "--namespace", &ns];
        args.extend_from_slice(extra);
        motif_on(cluster, dir.path(), &args)
    };
    let out = subscribe(&[
        "--name",
        "large",
        "--filter",
        "type=order.created",
        "--cesql",
        "amount > 100",
        "--dead-letter",
        "audit",
    ]);
    ok(&out);
    assert!(
        stderr(&out).contains(&format!("subscribed Function {ns}/hello as hello-large")),
        "{}",
        stderr(&out)
    );
    let function = &functions(cluster, &ns).await[0];
    assert_eq!(function.spec.subscriptions.len(), 2);
    let added = &function.spec.subscriptions[1];
    assert_eq!(added.name.as_deref(), Some("large"));
    assert_eq!(added.filters.len(), 2);
    let sink = added.delivery.as_ref().unwrap().dead_letter_sink.as_ref();
    assert_eq!(sink.unwrap().function.as_deref(), Some("audit"));

    // Invalid: refused before anything is written.
    let bad = subscribe(&["--name", "bad", "--cesql", "amount >"]);
    assert_eq!(bad.status.code(), Some(3), "{}", stderr(&bad));
    assert_eq!(functions(cluster, &ns).await[0].spec.subscriptions.len(), 2);
    let missing = motif_on(
        cluster,
        dir.path(),
        &[
            "subscribe",
            "nope",
            "--cluster",
            "--namespace",
            &ns,
            "--name",
            "x",
        ],
    );
    assert_eq!(missing.status.code(), Some(6), "{}", stderr(&missing));

    let out = motif_on(
        cluster,
        dir.path(),
        &[
            "unsubscribe",
            "hello",
            "hello-large",
            "--cluster",
            "--namespace",
            &ns,
        ],
    );
    ok(&out);
    assert_eq!(functions(cluster, &ns).await[0].spec.subscriptions.len(), 1);
    let again = motif_on(
        cluster,
        dir.path(),
        &[
            "unsubscribe",
            "hello",
            "large",
            "--cluster",
            "--namespace",
            &ns,
        ],
    );
    assert_eq!(again.status.code(), Some(6), "{}", stderr(&again));
}
