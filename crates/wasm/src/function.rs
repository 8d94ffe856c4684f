//! A wasm function loaded from a file: the handler `motif-invoker --wasm` serves.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use http::StatusCode;
use motif_contract::Event;
use motif_runtime::cgi::Output;
use motif_runtime::{Context, Handler, HandlerError, HttpRequest, HttpResponse, Kind};

use crate::cache::Cache;
use crate::detect::{self, Shape};
use crate::{CloudEventFunction, CommandModule, WasmEngine};

/// A function in a wasm file. It is compiled (or loaded from the cache) and
/// pre-instantiated by the init hook, so the server is live at once and ready only
/// once the function can run.
pub struct WasmFunction {
    path: PathBuf,
    wasm: Vec<u8>,
    shape: Shape,
    engine: WasmEngine,
    cache: Cache,
    output: Output,
    max_output: usize,
    loaded: OnceLock<Loaded>,
}

enum Loaded {
    CloudEvent(CloudEventFunction),
    Command(CommandModule),
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
    /// Reads `path` and tells its shape; nothing is compiled yet. `output` and
    /// `max_output` say what a command module's stdout is and how large it may be.
    pub fn open(
        path: &Path,
        engine: WasmEngine,
        cache: Cache,
        output: Output,
        max_output: usize,
    ) -> Result<Self, LoadError> {
        let wasm = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        let shape = detect::shape(&wasm).map_err(|source| LoadError::Shape {
            path: path.to_owned(),
            source,
        })?;
        if shape == Shape::HttpProxy {
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
            output,
            max_output,
            loaded: OnceLock::new(),
        })
    }

    /// The function's kind when its shape decides it; a command module can be either,
    /// and the caller decides (`MOTIF_FUNCTION_KIND`).
    pub fn kind(&self) -> Option<Kind> {
        match self.shape {
            Shape::CloudEvent => Some(Kind::CloudEvent),
            Shape::HttpProxy => Some(Kind::Http),
            Shape::Command => None,
        }
    }

    fn load(&self) -> Result<Loaded, String> {
        let started = std::time::Instant::now();
        let compile_error =
            |e: wasmtime::Error| format!("cannot compile `{}`: {e:#}", self.path.display());
        let link_error =
            |e: wasmtime::Error| format!("cannot link `{}`: {e:#}", self.path.display());
        let engine = self.engine.engine();
        let (function, compiled) = match self.shape {
            Shape::Command => {
                let loaded = self
                    .cache
                    .module(engine, &self.wasm)
                    .map_err(compile_error)?;
                let module = CommandModule::new(
                    &self.engine,
                    &loaded.artifact,
                    self.output.clone(),
                    self.max_output,
                )
                .map_err(link_error)?;
                (Loaded::Command(module), loaded.compiled)
            }
            _ => {
                let loaded = self
                    .cache
                    .component(engine, &self.wasm)
                    .map_err(compile_error)?;
                let function =
                    CloudEventFunction::new(&self.engine, &loaded.artifact).map_err(link_error)?;
                (Loaded::CloudEvent(function), loaded.compiled)
            }
        };
        tracing::info!(
            path = %self.path.display(),
            shape = ?self.shape,
            compiled,
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

    async fn handle_http(
        &self,
        request: HttpRequest,
        cx: Context,
    ) -> Result<HttpResponse, HandlerError> {
        match self.loaded.get() {
            Some(Loaded::Command(m)) => m.handle_http(request, cx).await,
            Some(Loaded::CloudEvent(_)) => {
                Err(HandlerError::new("a cloudevent function takes CloudEvents"))
            }
            None => Err(not_loaded()),
        }
    }

    async fn handle_event(&self, event: Event, cx: Context) -> Result<Option<Event>, HandlerError> {
        match self.loaded.get() {
            Some(Loaded::CloudEvent(f)) => f.handle_event(event, cx).await,
            Some(Loaded::Command(m)) => m.handle_event(event, cx).await,
            None => Err(not_loaded()),
        }
    }
}

fn not_loaded() -> HandlerError {
    HandlerError::with_status(
        StatusCode::SERVICE_UNAVAILABLE,
        "the function is not loaded yet",
    )
}
