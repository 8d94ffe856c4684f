//! The compilation of Functions to Knative objects, as YAML snapshots over a matrix of
//! specs, and the errors of Functions that must not reach a cluster.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use motif_api::{CompileError, Compiled, Function, FunctionFile, compile};

const IMAGE: &str = "127.0.0.1:5000/fns/hello@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

/// A Function from the text of a `motif.toml`, as `motif deploy` makes it.
fn function(toml: &str, namespace: Option<&str>, uid: Option<&str>) -> Function {
    let file = FunctionFile::parse(toml, "motif.toml".as_ref()).expect("valid motif.toml");
    let mut function = Function::new(&file.name, file.spec);
    function.metadata.namespace = namespace.map(Into::into);
    function.metadata.uid = uid.map(Into::into);
    function
}

/// YAML through JSON values: serde_yaml cannot write nested enums (filters) directly.
fn to_yaml(value: &impl serde::Serialize) -> String {
    serde_yaml::to_string(&serde_json::to_value(value).unwrap()).unwrap()
}

fn yaml(compiled: &Compiled) -> String {
    let mut out = to_yaml(&compiled.service);
    for trigger in &compiled.triggers {
        out.push_str("---\n");
        out.push_str(&to_yaml(trigger));
    }
    for ping in &compiled.ping_sources {
        out.push_str("---\n");
        out.push_str(&to_yaml(ping));
    }
    out
}

fn snapshot(name: &str, function: &Function) {
    let compiled = compile(function).unwrap_or_else(|e| panic!("{name}: {e}"));
    insta::assert_snapshot!(name, yaml(&compiled));
}

#[test]
fn minimal_http_function() {
    let toml = format!("name = \"hello\"\nlanguage = \"rust\"\n[artifact]\nimage = \"{IMAGE}\"\n");
    snapshot("minimal", &function(&toml, None, None));
}

#[test]
fn wasm_function_is_an_ordinary_container() {
    let toml = format!(
        "name = \"wasm-hello\"\nlanguage = \"rust-wasm\"\nkind = \"cloudevent\"\n\
         [artifact]\nimage = \"{IMAGE}\"\n"
    );
    snapshot("wasm", &function(&toml, Some("apps"), None));
}

#[test]
fn every_runtime_setting() {
    let toml = format!(
        r#"
name = "orders"
language = "js"
timeoutSeconds = 30
concurrency = 50
visibility = "cluster-local"
env = {{ GREETING = "hi", MOTIF_LOG = "json" }}
envFrom = [{{ secret = "db-credentials" }}, {{ configMap = "settings" }}]
scale = {{ min = 1, max = 10, target = 20 }}
resources = {{ requests = {{ cpu = "100m", memory = "64Mi" }}, limits = {{ memory = "256Mi" }} }}
traffic = [
  {{ revision = "orders-00001", percent = 90 }},
  {{ percent = 10, tag = "canary" }},
]
[artifact]
image = "{IMAGE}"
"#
    );
    let mut function = function(
        &toml,
        Some("shop"),
        Some("9f3c1c1e-0d5e-4c1a-9e55-1f2a3b4c5d6e"),
    );
    function.metadata.labels = Some(BTreeMap::from([("team".into(), "shop".into())]));
    function.metadata.annotations = Some(BTreeMap::from([
        ("example.com/owner".into(), "ana".into()),
        ("autoscaling.knative.dev/window".into(), "30s".into()),
        (
            "kubectl.kubernetes.io/last-applied-configuration".into(),
            "{}".into(),
        ),
    ]));
    snapshot("full", &function);
}

