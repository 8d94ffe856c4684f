//! Talking to a registry: which hosts are plain HTTP, the credentials, a client per
//! reference, and registry failures turned into [`Error`]s that say what failed.

use std::error::Error as _;
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::Error;

/// How long connecting to a registry may take before the operation fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Registries (`host[:port]`, exactly as in references) reached over plain HTTP.
    /// Loopback hosts (`localhost`, `127.0.0.1`, `[::1]`, any port) always are.
    pub insecure: Vec<String>,
    /// The user name for HTTP basic auth (or a registry's token service).
    pub username: Option<String>,
    /// The password or token that goes with [`username`](Self::username).
    pub password: Option<String>,
}

impl RegistryOptions {
    /// The options from the environment: `MOTIF_INSECURE_REGISTRIES` (a comma-separated
    /// list of `host[:port]`), and `MOTIF_REGISTRY_USERNAME` with
    /// `MOTIF_REGISTRY_PASSWORD` for credentials (anonymous without both).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            insecure: var("MOTIF_INSECURE_REGISTRIES")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|h| !h.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            username: var("MOTIF_REGISTRY_USERNAME"),
            password: var("MOTIF_REGISTRY_PASSWORD"),
        }
    }

    pub(crate) fn auth(&self) -> RegistryAuth {
        match (&self.username, &self.password) {
            (Some(user), Some(password)) => RegistryAuth::Basic(user.clone(), password.clone()),
            _ => RegistryAuth::Anonymous,
        }
    }

    /// A client for `reference`'s registry: plain HTTP if it is loopback or listed as
    /// insecure, else HTTPS.
    pub(crate) fn client(&self, reference: &Reference) -> Client {
        // reqwest is built without a default TLS provider: use the ring one the workspace
        // already has. An error means one is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut plain = self.insecure.clone();
        let registry = reference.resolve_registry();
        if is_loopback(registry) {
            plain.push(registry.to_owned());
        }
        Client::new(ClientConfig {
            protocol: ClientProtocol::HttpsExcept(plain),
            // One PUT per blob: the upload every registry accepts, and a body we can
            // count for the progress display.
            use_monolithic_push: true,
            connect_timeout: Some(CONNECT_TIMEOUT),
            platform_resolver: None,
            ..ClientConfig::default()
        })
    }
}

/// Whether `host[:port]` names this machine.
pub(crate) fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        registry.split(':').next().unwrap_or_default()
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Parses an image reference (`HOST/REPO[:TAG][@DIGEST]`).
pub(crate) fn parse_reference(reference: &str) -> Result<Reference, Error> {
    reference
        .parse::<Reference>()
        .map_err(|e| Error::InvalidReference {
            reference: reference.to_owned(),
            reason: e.to_string(),
        })
}

/// Reports how a push goes.
pub trait Progress: Sync {
    /// The push of `what` (the reference) begins; `total_bytes` is the size of every
    /// blob it may send.
    fn start(&self, what: &str, total_bytes: u64);
    /// `bytes` more were sent (or found already in the registry).
    fn advance(&self, bytes: u64);
    /// The push is over, done or failed.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// Turns a failed registry operation into an [`Error`]: a connection refused, a 404, a
/// 401 and a digest mismatch each get their own, the rest says what was being done.
pub(crate) fn registry_error(
    action: &str,
    what: &str,
    reference: &Reference,
    error: OciDistributionError,
) -> Error {
    let reference_text = reference.whole();
    match error {
        OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
            Error::Connect {
                registry: reference.resolve_registry().to_owned(),
                reference: reference_text,
                source: Box::new(e),
            }
        }
        OciDistributionError::RegistryError { ref envelope, .. }
            if envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::BlobUnknown
                        | OciErrorCode::NotFound
                )
            }) =>
        {
            Error::NotFound {
                reference: reference_text,
                what: what.to_owned(),
            }
        }
        OciDistributionError::ServerError { code: 404, .. }
        | OciDistributionError::ImageManifestNotFoundError(_) => Error::NotFound {
            reference: reference_text,
            what: what.to_owned(),
        },
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => Error::Unauthorized {
            reference: reference_text,
            source: Box::new(error),
        },
        OciDistributionError::RegistryError { ref envelope, .. }
            if envelope
                .errors
                .iter()
                .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) =>
        {
            Error::Unauthorized {
                reference: reference_text,
                source: Box::new(error),
            }
        }
        OciDistributionError::DigestError(oci_client::errors::DigestError::VerificationError {
            expected,
            actual,
        }) => Error::DigestMismatch {
            reference: reference_text,
            what: what.to_owned(),
            expected,
            actual,
        },
        other => {
            // reqwest hides "connection refused" a level or two down.
            let connect = std::iter::successors(other.source(), |e| (*e).source())
                .any(|e| e.to_string().contains("Connection refused"));
            if connect {
                Error::Connect {
                    registry: reference.resolve_registry().to_owned(),
                    reference: reference_text,
                    source: Box::new(other),
                }
            } else {
                Error::Registry {
                    action: format!("{action} {what} of"),
                    reference: reference_text,
                    source: Box::new(other),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognized_with_any_port() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:41234",
            "127.1.2.3",
            "[::1]:5000",
            "[::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "registry.internal:5000",
            "10.0.0.1",
            "[fe80::1]:5000",
            "localhost.example",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn a_bad_reference_says_which() {
        let err = parse_reference("127.0.0.1:5000/UPPER:tag")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`127.0.0.1:5000/UPPER:tag`"), "{err}");
    }
}
