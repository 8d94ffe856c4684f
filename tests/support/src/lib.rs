//! Real parts for motif's tests: a `docker-registry` on loopback ([`Registry`]), images
//! run with umoci and runc ([`Container`]), layers of this machine's binaries and their
//! shared libraries ([`add_host_binaries`]), a kube-apiserver with Knative's CRDs
//! ([`Cluster`]), and small HTTP helpers ([`http`]).
//!
//! It is for integration tests on Linux, as root, with the tools `scripts/test.sh`
//! installs (`docker-registry`, `skopeo`, `umoci`, `runc`, `etcd-server`, and the
//! kube-apiserver `scripts/kube-apiserver.sh` builds). It is not for production code.
//! A missing tool is an error that says what to install, never a silent skip; the one
//! exception is [`Cluster::shared`], whose kube-apiserver takes minutes to build and whose
//! CRDs come from the conformance data beside the workspace: without them it says
//! `skipping:` and returns `None`, unless `MOTIF_REQUIRE_CLUSTER=1`.
//!
//! ```no_run
//! use motif_test_support::{Registry, http};
//!
//! let registry = Registry::start()?;
//! let reference = format!("{}/hello:latest", registry.host());
//! // ... push an image to `reference`, unpack it and run it with `Container::run` ...
//! # let port = 0;
//! let reply = http::request("POST", &format!("127.0.0.1:{port}"), "/", b"hi")?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod binaries;
mod cluster;
mod container;
pub mod http;
mod registry;
mod tools;

pub use binaries::{add_host_binaries, motif_invoker, strip_debug, wasm_guest};
pub use cluster::{Cluster, finish_job};
pub use container::Container;
pub use motif_build::libraries::shared_libraries;
pub use registry::Registry;
pub use tools::{require_tool, run_tool};