#[test]
fn subscriptions_become_triggers() {
    let toml = format!(
        r#"
name = "audit"
language = "python"
kind = "cloudevent"

[[subscriptions]]
filter = {{ attributes = {{ type = "order.created", source = "" }} }}

[[subscriptions]]
name = "refunds"
broker = "payments"
filters = [
  {{ prefix = {{ type = "com.example.refund." }} }},
  {{ any = [{{ exact = {{ subject = "eu" }} }}, {{ not = {{ suffix = {{ subject = "-test" }} }} }}] }},
  {{ cesql = "amount > 100 AND currency = 'EUR'" }},
]
delivery = {{ retry = 5, backoffPolicy = "exponential", backoffDelay = "PT0.5S", timeout = "PT10S", deadLetterSink = {{ function = "dead-letters" }} }}

[[subscriptions]]
delivery = {{ retry = 1, deadLetterSink = {{ uri = "https://sink.example.com/dlq" }} }}

[artifact]
image = "{IMAGE}"
"#
    );
    snapshot(
        "subscriptions",
        &function(&toml, Some("shop"), Some("uid-1")),
    );
}

#[test]
fn sources_become_ping_sources_into_their_brokers() {
    let toml = format!(
        r#"
name = "clock"
language = "rust"
kind = "cloudevent"

[[sources]]
schedule = "*/1 * * * *"
data = '{{"hello": "world"}}'

[[sources]]
name = "nightly"
broker = "batch"
schedule = "@daily"
timezone = "+02:00"
data = "run the batch"

[[sources]]
schedule = "30 9 * * MON-FRI"
timezone = "-05:00"
dataBase64 = "AAEC/w=="
contentType = "application/x-ticks"

[[sources]]
schedule = "0 0 1 1 *"
timezone = "UTC"

[artifact]
image = "{IMAGE}"
"#
    );
    snapshot("sources", &function(&toml, Some("ops"), Some("uid-2")));
}

/// Knative's PingSource takes IANA zones: a fixed offset that is not a whole number of
/// hours has none, so it runs under `motif serve` but is refused for a cluster.
#[test]
fn a_half_hour_offset_does_not_compile_for_a_cluster() {
    let toml = format!(
        "name = \"india\"\nlanguage = \"rust\"\n[[sources]]\nschedule = \"@hourly\"\n\
         timezone = \"+05:30\"\n[artifact]\nimage = \"{IMAGE}\"\n"
    );
    let err = compile(&function(&toml, None, None)).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, CompileError::Invalid { .. }), "{text}");
    assert!(text.contains("`sources[0].timezone`"), "{text}");
    assert!(text.contains("whole number of hours"), "{text}");
}

/// motif reads day of week 7 as Sunday (as Vixie cron does); Knative's parser takes 0-6
/// only, so such a schedule is refused for a cluster, where 0 and `*/7` are not.
#[test]
fn day_of_week_seven_does_not_compile_for_a_cluster() {
    let source = |schedule: &str| {
        let toml = format!(
            "name = \"weekly\"\nlanguage = \"rust\"\n[[sources]]\nschedule = \"{schedule}\"\n\
             [artifact]\nimage = \"{IMAGE}\"\n"
        );
        compile(&function(&toml, None, None))
    };
    for schedule in ["0 0 * * 7", "0 0 * * 5-7", "0 0 * * 1,7", "0 0 * * 7/2"] {
        let text = source(schedule).unwrap_err().to_string();
        assert!(text.contains("`sources[0].schedule`"), "{text}");
        assert!(text.contains("0-6"), "{text}");
    }
    for schedule in [
        "0 0 * * 0",
        "0 0 * * */7",
        "7 7 7 7 *",
        "0 0 * * SUN",
        "@weekly",
    ] {
        assert!(source(schedule).is_ok(), "{schedule}");
    }
}

#[test]
fn compiling_twice_gives_the_same_objects() {
    let toml = format!(
        "name = \"same\"\nlanguage = \"ts\"\nscale = {{ min = 2 }}\n\
         [[subscriptions]]\nfilters = [{{ exact = {{ type = \"t\" }} }}]\n\
         [artifact]\nimage = \"{IMAGE}\"\n"
    );
    let f = function(&toml, Some("ns"), Some("u"));
    let (a, b) = (compile(&f).unwrap(), compile(&f).unwrap());
    assert_eq!(yaml(&a), yaml(&b));
    // A new Function object with the same spec (a redeploy) changes nothing either.
    let again = function(&toml, Some("ns"), Some("u"));
    assert_eq!(yaml(&compile(&again).unwrap()), yaml(&a));
}

