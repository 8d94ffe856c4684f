//! The controller against a real kube-apiserver with the real Knative CRDs: it runs as
//! the `motif-system:motif-controller` service account with only the RBAC of
//! `install::manifests`, and the test plays Knative's part by writing the children's
//! status (no Knative controller can run here), and the Job controller's and the
//! builder's for cluster builds (a build Job's pod, its termination message, the Job's
//! status).

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::pinned_kind;
use kube::{Client, ResourceExt};
use motif_api::knative::{KnativeService, Trigger};
use motif_api::{FUNCTION_LABEL, Function, FunctionFile, compile};
use motif_controller::install::{InstallOptions, manifests};
use motif_controller::{Options, run};
use motif_test_support::Cluster;
use serde_json::{Value, json};
use tokio::sync::oneshot;

const IMAGE: &str = "127.0.0.1:5000/fns/hello@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
const WAIT: Duration = Duration::from_secs(30);
/// The builder image the controller's build Jobs run.
const BUILDER: &str = "motif-builder:test";

// Cluster builds, in their own file; one test binary, so one cluster.
#[path = "cluster/build.rs"]
mod build;

fn cluster() -> Option<&'static Cluster> {
    let cluster = Cluster::shared();
    if cluster.is_none() {
        eprintln!("skipping: no kube-apiserver for the controller's tests");
    }
    cluster
}

/// Applies what `motif system install` renders, as an admin would with kubectl.
async fn install(client: &Client) {
    let options = InstallOptions {
        namespace: "motif-system".into(),
        image: "motif:test".into(),
        builder_image: BUILDER.into(),
    };
    for manifest in manifests(&options) {
        let object: DynamicObject = serde_json::from_value(manifest).unwrap();
        let types = object.types.clone().unwrap();
        let gvk = GroupVersionKind::try_from(&types).unwrap();
        let (resource, caps) = pinned_kind(client, &gvk).await.unwrap();
        let api: Api<DynamicObject> = match (&object.metadata.namespace, caps.scope) {
            (Some(ns), kube::discovery::Scope::Namespaced) => {
                Api::namespaced_with(client.clone(), ns, &resource)
            }
            _ => Api::all_with(client.clone(), &resource),
        };
        api.patch(
            &object.name_any(),
            &PatchParams::apply("motif-test").force(),
            &Patch::Apply(&object),
        )
        .await
        .unwrap_or_else(|e| panic!("applying {} {}: {e}", types.kind, object.name_any()));
    }
    // The CRD is served once Established.
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    let established = kube::runtime::wait::conditions::is_crd_established();
    tokio::time::timeout(
        WAIT,
        kube::runtime::wait::await_condition(crds, "functions.motif.dev", established),
    )
    .await
    .expect("the Function CRD becomes Established")
    .unwrap();
}

/// A Function from the text of a `motif.toml`.
fn function(toml: &str) -> Function {
    let file = FunctionFile::parse(toml, "motif.toml".as_ref()).expect("valid motif.toml");
    Function::new(&file.name, file.spec)
}

/// Starts the controller on one namespace as the restricted service account; it stops
/// when the returned sender is dropped.
async fn start_controller(cluster: &Cluster, namespace: &str) -> oneshot::Sender<()> {
    let (stop, stopped) = oneshot::channel::<()>();
    let client = cluster.controller_client().await;
    let options = Options {
        namespace: Some(namespace.to_owned()),
        builder_image: BUILDER.into(),
    };
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(e) = run(client, options, shutdown).await {
            panic!("the controller failed: {e}");
        }
    });
    stop
}

/// Polls `probe` until it returns `Some`, for up to [`WAIT`].
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn apply_function(api: &Api<Function>, f: &Function) -> Function {
    api.patch(
        &f.name_any(),
        &PatchParams::apply("motif").force(),
        &Patch::Apply(f),
    )
    .await
    .expect("the Function is accepted")
}

/// Plays Knative Serving: the Service's Ready condition (and URL when ready).
async fn set_service_ready(
    api: &Api<KnativeService>,
    name: &str,
    status: &str,
    reason: &str,
    message: &str,
) {
    let service = api.get(name).await.unwrap();
    let mut body = json!({
        "observedGeneration": service.metadata.generation,
        "conditions": [{ "type": "Ready", "status": status, "reason": reason, "message": message }],
    });
    if status == "True" {
        body["url"] = json!(format!("http://{name}.example.com"));
        body["latestReadyRevisionName"] = json!(format!("{name}-00001"));
    }
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": body })),
    )
    .await
    .unwrap();
}

