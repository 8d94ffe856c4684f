//! `motif serve` as a whole: the gateway and the admin API on their sockets, the admin
//! token and endpoint files, and the drain on shutdown.

use std::fs;
use std::future::{Future, IntoFuture};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::serving::{ServeError, Serving};
use crate::settings::Settings;
use crate::{admin, gateway};

/// The admin token's file in the state directory.
pub const TOKEN_FILE: &str = "admin-token";
/// The endpoint file in the state directory: where a running server listens.
pub const ENDPOINT_FILE: &str = "serve.json";

/// Where a running `motif serve` listens: what the CLI reads from [`ENDPOINT_FILE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// The gateway.
    pub gateway: SocketAddr,
    /// The admin API (loopback).
    pub admin: SocketAddr,
    /// The server's process id.
    pub pid: u32,
}

impl Endpoints {
    /// Reads the endpoint file and the token of the server using `state_dir`.
    pub fn read(state_dir: &Path) -> io::Result<(Endpoints, String)> {
        let endpoints = fs::read(state_dir.join(ENDPOINT_FILE))?;
        let endpoints = serde_json::from_slice(&endpoints)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let token = fs::read_to_string(state_dir.join(TOKEN_FILE))?;
        Ok((endpoints, token.trim().to_owned()))
    }
}

/// A server with its sockets bound, not yet serving.
pub struct Bound {
    serving: Arc<Serving>,
    gateway: TcpListener,
    admin: TcpListener,
    endpoints: Endpoints,
    state_dir: PathBuf,
    token: String,
}

/// Why `motif serve` could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The state could not be opened.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// A socket could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The admin API must not be reachable from other machines.
    #[error("the admin API listens on loopback only, not on {0}")]
    AdminNotLoopback(SocketAddr),
    /// The token or endpoint file could not be written.
    #[error("cannot write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl Bound {
    /// Opens the state and binds the gateway and admin sockets (port 0 picks a free
    /// one); writes a fresh admin token and the endpoint file.
    pub async fn bind(
        settings: Settings,
        gateway: SocketAddr,
        admin: SocketAddr,
    ) -> Result<Bound, StartError> {
        if !admin.ip().is_loopback() {
            return Err(StartError::AdminNotLoopback(admin));
        }
        let state_dir = settings.state_dir.clone();
        let serving = Serving::open(settings)?;
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })
        };
        let gateway = bind(gateway).await?;
        let admin = bind(admin).await?;
        let local = |l: &TcpListener| {
            l.local_addr().map_err(|source| StartError::Bind {
                addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                source,
            })
        };
        let endpoints = Endpoints {
            gateway: local(&gateway)?,
            admin: local(&admin)?,
            pid: std::process::id(),
        };
        serving.set_gateway(endpoints.gateway);
        let token = new_token().map_err(|source| StartError::Write {
            path: state_dir.join(TOKEN_FILE),
            source,
        })?;
        write_private(&state_dir.join(TOKEN_FILE), format!("{token}\n").as_bytes())?;
        let json = serde_json::to_vec_pretty(&endpoints).expect("endpoints serialise");
        write_private(&state_dir.join(ENDPOINT_FILE), &json)?;
        Ok(Bound {
            serving,
            gateway,
            admin,
            endpoints,
            state_dir,
            token,
        })
    }

    /// Where it listens.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The serving layer, for callers that deploy without the admin API (tests).
    pub fn serving(&self) -> Arc<Serving> {
        self.serving.clone()
    }

    /// Serves until `shutdown` resolves, then drains: the gateway stops accepting and
    /// finishes the requests it has (up to the drain window), the admin API closes,
    /// every instance drains, and the endpoint file is removed.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        let Bound {
            serving,
            gateway,
            admin,
            endpoints,
            state_dir,
            token,
        } = self;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let wait = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let gateway_task = tokio::spawn(
            axum::serve(
                gateway,
                gateway::router(serving.clone())
                    .into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(wait(stopped.clone()))
            .into_future(),
        );
        let admin_task = tokio::spawn(
            axum::serve(admin, admin::router(serving.clone(), token))
                .with_graceful_shutdown(wait(stopped))
                .into_future(),
        );
        tracing::info!(gateway = %endpoints.gateway, admin = %endpoints.admin, "serving");
        shutdown.await;
        tracing::info!("draining");
        let _ = stop.send(true);
        let window = serving.settings().drain;
        if tokio::time::timeout(window, gateway_task).await.is_err() {
            tracing::warn!("the drain window ended with gateway requests in flight");
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), admin_task).await;
        serving.shutdown().await;
        let _ = fs::remove_file(state_dir.join(ENDPOINT_FILE));
        tracing::info!("stopped");
        Ok(())
    }
}

/// 32 random bytes from the kernel, as hex.
fn new_token() -> io::Result<String> {
    let mut bytes = [0u8; 32];
    fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `path` owner-only (`0600`), replacing it whole.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), StartError> {
    let failed = |source| StartError::Write {
        path: path.to_owned(),
        source,
    };
    let staging = path.with_extension("tmp");
    let _ = fs::remove_file(&staging);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&staging)
        .map_err(failed)?;
    file.write_all(contents).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    fs::rename(&staging, path).map_err(failed)
}