#[test]
fn rendered_offline_there_is_no_owner() {
    let toml = format!("name = \"hello\"\nlanguage = \"rust\"\n[artifact]\nimage = \"{IMAGE}\"\n");
    let compiled = compile(&function(&toml, None, None)).unwrap();
    assert_eq!(compiled.service.metadata.owner_references, None);
    let owned = compile(&function(&toml, Some("a"), Some("u-1"))).unwrap();
    let owner = &owned.service.metadata.owner_references.unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("Function", "u-1", Some(true))
    );
}

#[test]
fn a_function_without_an_image_says_how_to_get_one() {
    let f = function("name = \"hello\"\nlanguage = \"rust\"\n", None, None);
    let err = compile(&f).unwrap_err();
    assert!(matches!(err, CompileError::NoImage(_)), "{err}");
    assert!(err.hint().unwrap().contains("motif build --push"));
}

#[test]
fn a_function_built_by_the_cluster_runs_its_latest_build() {
    let toml = "name = \"square\"\nlanguage = \"js\"\n\
                [source]\ngit = { url = \"https://example.com/fns.git\", revision = \"v1\" }\n\
                subPath = \"square\"\n[build]\nimage = \"127.0.0.1:5000/square\"\n";
    let mut f = function(toml, Some("a"), Some("u-1"));
    let err = compile(&f).unwrap_err();
    assert!(matches!(err, CompileError::NotBuilt(_)), "{err}");
    assert!(
        err.hint()
            .unwrap()
            .contains("motif function create --cluster")
    );
    let built = format!("127.0.0.1:5000/square@sha256:{}", "a".repeat(64));
    f.status = Some(motif_api::FunctionStatus {
        latest_image: Some(built.clone()),
        ..Default::default()
    });
    let compiled = compile(&f).unwrap();
    let containers = &compiled.service.spec.template.spec.containers;
    assert_eq!(containers[0].image.as_deref(), Some(built.as_str()));
    // An image given in the spec wins over what the cluster built.
    f.spec.artifact.image = Some(IMAGE.into());
    let compiled = compile(&f).unwrap();
    let containers = &compiled.service.spec.template.spec.containers;
    assert_eq!(containers[0].image.as_deref(), Some(IMAGE));
}