/// Plays Knative Eventing: a Trigger's Ready condition.
async fn set_trigger_ready(api: &Api<Trigger>, name: &str) {
    let status = json!({ "status": { "conditions": [{ "type": "Ready", "status": "True" }] } });
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(status))
        .await
        .unwrap();
}

fn ready_of(f: &Function) -> Option<(String, Option<String>, Option<String>)> {
    let status = f.status.as_ref()?;
    if status.observed_generation != f.metadata.generation {
        return None;
    }
    let c = status.condition("Ready")?;
    Some((c.status.clone(), c.reason.clone(), c.message.clone()))
}

async fn trigger_names(api: &Api<Trigger>, function: &str) -> Vec<String> {
    let list = api
        .list(&ListParams::default().labels(&format!("{FUNCTION_LABEL}={function}")))
        .await
        .unwrap();
    let mut names: Vec<_> = list.iter().map(ResourceExt::name_any).collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_controller_creates_updates_and_deletes_children_and_reports_status() {
    let Some(cluster) = cluster() else { return };
    let admin = cluster.client().await;
    install(&admin).await;
    let ns = cluster.namespace("reconcile").await;
    let _controller = start_controller(cluster, &ns).await;
    let functions: Api<Function> = Api::namespaced(admin.clone(), &ns);
    let services: Api<KnativeService> = Api::namespaced(admin.clone(), &ns);
    let triggers: Api<Trigger> = Api::namespaced(admin.clone(), &ns);

    let toml = format!(
        "name = \"orders\"\nlanguage = \"rust-wasm\"\nkind = \"cloudevent\"\ntimeoutSeconds = 30\n\
         scale = {{ min = 1, max = 4 }}\n\
         [[subscriptions]]\nfilters = [{{ prefix = {{ type = \"order.\" }} }}]\n\
         [[subscriptions]]\nname = \"audit\"\nfilter = {{ attributes = {{ type = \"audit\" }} }}\n\
         [artifact]\nimage = \"{IMAGE}\"\n"
    );
    let mut f = function(&toml);
    f.metadata.labels = Some(BTreeMap::from([("team".into(), "shop".into())]));
    let created = apply_function(&functions, &f).await;
    let uid = created.metadata.uid.clone().unwrap();

    // The children appear, owned by the Function and labelled.
    let service = eventually("the Service", || async {
        services.get_opt("orders").await.unwrap()
    })
    .await;
    let owner = &service.owner_references()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("Function", uid.as_str(), Some(true))
    );
    assert_eq!(
        service.labels().get("team").map(String::as_str),
        Some("shop")
    );
    let template = &service.spec.template;
    assert_eq!(template.spec.timeout_seconds, Some(30));
    assert_eq!(
        template
            .metadata
            .annotations
            .get("autoscaling.knative.dev/min-scale")
            .map(String::as_str),
        Some("1")
    );
    eventually("two Triggers", || async {
        (trigger_names(&triggers, "orders").await == ["orders-audit", "orders-default-1"])
            .then_some(())
    })
    .await;

    // Until Knative reports, the Function is not ready, and says what it waits for.
    let (status, reason, message) = eventually("a first status", || async {
        ready_of(&functions.get("orders").await.unwrap())
    })
    .await;
    assert_eq!(
        (status.as_str(), reason.as_deref()),
        ("Unknown", Some("Deploying")),
        "{message:?}"
    );

    // Knative makes everything ready: so is the Function, with the Service's URL.
    set_service_ready(&services, "orders", "True", "", "").await;
    for name in ["orders-audit", "orders-default-1"] {
        set_trigger_ready(&triggers, name).await;
    }
    let ready = eventually("Ready=True", || async {
        let f = functions.get("orders").await.unwrap();
        (ready_of(&f)?.0 == "True").then_some(f)
    })
    .await;
    let status = ready.status.unwrap();
    assert_eq!(status.url.as_deref(), Some("http://orders.example.com"));
    assert_eq!(
        status.latest_ready_revision.as_deref(),
        Some("orders-00001")
    );

    // An update: a new timeout, one subscription fewer. The template follows, the
    // Trigger no longer wanted goes, and the status follows the new generation.
    let mut updated = function(&toml.replace("timeoutSeconds = 30", "timeoutSeconds = 45").replace(
        "[[subscriptions]]\nname = \"audit\"\nfilter = { attributes = { type = \"audit\" } }\n",
        "",
    ));
    updated.metadata.labels = f.metadata.labels.clone();
    let updated = apply_function(&functions, &updated).await;
    eventually("the new timeout", || async {
        let s = services.get("orders").await.unwrap();
        (s.spec.template.spec.timeout_seconds == Some(45)).then_some(())
    })
    .await;
    eventually("the pruned Trigger", || async {
        (trigger_names(&triggers, "orders").await == ["orders-default-1"]).then_some(())
    })
    .await;
    let generation = updated.metadata.generation;
    eventually("observedGeneration", || async {
        let f = functions.get("orders").await.unwrap();
        (f.status?.observed_generation == generation).then_some(())
    })
    .await;

    // Knative fails the new revision: the Function fails with its reason and message.
    set_service_ready(
        &services,
        "orders",
        "False",
        "RevisionFailed",
        "Back-off pulling image",
    )
    .await;
    let (status, reason, message) = eventually("Ready=False", || async {
        let r = ready_of(&functions.get("orders").await.unwrap())?;
        (r.0 == "False").then_some(r)
    })
    .await;
    assert_eq!(
        (status.as_str(), reason.as_deref(), message.as_deref()),
        (
            "False",
            Some("RevisionFailed"),
            Some("Back-off pulling image")
        )
    );

    // In place, nothing churns: the Service is not rewritten again and again.
    let before = services.get("orders").await.unwrap().resource_version();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        services.get("orders").await.unwrap().resource_version(),
        before
    );
}

