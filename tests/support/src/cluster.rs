//! A real Kubernetes API server with Knative's CRDs installed: kube-apiserver 1.20 on etcd,
//! on loopback, one per test binary (as controller-runtime's envtest).
//!
//! # Guarantees
//! - The Knative Serving and Eventing CRDs (the upstream YAMLs in the conformance data)
//!   are installed and Established before [`Cluster::shared`] returns, so the apiserver
//!   validates Knative objects against their real OpenAPI schemas.
//! - Authorization is RBAC: [`Cluster::client`] is an admin (`system:masters`);
//!   [`Cluster::controller_client`] is the service account
//!   `motif-system:motif-controller`, which may do nothing RBAC does not grant it.
//! - The servers stop when the test process exits, however it exits: the process holds
//!   the only write end of `scripts/envtest.sh serve`'s stdin, and the script stops them
//!   on EOF. (Not `PR_SET_PDEATHSIG`: it fires when the *thread* that spawned the child
//!   ends, and tests run on many threads.)
//!
//! # Caveats
//! - No controller-manager, scheduler or kubelet: no garbage collection, no namespace
//!   deletion, no pods. Knative's controllers and webhooks do not run either, so nothing
//!   is defaulted, and only the CRDs' schemas validate.
//! - Kubernetes 1.20 has no CEL validation rules; k8s-openapi's types are for 1.33, whose
//!   JSON matches for the resources the tests use.
//! - Objects outlive the test that made them: give each test its own
//!   [`Cluster::namespace`].

use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{await_condition, conditions};

use crate::tools::require_tool;

mod jobs;

pub use jobs::finish_job;

/// The kube-apiserver release `scripts/kube-apiserver.sh` builds.
const KUBE_VERSION: &str = "1.20.2";

/// The field manager of everything the support applies.
const FIELD_MANAGER: &str = "motif-test";

/// How long a CRD may take to become Established (it takes ~15 ms when idle).
const ESTABLISHED_TIMEOUT: Duration = Duration::from_secs(30);

/// A running kube-apiserver and etcd, stopped when the test process exits.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    /// `envtest.sh serve` itself: never waited for, it outlives the statics.
    _script: Child,
    /// The write end of the script's stdin: closed by the kernel at process exit, which
    /// tells the script to stop the servers.
    _stdin: ChildStdin,
    /// Kept open so that the script can never fail on a closed stdout.
    _stdout: BufReader<ChildStdout>,
}

impl Cluster {
    /// The test binary's cluster, started on first use (~5 s) and shared by its tests.
    ///
    /// Returns `None`, after a `skipping:` notice on stderr, when the kube-apiserver
    /// binary (`$MOTIF_KUBE_APISERVER`, else what `scripts/kube-apiserver.sh` caches),
    /// etcd or the Knative CRDs (`$MOTIF_CONFORMANCE_DIR/knative-crds`, else
    /// `../shared/conformance/knative-crds` beside the workspace) are missing.
    ///
    /// # Panics
    /// When they are missing and `MOTIF_REQUIRE_CLUSTER=1` (as `scripts/test.sh` sets),
    /// and when the cluster does not start or a CRD does not install; every later call
    /// panics with the same message.
    pub fn shared() -> Option<&'static Cluster> {
        static CLUSTER: OnceLock<Result<Option<Cluster>, String>> = OnceLock::new();
        match CLUSTER.get_or_init(start) {
            Ok(cluster) => cluster.as_ref(),
            Err(message) => panic!("{message}"),
        }
    }

    /// The admin's kubeconfig (`system:masters`, namespace `default`).
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// The kubeconfig of the service account `motif-system:motif-controller` (groups
    /// `system:serviceaccounts` and `system:serviceaccounts:motif-system`), which has no
    /// rights unless RBAC grants them.
    pub fn controller_kubeconfig(&self) -> PathBuf {
        self.dir.join("controller.kubeconfig")
    }

    /// The directory of etcd's data, the certificates, tokens, logs and kubeconfigs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new admin client. Each call builds one because each `#[tokio::test]` has its
    /// own runtime, and a client's connections belong to the runtime that made them.
    ///
    /// # Panics
    /// When the kubeconfig cannot be read or the client cannot be built.
    pub async fn client(&self) -> kube::Client {
        client_from(&self.kubeconfig()).await
    }

    /// A new client as the service account `motif-system:motif-controller`.
    ///
    /// # Panics
    /// When the kubeconfig cannot be read or the client cannot be built.
    pub async fn controller_client(&self) -> kube::Client {
        client_from(&self.controller_kubeconfig()).await
    }

    /// Creates a namespace named `<prefix>-<random suffix>` and returns its name. Nothing
    /// deletes namespaces (there is no namespace controller): they go with the cluster.
    ///
    /// # Panics
    /// When the apiserver refuses it, e.g. for a prefix that is not a DNS label.
    pub async fn namespace(&self, prefix: &str) -> String {
        let api = Api::<Namespace>::all(self.client().await);
        let mut namespace = Namespace::default();
        namespace.metadata.generate_name = Some(format!("{prefix}-"));
        let created = api
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|e| panic!("creating a namespace `{prefix}-...`: {e}"));
        created
            .metadata
            .name
            .expect("the apiserver names a namespace made with generateName")
    }
}

