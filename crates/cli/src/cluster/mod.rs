//! The commands that work on a Kubernetes cluster: `motif list`, `describe` and `delete`
//! (and, beside them, `motif deploy --cluster`), `motif system install` and
//! `motif controller`.
//!
//! They all reach the cluster the way `kubectl` does: the current context of the
//! kubeconfig (`KUBECONFIG`, else `~/.kube/config`, else the in-cluster service account),
//! in `--namespace`, else the context's namespace, else `default`. A failure to reach the
//! cluster exits 5; a Function that is not there exits 6; a cluster without motif's CRD
//! says how to install it.

pub mod controller;
pub mod delete;
pub mod describe;
pub mod list;
pub mod system;
pub mod wait;

use std::fmt;

use kube::api::Api;
use kube::core::Status;
use motif_api::Function;
use serde_json::Value;

use crate::error::{CliError, Kind};

/// What to do when the Function CRD is not on the cluster.
pub const INSTALL_HINT: &str =
    "install motif on the cluster: motif system install | kubectl apply -f -";

/// The field manager of what motif applies from the command line.
pub const FIELD_MANAGER: &str = "motif";

/// Where a cluster command works: the flags every one of them takes.
#[derive(Clone, Debug, clap::Args)]
pub struct TargetArgs {
    /// Work on the cluster of the current Kubernetes context (as kubectl: KUBECONFIG,
    /// else ~/.kube/config) instead of motif serve on this machine.
    #[arg(
        long,
        env = "MOTIF_CLUSTER",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub cluster: bool,
    /// The namespace [default: the context's, else `default`].
    #[arg(short, long, env = "MOTIF_NAMESPACE", value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

impl TargetArgs {
    /// The namespace to work in, from the flag, else the kubeconfig's context, else
    /// `default`, reading the kubeconfig but never the network (for `--dry-run`).
    pub async fn offline_namespace(&self) -> String {
        if let Some(namespace) = &self.namespace {
            return namespace.clone();
        }
        match kube::Config::infer().await {
            Ok(config) => config.default_namespace,
            Err(_) => "default".to_owned(),
        }
    }
}

/// A cluster to talk to and the namespace to work in.
pub struct Target {
    /// A client of the current context.
    pub client: kube::Client,
    /// `--namespace`, else the context's, else `default`.
    pub namespace: String,
    /// The API server's URL, for messages.
    pub server: String,
}

impl Target {
    /// Loads the current context (nothing is sent yet).
    pub async fn connect(args: &TargetArgs) -> Result<Target, CliError> {
        let config = kube::Config::infer().await.map_err(|e| {
            // Its source is the kubeconfig's failure, which is the one a user can fix;
            // that there is no in-cluster service account either goes without saying.
            let cause =
                std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
            CliError::new(
                Kind::Network,
                anyhow::anyhow!("{cause}").context("no Kubernetes cluster is configured"),
            )
            .hint(
                "point KUBECONFIG at a kubeconfig (or write ~/.kube/config) and choose a \
                 context with `kubectl config use-context NAME`",
            )
        })?;
        let server = config.cluster_url.to_string();
        let namespace = args
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = kube::Client::try_from(config).map_err(|e| {
            CliError::new(
                Kind::Network,
                anyhow::Error::new(e).context(format!("cannot make a client of `{server}`")),
            )
        })?;
        Ok(Target {
            client,
            namespace,
            server,
        })
    }

    /// The Functions of the target's namespace.
    pub fn functions(&self) -> Api<Function> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Turns an error of the API into the user's: `what` says what was being done
    /// (`applying the Function `hello``).
    pub fn fail(&self, error: kube::Error, what: impl fmt::Display) -> CliError {
        api_error(error, &self.server, &self.namespace, what)
    }