/// Specs that parse but must not reach a cluster; each error names its field.
#[test]
fn invalid_functions_are_refused_before_the_cluster() {
    let cases: &[(&str, &str)] = &[
        ("scale = { min = 5, max = 2 }", "scale.min"),
        (
            "source = { git = { url = \"https://h/r.git\" }, subPath = \"../x\" }",
            "source.subPath",
        ),
        ("source = { git = { url = \"\" } }", "source.git.url"),
        (
            "build = { registrySecret = \"Not_A_Name\" }",
            "build.registrySecret",
        ),
        (
            "traffic = [{ revision = \"x-00001\", percent = 50 }, { percent = 40 }]",
            "sum to 90",
        ),
        ("traffic = [{ percent = 150 }, { percent = -50 }]", ""),
        (
            "traffic = [{ percent = 50, tag = \"a\" }, { percent = 50, tag = \"a\" }]",
            "traffic[1].tag",
        ),
        (
            "traffic = [{ percent = 100, tag = \"Not_A_Label\" }]",
            "traffic[0].tag",
        ),
        ("env = { PORT = \"9000\" }", "set by the platform"),
        ("env = { K_SERVICE = \"x\" }", "set by the platform"),
        (
            "envFrom = [{ secret = \"a\", configMap = \"b\" }]",
            "envFrom[0]",
        ),
        (
            "resources = { limits = { memory = \"lots\" } }",
            "resources.limits.memory",
        ),
        (
            "[[subscriptions]]\nfilters = [{ exact = {} }]",
            "subscriptions[0].filters[0]",
        ),
        (
            "[[subscriptions]]\nfilters = [{ all = [] }]",
            "subscriptions[0].filters[0]",
        ),
        (
            "[[subscriptions]]\nfilters = [{ any = [{ prefix = { Type = \"x\" } }] }]",
            "subscriptions[0].filters[0][0]",
        ),
        (
            "[[subscriptions]]\nfilter = { attributes = { \"my-attr\" = \"x\" } }",
            "subscriptions[0].filter.attributes",
        ),
        (
            "[[subscriptions]]\ndelivery = { backoffDelay = \"2s\" }",
            "subscriptions[0].delivery.backoffDelay",
        ),
        (
            "[[subscriptions]]\ndelivery = { deadLetterSink = { function = \"a\", uri = \"http://b\" } }",
            "exactly one",
        ),
        (
            "[[subscriptions]]\ndelivery = { deadLetterSink = { uri = \"/relative\" } }",
            "deadLetterSink.uri",
        ),
        (
            "[[subscriptions]]\nname = \"x\"\n[[subscriptions]]\nname = \"x\"",
            "subscriptions[1].name",
        ),
        (
            "[[subscriptions]]\nbroker = \"Not A Broker\"",
            "subscriptions[0].broker",
        ),
        ("[[sources]]\ndata = \"x\"", "missing field `schedule`"),
        (
            "[[sources]]\nschedule = \"@hourly\"\ncron = \"x\"",
            "unknown field `cron`",
        ),
        (
            "[[sources]]\nschedule = \"61 * * * *\"",
            "`sources[0].schedule`: minute: `61` is out of range",
        ),
        (
            "[[sources]]\nschedule = \"* * *\"",
            "`sources[0].schedule`: `* * *` has 3 fields",
        ),
        (
            "[[sources]]\nschedule = \"@hourly\"\ntimezone = \"Europe/Berlin\"",
            "no time zone database",
        ),
        (
            "[[sources]]\nschedule = \"@hourly\"\ndata = \"a\"\ndataBase64 = \"YQ==\"",
            "`sources[0]`: set at most one of `data` and `dataBase64`",
        ),
        (
            "[[sources]]\nschedule = \"@hourly\"\ndataBase64 = \"not base64\"",
            "`sources[0].dataBase64`",
        ),
        (
            "[[sources]]\nschedule = \"@hourly\"\ndata = \"a\"\ncontentType = \"json\"",
            "`sources[0].contentType`",
        ),
        (
            "[[sources]]\nschedule = \"@hourly\"\nname = \"Tick\"",
            "`sources[0].name`",
        ),
        (
            "[[sources]]\nschedule = \"@hourly\"\nbroker = \"my_broker\"",
            "`sources[0].broker`",
        ),
        (
            "[[sources]]\nschedule = \"@hourly\"\nname = \"ping-1\"\n\
             [[sources]]\nschedule = \"@daily\"",
            "`sources[1].name`: another source is already called `bad-ping-1`",
        ),
    ];
    for (extra, expected) in cases {
        let toml = format!("name = \"bad\"\nlanguage = \"rust\"\n{extra}\n");
        let err = FunctionFile::parse(&toml, "motif.toml".as_ref())
            .expect_err(&format!("accepted: {extra}"));
        let text = format!(
            "{err} {:?}",
            std::error::Error::source(&err).map(|s| s.to_string())
        );
        assert!(text.contains(expected), "{extra}: {text}");
    }
    // A Function that comes from the cluster, not motif.toml, is checked by compile.
    let mut f = Function::new("Bad_Name", Default::default());
    f.spec.artifact.image = Some(IMAGE.into());
    let err = compile(&f).unwrap_err();
    assert!(err.to_string().contains("`name`"), "{err}");
    assert!(matches!(
        compile(&Function {
            metadata: ObjectMeta::default(),
            spec: Default::default(),
            status: None
        }),
        Err(CompileError::NoName)
    ));
}

/// The CRD `motif system install` applies: a change to the spec shows up here.
#[test]
fn the_function_crd() {
    use kube::CustomResourceExt;
    let crd = Function::crd();
    let version = &crd.spec.versions[0];
    assert_eq!(crd.spec.names.short_names, Some(vec!["fn".to_owned()]));
    assert!(version.subresources.as_ref().unwrap().status.is_some());
    let columns: Vec<_> = version
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(columns, ["Ready", "Reason", "URL", "Age"]);
    insta::assert_snapshot!("crd", to_yaml(&crd));
}