/// Where the pieces are, or why they are not there.
struct Prerequisites {
    apiserver: PathBuf,
    crds: PathBuf,
}

fn start() -> Result<Option<Cluster>, String> {
    let prerequisites = match prerequisites() {
        Ok(found) => found,
        Err(missing) if std::env::var_os("MOTIF_REQUIRE_CLUSTER").is_some_and(|v| v == "1") => {
            return Err(format!(
                "MOTIF_REQUIRE_CLUSTER=1 but the tests' Kubernetes cluster cannot start: \
                 {missing}"
            ));
        }
        Err(missing) => {
            // Straight to stderr: libtest captures `eprintln!` of passing tests.
            let _ = writeln!(
                io::stderr(),
                "skipping: the tests that need a Kubernetes cluster: {missing}"
            );
            return Ok(None);
        }
    };
    let cluster = serve(&prerequisites.apiserver)?;
    // The caller may be on a test's runtime, which must not block on another one.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot make a tokio runtime: {e}"))?
                    .block_on(install_crds(&cluster, &prerequisites.crds))
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    Ok(Some(cluster))
}

fn prerequisites() -> Result<Prerequisites, String> {
    let apiserver = match std::env::var_os("MOTIF_KUBE_APISERVER") {
        Some(path) => PathBuf::from(path),
        None => std::env::var_os("MOTIF_TEST_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/motif-test"))
            })
            .unwrap_or_default()
            .join(format!("kube-apiserver-v{KUBE_VERSION}")),
    };
    if !apiserver.is_file() {
        return Err(format!(
            "no kube-apiserver at `{}`: run scripts/kube-apiserver.sh (it builds one in \
             ~4 min, cached) or set MOTIF_KUBE_APISERVER",
            apiserver.display()
        ));
    }
    require_tool("etcd", "etcd-server").map_err(|e| e.to_string())?;
    let crds = match std::env::var_os("MOTIF_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace().join("../shared/conformance"),
    }
    .join("knative-crds");
    if !crds.is_dir() {
        return Err(format!(
            "no Knative CRDs at `{}` (set MOTIF_CONFORMANCE_DIR)",
            crds.display()
        ));
    }
    Ok(Prerequisites { apiserver, crds })
}

