//! The FunctionSpec: what a function is, how it is built, and how it runs.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::code::CodeSource;
use crate::source::Source;
use crate::status::FunctionStatus;
use crate::subscription::Subscription;

/// What a function is, how it is built and how it runs. The `spec` of a Function; in
/// `motif.toml` its fields sit beside the function's name.
///
/// On Kubernetes it is the `spec` of the `functions.motif.dev/v1alpha1` custom resource
/// [`Function`] (short name `fn`), whose status the controller writes.
#[derive(
    CustomResource, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema,
)]
#[kube(
    group = "motif.dev",
    version = "v1alpha1",
    kind = "Function",
    namespaced,
    status = "FunctionStatus",
    derive = "PartialEq",
    shortname = "fn",
    category = "motif",
    doc = "A function: a handler, how it is built, and how it runs and is triggered",
    // As JSON: the attribute form repeats `type_ = "string"`, which clippy takes for a
    // duplicated attribute.
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","priority":1,"jsonPath":".status.conditions[?(@.type=='Ready')].reason"}"#,
    printcolumn = r#"{"name":"URL","type":"string","jsonPath":".status.url"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FunctionSpec {
    /// The language the handler is written in; it decides the invoker and the build.
    pub language: Language,
    /// `http` (a request in, a response out) or `cloudevent` (an event in, maybe an event out).
    #[serde(default)]
    pub kind: Kind,
    /// The handler's file, relative to the function's directory [default: the
    /// language's: `src/main.rs`, `index.js`, `src/index.ts`, `func.py`, `handler.c`,
    /// `handler.sh`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// The template the function was created from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateOrigin>,
    /// The code the function is built from (a git repository). With it, and without
    /// `artifact.image`, the cluster builds the function (a Job running the motif
    /// builder) and serves the image it reports (`status.latestImage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<CodeSource>,
    /// How the function is built and where its image goes.
    #[serde(default, skip_serializing_if = "Build::is_empty")]
    pub build: Build,
    /// What was built, by digest: set by `motif build --push`.
    #[serde(default, skip_serializing_if = "Artifact::is_empty")]
    pub artifact: Artifact,
    /// Environment variables of the function's process.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Secrets and config maps whose keys become environment variables (on Kubernetes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFrom>,
    /// CPU and memory the function's container requests and is limited to.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    /// The most seconds a request may take, at every layer (Knative, invoker, wasm
    /// deadline) [default: 300].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// Requests one instance handles at once; 0 means no limit [default: 0].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// How many instances may run.
    #[serde(default, skip_serializing_if = "Scale::is_empty")]
    pub scale: Scale,
    /// Who may call the function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// How requests are split between revisions; empty sends all of them to the latest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traffic: Vec<TrafficTarget>,
    /// The events the function is called with: one Knative Trigger each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<Subscription>,
    /// Events the function's ping sources put into a broker on a schedule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
}

/// The request timeout when a spec sets none, in seconds (Knative's default).
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 300;

impl FunctionSpec {
    /// The one request timeout of every layer: Knative, the invoker, the wasm deadline.
    pub fn timeout(&self) -> u32 {
        self.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS)
    }

    /// The environment a function's invoker runs with, the same on every target: the
    /// function's name and kind, its timeout and concurrency (`MOTIF_TIMEOUT`,
    /// `MOTIF_CONCURRENCY`, so that the invoker enforces what Knative is told), then the
    /// spec's `env`, which may override any of them.
    pub fn runtime_env(&self, name: &str) -> Vec<(String, String)> {
        let mut env = vec![
            ("MOTIF_FUNCTION_NAME".to_owned(), name.to_owned()),
            (
                "MOTIF_FUNCTION_KIND".to_owned(),
                self.kind.as_str().to_owned(),
            ),
            ("MOTIF_TIMEOUT".to_owned(), self.timeout().to_string()),
        ];
        if let Some(concurrency) = self.concurrency {
            env.push(("MOTIF_CONCURRENCY".into(), concurrency.to_string()));
        }
        for (key, value) in &self.env {
            env.retain(|(k, _)| k != key);
            env.push((key.clone(), value.clone()));
        }
        env
    }
}

/// A source of environment variables: every key of one secret or config map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvFrom {
    /// The name of a Secret in the function's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The name of a ConfigMap in the function's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
}

/// CPU and memory for a function's container, as Kubernetes quantities.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// What the container is guaranteed.
    #[serde(default, skip_serializing_if = "ResourceList::is_empty")]
    pub requests: ResourceList,
    /// The most the container may use.
    #[serde(default, skip_serializing_if = "ResourceList::is_empty")]
    pub limits: ResourceList,
}