#[tokio::test]
async fn a_function_that_does_not_compile_is_reported_and_has_no_children() {
    let Some(cluster) = cluster() else { return };
    let admin = cluster.client().await;
    install(&admin).await;
    let ns = cluster.namespace("invalid").await;
    let _controller = start_controller(cluster, &ns).await;
    let functions: Api<Function> = Api::namespaced(admin.clone(), &ns);
    let services: Api<KnativeService> = Api::namespaced(admin, &ns);

    // The CRD's schema cannot say "min at most max": the controller does.
    let mut f = function(&format!(
        "name = \"scaled\"\nlanguage = \"js\"\n[artifact]\nimage = \"{IMAGE}\"\n"
    ));
    f.spec.scale.min = Some(5);
    f.spec.scale.max = Some(2);
    apply_function(&functions, &f).await;
    let (_, reason, message) = eventually("Ready=False", || async {
        ready_of(&functions.get("scaled").await.unwrap())
    })
    .await;
    assert_eq!(reason.as_deref(), Some("InvalidSpec"));
    assert!(message.unwrap().contains("scale.min"));

    let unbuilt = function("name = \"unbuilt\"\nlanguage = \"js\"\n");
    apply_function(&functions, &unbuilt).await;
    let (_, reason, message) = eventually("Ready=False", || async {
        ready_of(&functions.get("unbuilt").await.unwrap())
    })
    .await;
    assert_eq!(reason.as_deref(), Some("NoImage"));
    assert!(message.unwrap().contains("motif build --push"));
    assert!(services.get_opt("scaled").await.unwrap().is_none());
    assert!(services.get_opt("unbuilt").await.unwrap().is_none());
}

#[tokio::test]
async fn the_crd_schema_rejects_invalid_functions_with_useful_messages() {
    let Some(cluster) = cluster() else { return };
    let admin = cluster.client().await;
    install(&admin).await;
    let ns = cluster.namespace("schema").await;
    let api: Api<DynamicObject> = Api::namespaced_with(
        admin,
        &ns,
        &kube::discovery::ApiResource::erase::<Function>(&()),
    );
    let cases = [
        (json!({ "language": "cobol" }), "spec.language"),
        (
            json!({ "language": "js", "timeoutSeconds": "soon" }),
            "spec.timeoutSeconds",
        ),
        (
            json!({ "language": "js", "scale": { "min": -1 } }),
            "spec.scale.min",
        ),
        (
            json!({ "language": "js", "traffic": [{ "tag": "a" }] }),
            "percent",
        ),
        (
            json!({ "language": "js", "subscriptions": [{ "filters": ["type"] }] }),
            "spec.subscriptions",
        ),
    ];
    for (spec, field) in cases {
        let object = json!({
            "apiVersion": "motif.dev/v1alpha1",
            "kind": "Function",
            "metadata": { "name": "bad" },
            "spec": spec,
        });
        let object: DynamicObject = serde_json::from_value(object).unwrap();
        let err = api
            .patch(
                "bad",
                &PatchParams::apply("motif-test"),
                &Patch::Apply(&object),
            )
            .await
            .expect_err(&format!("accepted: {spec}"));
        let kube::Error::Api(status) = err else {
            panic!("{err}")
        };
        // Kubernetes 1.20 answers a type error in an apply patch with 500 ("failed to
        // create typed patch object"), newer ones with 422; both name the field.
        assert!(
            [422, 500].contains(&status.code),
            "{spec}: {}",
            status.message
        );
        assert!(status.message.contains(field), "{spec}: {}", status.message);
    }
}