/// Starts `scripts/envtest.sh serve` in a new directory and waits for its `KUBECONFIG=`
/// line, which it prints once `/readyz` is ok.
fn serve(apiserver: &Path) -> Result<Cluster, String> {
    let script = workspace().join("scripts/envtest.sh");
    let base = target_tmp();
    let dir = std::fs::create_dir_all(&base)
        .and_then(|()| {
            tempfile::Builder::new()
                .prefix("motif-cluster-")
                .tempdir_in(&base)
        })
        .map_err(|e| {
            format!(
                "cannot make a directory for the cluster in `{}`: {e}",
                base.display()
            )
        })?
        // The script removes etcd's data when it stops; the logs stay for a post-mortem.
        .keep();
    let mut child = Command::new("bash")
        .arg(&script)
        .arg("serve")
        .arg(&dir)
        .env("MOTIF_KUBE_APISERVER", apiserver)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run `bash {}`: {e}", script.display()))?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    let read = stdout.read_line(&mut line);
    let expected = format!("KUBECONFIG={}", dir.join("kubeconfig").display());
    if !matches!(read, Ok(n) if n > 0) || line.trim_end() != expected {
        drop(stdin);
        let status = child
            .wait()
            .map_or_else(|e| e.to_string(), |s| s.to_string());
        return Err(format!(
            "`bash {} serve {}` did not start a cluster ({status}; it printed {line:?}); \
             its error and the servers' logs are on stderr above",
            script.display(),
            dir.display()
        ));
    }
    Ok(Cluster {
        dir,
        _script: child,
        _stdin: stdin,
        _stdout: stdout,
    })
}

/// Applies every `CustomResourceDefinition` in the YAML files under `dir` (server-side,
/// as [`FIELD_MANAGER`]) and waits until each is Established.
async fn install_crds(cluster: &Cluster, dir: &Path) -> Result<(), String> {
    let api = Api::<CustomResourceDefinition>::all(cluster.client().await);
    let mut names = Vec::new();
    for file in yaml_files(dir).map_err(|e| format!("cannot list `{}`: {e}", dir.display()))? {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
        for document in serde_yaml::Deserializer::from_str(&text) {
            let object: serde_json::Value = serde::Deserialize::deserialize(document)
                .map_err(|e| format!("`{}` is not valid YAML: {e}", file.display()))?;
            if object["kind"] != "CustomResourceDefinition" {
                continue;
            }
            let name = object["metadata"]["name"]
                .as_str()
                .ok_or_else(|| format!("a CRD in `{}` has no name", file.display()))?
                .to_owned();
            api.patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER),
                &Patch::Apply(&object),
            )
            .await
            .map_err(|e| format!("applying the CRD `{name}` from `{}`: {e}", file.display()))?;
            names.push(name);
        }
    }
    if names.is_empty() {
        return Err(format!(
            "no CustomResourceDefinition in `{}`",
            dir.display()
        ));
    }
    for name in &names {
        let established = await_condition(api.clone(), name, conditions::is_crd_established());
        match tokio::time::timeout(ESTABLISHED_TIMEOUT, established).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(format!("waiting for the CRD `{name}`: {e}")),
            Err(_) => {
                return Err(format!(
                    "the CRD `{name}` was not Established within {ESTABLISHED_TIMEOUT:?}"
                ));
            }
        }
    }
    Ok(())
}

/// The `.yaml` and `.yml` files under `dir`, recursively, in a stable order.
fn yaml_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

async fn client_from(kubeconfig: &Path) -> kube::Client {
    // The workspace builds rustls without a default crypto provider; another part of the
    // test may have installed one already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let loaded = Kubeconfig::read_from(kubeconfig)
        .unwrap_or_else(|e| panic!("reading `{}`: {e}", kubeconfig.display()));
    let config = kube::Config::from_custom_kubeconfig(loaded, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("loading `{}`: {e}", kubeconfig.display()));
    kube::Client::try_from(config)
        .unwrap_or_else(|e| panic!("a client from `{}`: {e}", kubeconfig.display()))
}

/// The workspace's root.
fn workspace() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// `<target dir>/tmp`, as cargo's `CARGO_TARGET_TMPDIR`, found from the test binary's
/// path (`<target dir>/<profile>/deps/<binary>`); else the system's temporary directory.
fn target_tmp() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let deps = exe.parent()?;
            (deps.file_name()? == "deps").then(|| deps.parent()?.parent().map(|t| t.join("tmp")))?
        })
        .unwrap_or_else(std::env::temp_dir)
}