impl Resources {
    fn is_empty(&self) -> bool {
        *self == Resources::default()
    }
}

/// Amounts of CPU and memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceList {
    /// CPU, in cores or millicores (`500m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Memory, in bytes with a unit (`128Mi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

impl ResourceList {
    /// Whether no amount is set.
    pub fn is_empty(&self) -> bool {
        *self == ResourceList::default()
    }
}

/// A share of a function's requests, sent to one revision or to the latest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrafficTarget {
    /// The revision (`NAME-00001`); without it, the latest ready revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The percentage of requests, 0 to 100; the targets' percentages sum to 100.
    pub percent: u32,
    /// A name that also routes to this target alone (`TAG-NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// The language of a function's handler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    /// Rust, built natively: a static binary serving the handler (`motif-function`).
    #[default]
    Rust,
    /// Rust, built for wasm32-wasip2: a component run by `motif-invoker --wasm`.
    RustWasm,
    /// JavaScript on Node.js, served by the Node invoker.
    Js,
    /// TypeScript, compiled to JavaScript with `tsc`, then as `js`.
    Ts,
    /// Python, served by the Python invoker.
    Python,
    /// Python built into a component with componentize-py.
    PythonWasm,
    /// C built with clang for wasm32-wasi: a WASI command in the wasm sandbox.
    CWasm,
    /// Any executable, one process per request (`motif-invoker --command`).
    Command,
}

impl Language {
    /// Every language, in the order `--help` lists them.
    pub const ALL: [Language; 8] = [
        Language::Rust,
        Language::RustWasm,
        Language::Js,
        Language::Ts,
        Language::Python,
        Language::PythonWasm,
        Language::CWasm,
        Language::Command,
    ];

    /// The name used in `motif.toml`, on the command line and as the template folder.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::RustWasm => "rust-wasm",
            Language::Js => "js",
            Language::Ts => "ts",
            Language::Python => "python",
            Language::PythonWasm => "python-wasm",
            Language::CWasm => "c-wasm",
            Language::Command => "command",
        }
    }

    /// Whether the function builds to a WebAssembly component or module.
    pub fn is_wasm(self) -> bool {
        matches!(
            self,
            Language::RustWasm | Language::PythonWasm | Language::CWasm
        )
    }

    /// The handler file when `handler` is not set.
    pub fn default_handler(self) -> &'static str {
        match self {
            Language::Rust | Language::RustWasm => "src/main.rs",
            Language::Js => "index.js",
            Language::Ts => "src/index.ts",
            Language::Python | Language::PythonWasm => "func.py",
            Language::CWasm => "handler.c",
            Language::Command => "handler.sh",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Language::ALL.iter().map(|l| l.as_str()).collect();
                format!("unknown language `{s}` (one of: {})", names.join(", "))
            })
    }
}

/// What a function is called with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Plain HTTP: a request in, a response out.
    #[default]
    Http,
    /// A CloudEvent in, maybe a CloudEvent out.
    Cloudevent,
}

impl Kind {
    /// The name used in `motif.toml` and by the invokers (`MOTIF_FUNCTION_KIND`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Cloudevent => "cloudevent",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a function came from: a template of a template repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateOrigin {
    /// The repository: `builtin`, a repository's name, a folder or a git URL (`#ref`).
    pub repository: String,
    /// The template's name within its language (`http`, `cloudevent`, ...).
    pub name: String,
}

/// How a function is built.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Build {
    /// The image the function is pushed to, `HOST/REPO[:TAG]` (without a digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The base image JavaScript, TypeScript, Python and command functions are layered on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// For a cluster build: the Secret (in the Function's namespace, type
    /// `kubernetes.io/basic-auth`, keys `username` and `password`) with the credentials
    /// for pushing `image`. Without it the build pushes anonymously.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_secret: Option<String>,
}

impl Build {
    fn is_empty(&self) -> bool {
        *self == Build::default()
    }
}

/// What a build produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Artifact {
    /// The pushed image, by digest: `HOST/REPO@sha256:...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl Artifact {
    fn is_empty(&self) -> bool {
        *self == Artifact::default()
    }
}

/// How many instances of a function may run (Knative's min/max scale and target).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scale {
    /// Instances kept when idle; 0 allows scaling to zero [default: 0].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    /// The most instances; 0 means no limit [default: 0].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// In-flight requests per instance the autoscaler aims for [default: 100].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<u32>,
}

impl Scale {
    fn is_empty(&self) -> bool {
        *self == Scale::default()
    }
}

/// Who may call a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Visibility {
    /// Reachable from outside the cluster or machine.
    Public,
    /// Reachable only from inside the cluster (or loopback).
    ClusterLocal,
}