/// Every object the compiler makes, for a matrix of specs, passes the real Knative
/// schemas through server-side apply.
#[tokio::test]
async fn compiled_objects_are_accepted_by_the_knative_schemas() {
    let Some(cluster) = cluster() else { return };
    let admin = cluster.client().await;
    let ns = cluster.namespace("schemas").await;
    let services: Api<KnativeService> = Api::namespaced(admin.clone(), &ns);
    let triggers: Api<Trigger> = Api::namespaced(admin, &ns);
    let specs = [
        "name = \"minimal\"\nlanguage = \"rust\"\n".to_owned(),
        "name = \"full\"\nlanguage = \"python\"\ntimeoutSeconds = 600\nconcurrency = 10\n\
         visibility = \"cluster-local\"\nenv = { A = \"1\" }\n\
         envFrom = [{ secret = \"s\" }, { configMap = \"c\" }]\n\
         scale = { min = 0, max = 3, target = 5 }\n\
         resources = { requests = { cpu = \"100m\", memory = \"64Mi\" }, limits = { cpu = \"1\", memory = \"1Gi\" } }\n\
         traffic = [{ revision = \"full-00001\", percent = 25, tag = \"old\" }, { percent = 75 }]\n"
            .to_owned(),
        "name = \"events\"\nlanguage = \"c-wasm\"\nkind = \"cloudevent\"\n\
         [[subscriptions]]\nfilter = { attributes = { type = \"a\", source = \"\" } }\n\
         [[subscriptions]]\nname = \"nested\"\nbroker = \"other\"\n\
         filters = [{ any = [{ exact = { type = \"a\" } }, { not = { suffix = { subject = \"x\" } } }] }, { cesql = \"type LIKE 'a%'\" }]\n\
         delivery = { retry = 3, backoffPolicy = \"linear\", backoffDelay = \"PT1S\", timeout = \"PT5S\", deadLetterSink = { function = \"dlq\" } }\n\
         [[subscriptions]]\ndelivery = { deadLetterSink = { uri = \"http://sink.example.com/\" } }\n"
            .to_owned(),
    ];
    let apply = PatchParams::apply("motif-test").force();
    for toml in specs {
        let mut f = function(&format!("{toml}[artifact]\nimage = \"{IMAGE}\"\n"));
        f.metadata.namespace = Some(ns.clone());
        let compiled = compile(&f).unwrap();
        let service = &compiled.service;
        let applied = services
            .patch(&service.name_any(), &apply, &Patch::Apply(service))
            .await
            .unwrap_or_else(|e| panic!("Service {}: {e}", service.name_any()));
        // What went in is what is stored: nothing was pruned as unknown by the schema.
        assert_eq!(applied.spec, service.spec, "{}", service.name_any());
        for trigger in &compiled.triggers {
            let applied = triggers
                .patch(&trigger.name_any(), &apply, &Patch::Apply(trigger))
                .await
                .unwrap_or_else(|e| panic!("Trigger {}: {e}", trigger.name_any()));
            assert_eq!(applied.spec, trigger.spec, "{}", trigger.name_any());
        }
    }
    // And the schemas do check: a Service Knative would refuse is refused.
    let mut bad: Value = serde_json::to_value(
        compile(&function(&format!(
            "name = \"bad\"\nlanguage = \"js\"\n[artifact]\nimage = \"{IMAGE}\"\n"
        )))
        .unwrap()
        .service,
    )
    .unwrap();
    bad["spec"]["template"]["spec"]["timeoutSeconds"] = json!("thirty");
    let bad: DynamicObject = serde_json::from_value(bad).unwrap();
    let raw: Api<DynamicObject> = Api::namespaced_with(
        cluster.client().await,
        &ns,
        &kube::discovery::ApiResource::erase::<KnativeService>(&()),
    );
    let err = raw
        .patch("bad", &apply, &Patch::Apply(&bad))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("timeoutSeconds"), "{err}");
}