    /// As [`Target::fail`], for a request about the Function `name`, which says so
    /// plainly when there is no such Function (exit code 6).
    pub fn fail_function(&self, error: kube::Error, name: &str, what: &str) -> CliError {
        match &error {
            kube::Error::Api(status) if not_found(status) == Some(NotFound::Object) => {
                CliError::new(
                    Kind::Function,
                    anyhow::anyhow!(
                        "there is no Function `{name}` in namespace `{}`",
                        self.namespace
                    ),
                )
                .hint(format!(
                    "`motif list --cluster --namespace {}` shows the Functions there",
                    self.namespace
                ))
            }
            _ => self.fail(error, format!("{what} the Function `{name}`")),
        }
    }
}

/// What a 404 of the API means.
#[derive(Debug, PartialEq, Eq)]
pub enum NotFound {
    /// The API has no such resource type: the CRD is not installed.
    ResourceType,
    /// The namespace does not exist.
    Namespace,
    /// The object does not exist.
    Object,
}

/// Tells a 404's cause from its `details`: an object's names its kind (`functions`,
/// `namespaces`); a path the API does not serve has none.
pub fn not_found(status: &Status) -> Option<NotFound> {
    if status.code != 404 {
        return None;
    }
    Some(match status.details.as_ref().map(|d| d.kind.as_str()) {
        None | Some("") => NotFound::ResourceType,
        Some("namespaces") => NotFound::Namespace,
        Some(_) => NotFound::Object,
    })
}

/// An error of the Kubernetes API as the user's, with its exit code and a hint.
pub fn api_error(
    error: kube::Error,
    server: &str,
    namespace: &str,
    what: impl fmt::Display,
) -> CliError {
    let what = what.to_string();
    let status = match error {
        kube::Error::Api(status) => status,
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            // The innermost cause says what happened (`Connection refused`); the client's
            // layers above it add nothing a user can act on.
            let root = root_cause(&error);
            let error = anyhow::anyhow!("{root}")
                .context(format!(
                    "cannot reach the Kubernetes API server at `{server}`"
                ))
                .context(what);
            return CliError::new(Kind::Network, error).hint(
                "is the cluster running? `kubectl config current-context` names the context \
                 motif uses (KUBECONFIG honoured)",
            );
        }
        kube::Error::Auth(_) => {
            return CliError::new(
                Kind::Network,
                anyhow::Error::new(error)
                    .context(format!("cannot authenticate to `{server}`"))
                    .context(what),
            )
            .hint("check the credentials of the current context with `kubectl auth whoami`");
        }
        other => return CliError::new(Kind::Other, anyhow::Error::new(other).context(what)),
    };
    let message = if status.message.is_empty() {
        status.reason.clone()
    } else {
        status.message.clone()
    };
    let cause = anyhow::anyhow!("{message}").context(what);
    match (not_found(&status), status.code) {
        (Some(NotFound::ResourceType), _) => CliError::new(
            Kind::Other,
            cause.context("the cluster has no Function resource (functions.motif.dev)"),
        )
        .hint(INSTALL_HINT),
        (Some(NotFound::Namespace), _) => CliError::new(Kind::Input, cause).hint(format!(
            "create it with `kubectl create namespace {namespace}`, or give another --namespace"
        )),
        (Some(NotFound::Object), _) => CliError::new(Kind::Function, cause).hint(format!(
            "`motif list --cluster --namespace {namespace}` shows the Functions there"
        )),
        (None, 401) => CliError::new(Kind::Network, cause)
            .hint("check the credentials of the current context with `kubectl auth whoami`"),
        (None, 403) => CliError::new(Kind::Other, cause).hint(format!(
            "ask for the rights to manage functions.motif.dev in `{namespace}`"
        )),
        (None, 400 | 422) => CliError::new(Kind::Input, cause),
        _ => CliError::new(Kind::Other, cause),
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut root = error;
    while let Some(source) = root.source() {
        root = source;
    }
    root.to_string()
}

/// An object as JSON for printing, without `managedFields` (the apiserver's bookkeeping
/// of who wrote which field, as `kubectl get` leaves it out).
pub fn printable(object: &impl serde::Serialize) -> Value {
    let mut value = serde_json::to_value(object).expect("a Kubernetes object serializes");
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    value
}

/// The `Ready` condition's status (`True`, `False`, `Unknown`), or `-` when none is
/// reported yet.
pub fn ready_status(conditions: &[motif_api::Condition]) -> &str {
    motif_api::knative::ready(conditions).map_or("-", |c| c.status.as_str())
}

/// An age as `kubectl get` shows it: `42s`, `5m10s`, `17m`, `3h`, `4d`.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..120 => format!("{s}s"),
        120..600 if s % 60 != 0 => format!("{}m{}s", s / 60, s % 60),
        120..10_800 => format!("{}m", s / 60),
        10_800..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// The age of an object from its `creationTimestamp`, or `-`.
pub fn object_age(metadata: &kube::api::ObjectMeta) -> String {
    metadata.creation_timestamp.as_ref().map_or_else(
        || "-".to_owned(),
        |created| {
            let now = k8s_openapi::jiff::Timestamp::now();
            age(now.as_second() - created.0.as_second())
        },
    )
}

/// Writes rows as columns two spaces apart (the last column unpadded).
pub fn table(out: &mut dyn std::io::Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A Status as the apiserver sends it with a 404.
    fn status(message: &str, details: Value) -> Status {
        serde_json::from_value(json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": "NotFound", "details": details, "code": 404,
        }))
        .unwrap()
    }

    #[test]
    fn a_404_without_details_is_a_missing_crd_with_the_install_hint() {
        // What kube-apiserver answers for a group it does not serve.
        let missing = status(
            "the server could not find the requested resource",
            json!({}),
        );
        assert_eq!(not_found(&missing), Some(NotFound::ResourceType));
        let error = api_error(
            kube::Error::Api(Box::new(missing)),
            "https://127.0.0.1:6443/",
            "apps",
            "applying the Function `hello`",
        );
        assert_eq!(error.kind, Kind::Other);
        assert_eq!(error.hint.as_deref(), Some(INSTALL_HINT));
        let text = error.to_string();
        assert!(
            text.starts_with("error: the cluster has no Function resource"),
            "{text}"
        );
        assert!(text.contains("applying the Function `hello`"), "{text}");
    }

    #[test]
    fn a_404_naming_the_namespace_or_the_object_is_told_apart() {
        let namespace = status(
            "namespaces \"apps\" not found",
            json!({"name": "apps", "kind": "namespaces"}),
        );
        assert_eq!(not_found(&namespace), Some(NotFound::Namespace));
        let error = api_error(kube::Error::Api(Box::new(namespace)), "s", "apps", "x");
        assert_eq!(error.kind, Kind::Input);
        let object = status(
            "functions.motif.dev \"x\" not found",
            json!({"name": "x", "group": "motif.dev", "kind": "functions"}),
        );
        assert_eq!(not_found(&object), Some(NotFound::Object));
        let error = api_error(kube::Error::Api(Box::new(object)), "s", "apps", "x");
        assert_eq!(error.kind, Kind::Function);
        let mut conflict = status("conflict", json!({}));
        conflict.code = 409;
        assert_eq!(not_found(&conflict), None);
    }

    #[test]
    fn ages_read_as_kubectl_shows_them() {
        assert_eq!(age(-3), "0s");
        assert_eq!(age(42), "42s");
        assert_eq!(age(310), "5m10s");
        assert_eq!(age(300), "5m");
        assert_eq!(age(1020), "17m");
        assert_eq!(age(3 * 3600 + 5), "3h");
        assert_eq!(age(4 * 86_400), "4d");
    }

    #[test]
    fn tables_pad_every_column_but_the_last() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["NAME".into(), "READY".into(), "URL".into()],
            vec!["hello-world".into(), "True".into(), "-".into()],
        ];
        table(&mut out, &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME         READY  URL\nhello-world  True   -\n"
        );
    }
}
