//! A wasm function loaded from a file: the handler `motif-invoker --wasm` serves.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use http::StatusCode;
use motif_contract::Event;
use motif_runtime::{Context, Handler, HandlerError, Kind};

use crate::cache::Cache;
use crate::detect::{self, Shape};
use crate::{CloudEventFunction, WasmEngine};

/// A function in a wasm file. It is compiled (or loaded from the cache) and
/// pre-instantiated by the init hook, so the server is live at once and ready only
/// once the function can run.
pub struct WasmFunction {
    path: PathBuf,
    wasm: Vec<u8>,
    shape: Shape,
    engine: WasmEngine,
    cache: Cache,
    loaded: OnceLock<CloudEventFunction>,
}

/// Why a wasm file cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is not a function of a known shape.
    #[error("`{path}` is not a wasm function")]
    Shape {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: detect::DetectError,
    },
    /// A shape this host does not serve yet.
    #[error(
        "`{path}` is a {shape:?} function, which this host does not serve yet: only `motif:function` cloudevent components are"
    )]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// Its shape.
        shape: Shape,
    },
}

impl WasmFunction {
    /// Reads `path` and tells its shape; nothing is compiled yet.
    pub fn open(path: &Path, engine: WasmEngine, cache: Cache) -> Result<Self, LoadError> {
        let wasm = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        let shape = detect::shape(&wasm).map_err(|source| LoadError::Shape {
            path: path.to_owned(),
            source,
        })?;
        if shape != Shape::CloudEvent {
            return Err(LoadError::Unsupported {
                path: path.to_owned(),
                shape,
            });
        }
        Ok(Self {
            path: path.to_owned(),
            wasm,
            shape,
            engine,
            cache,
            loaded: OnceLock::new(),
        })
    }

    /// The function's kind, from its shape.
    pub fn kind(&self) -> Kind {
        match self.shape {
            Shape::CloudEvent => Kind::CloudEvent,
            Shape::HttpProxy | Shape::Command => Kind::Http,
        }
    }

    fn load(&self) -> Result<CloudEventFunction, String> {
        let started = std::time::Instant::now();
        let loaded = self
            .cache
            .component(self.engine.engine(), &self.wasm)
            .map_err(|e| format!("cannot compile `{}`: {e:#}", self.path.display()))?;
        let function = CloudEventFunction::new(&self.engine, &loaded.artifact)
            .map_err(|e| format!("cannot link `{}`: {e:#}", self.path.display()))?;
        tracing::info!(
            path = %self.path.display(),
            compiled = loaded.compiled,
            pooling = self.engine.is_pooling(),
            millis = started.elapsed().as_millis() as u64,
            "wasm function loaded"
        );
        Ok(function)
    }
}

impl Handler for WasmFunction {
    async fn init(&self) -> Result<(), HandlerError> {
        // Compiling is CPU work that blocks: off the async workers.
        let function = tokio::task::block_in_place(|| self.load()).map_err(HandlerError::new)?;
        let _ = self.loaded.set(function);
        Ok(())
    }

    async fn handle_event(&self, event: Event, cx: Context) -> Result<Option<Event>, HandlerError> {
        match self.loaded.get() {
            Some(f) => f.handle_event(event, cx).await,
            None => Err(HandlerError::with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "the function is not loaded yet",
            )),
        }
    }
}