#[tokio::test]
async fn deleting_a_function_leaves_children_to_the_garbage_collector() {
    let Some(cluster) = cluster() else { return };
    let admin = cluster.client().await;
    install(&admin).await;
    let ns = cluster.namespace("delete").await;
    let _controller = start_controller(cluster, &ns).await;
    let functions: Api<Function> = Api::namespaced(admin.clone(), &ns);
    let services: Api<KnativeService> = Api::namespaced(admin, &ns);
    let f = function(&format!(
        "name = \"gone\"\nlanguage = \"ts\"\n[artifact]\nimage = \"{IMAGE}\"\n"
    ));
    let created = apply_function(&functions, &f).await;
    let service = eventually("the Service", || async {
        services.get_opt("gone").await.unwrap()
    })
    .await;
    // Kubernetes' garbage collector (not running here) deletes it through this reference.
    assert_eq!(
        service.owner_references()[0].uid,
        created.metadata.uid.unwrap()
    );
    functions
        .delete("gone", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the Function gone", || async {
        functions
            .get_opt("gone")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

/// Least privilege: what the controller does not use, its account may not do.
#[tokio::test]
async fn the_controller_account_may_do_only_what_the_controller_does() {
    let Some(cluster) = cluster() else { return };
    install(&cluster.client().await).await;
    let ns = cluster.namespace("rbac").await;
    let client = cluster.controller_client().await;
    let forbidden = |result: Result<(), kube::Error>, what: &str| match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("{what}: expected 403, got {other:?}"),
    };
    let services: Api<KnativeService> = Api::namespaced(client.clone(), &ns);
    forbidden(
        services
            .delete("x", &DeleteParams::default())
            .await
            .map(drop),
        "delete a Service",
    );
    forbidden(services.get("x").await.map(drop), "get a Service");
    let functions: Api<Function> = Api::namespaced(client.clone(), &ns);
    let f = function("name = \"x\"\nlanguage = \"js\"\n");
    forbidden(
        functions
            .patch(
                "x",
                &PatchParams::apply("motif-controller"),
                &Patch::Apply(&f),
            )
            .await
            .map(drop),
        "write a Function's spec",
    );
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    forbidden(
        secrets.list(&ListParams::default()).await.map(drop),
        "list Secrets",
    );

    // Builds: Jobs are listed, watched, created and deleted, never read one by one or
    // changed; pods are listed for the builds' reports, and nothing more.
    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns);
    jobs.list(&ListParams::default())
        .await
        .expect("the controller lists Jobs");
    forbidden(jobs.get("x").await.map(drop), "get a Job");
    forbidden(
        jobs.patch("x", &PatchParams::default(), &Patch::Merge(json!({})))
            .await
            .map(drop),
        "patch a Job",
    );
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    pods.list(&ListParams::default())
        .await
        .expect("the controller lists pods");
    forbidden(pods.get("x").await.map(drop), "get a pod");
    forbidden(
        pods.logs("x", &Default::default()).await.map(drop),
        "read a pod's logs",
    );
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": "x" },
        "spec": { "containers": [{ "name": "x", "image": "x" }] },
    }))
    .unwrap();
    forbidden(
        pods.create(&PostParams::default(), &pod).await.map(drop),
        "create a pod",
    );
}

#[tokio::test]
async fn ping_sources_without_their_crd_leave_the_function_not_ready() {
    let Some(cluster) = cluster() else { return };
    let admin = cluster.client().await;
    install(&admin).await;
    let ns = cluster.namespace("sources").await;
    let _controller = start_controller(cluster, &ns).await;
    let functions: Api<Function> = Api::namespaced(admin.clone(), &ns);
    let services: Api<KnativeService> = Api::namespaced(admin, &ns);

    // The test cluster has Knative Serving's and Eventing's Broker and Trigger CRDs,
    // not the PingSource's: the Function says so rather than looking ready.
    let f = function(&format!(
        "name = \"ticker\"\nlanguage = \"js\"\nkind = \"cloudevent\"\n[artifact]\nimage = \"{IMAGE}\"\n\
         [[sources]]\nschedule = \"*/5 * * * *\"\ndata = '{{\"tick\": true}}'\n"
    ));
    apply_function(&functions, &f).await;
    eventually("the Service", || async {
        services.get_opt("ticker").await.unwrap()
    })
    .await;
    set_service_ready(&services, "ticker", "True", "Ready", "").await;
    let (status, _, message) = eventually("Ready with the sources' reason", || async {
        ready_of(&functions.get("ticker").await.unwrap())
            .filter(|(_, reason, _)| reason.as_deref() == Some("SourcesNotInstalled"))
    })
    .await;
    assert_eq!(status, "False");
    assert!(message.unwrap().contains("PingSource"));
}
