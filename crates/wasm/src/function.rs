//! A wasm function loaded from a file: the handler `motif-invoker --wasm` serves.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use http::StatusCode;
use motif_contract::Event;
use motif_runtime::cgi::Output;
use motif_runtime::{Context, Handler, HandlerError, HttpRequest, HttpResponse, Kind};

use crate::cache::Cache;
use crate::detect::{self, Shape};
use crate::{AllowedHosts, CloudEventFunction, CommandModule, HttpProxyFunction, WasmEngine};

/// A function in a wasm file. It is compiled (or loaded from the cache) and
/// pre-instantiated by the init hook, so the server is live at once and ready only
/// once the function can run.
pub struct WasmFunction {
    path: PathBuf,
    /// The file's bytes until they are compiled or found in the cache: a loaded
    /// function does not keep them (a server with many functions would hold them all).
    wasm: std::sync::Mutex<Vec<u8>>,
    shape: Shape,
    engine: WasmEngine,
    cache: Cache,
    output: Output,
    max_output: usize,
    allowed: AllowedHosts,
    loaded: OnceLock<Loaded>,
    /// Held while loading, so that servers sharing the function load it once.
    loading: std::sync::Mutex<()>,
}

enum Loaded {
    CloudEvent(CloudEventFunction),
    Http(HttpProxyFunction),
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
}

impl WasmFunction {
    /// Reads `path` and tells its shape; nothing is compiled yet. `output` says what a
    /// command module's stdout is; `max_output` how large a response may be.
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
        Ok(Self {
            path: path.to_owned(),
            wasm: std::sync::Mutex::new(wasm),
            shape,
            engine,
            cache,
            output,
            max_output,
            allowed: AllowedHosts::none(),
            loaded: OnceLock::new(),
            loading: std::sync::Mutex::new(()),
        })
    }

    /// Lets the function send HTTP requests to `allowed` hosts (none by default).
    pub fn with_allowed_hosts(mut self, allowed: AllowedHosts) -> Self {
        self.allowed = allowed;
        self
    }

    /// Its shape.
    pub fn shape(&self) -> Shape {
        self.shape
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
        let wasm = std::mem::take(
            &mut *self
                .wasm
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if wasm.is_empty() {
            return Err(format!("`{}` is loaded already", self.path.display()));
        }
        let (function, compiled) = match self.shape {
            Shape::Command => {
                let loaded = self.cache.module(engine, &wasm).map_err(compile_error)?;
                let module = CommandModule::new(
                    &self.engine,
                    &loaded.artifact,
                    self.output.clone(),
                    self.max_output,
                )
                .map_err(link_error)?;
                (Loaded::Command(module), loaded.compiled)
            }
            Shape::CloudEvent | Shape::HttpProxy => {
                let loaded = self.cache.component(engine, &wasm).map_err(compile_error)?;
                let function = if self.shape == Shape::CloudEvent {
                    CloudEventFunction::new(&self.engine, &loaded.artifact)
                        .map(|f| Loaded::CloudEvent(f.with_allowed_hosts(self.allowed.clone())))
                } else {
                    HttpProxyFunction::new(&self.engine, &loaded.artifact, self.max_output)
                        .map(|f| Loaded::Http(f.with_allowed_hosts(self.allowed.clone())))
                };
                (function.map_err(link_error)?, loaded.compiled)
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
    /// Loads the function, once: a function shared by several servers (`Arc`) is
    /// loaded by the first to start, and the others find it loaded.
    async fn init(&self) -> Result<(), HandlerError> {
        // Compiling is CPU work that blocks: off the async workers.
        tokio::task::block_in_place(|| {
            let _loading = self
                .loading
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if self.loaded.get().is_none() {
                let function = self.load()?;
                let _ = self.loaded.set(function);
            }
            Ok::<(), String>(())
        })
        .map_err(HandlerError::new)
    }

    async fn handle_http(
        &self,
        request: HttpRequest,
        cx: Context,
    ) -> Result<HttpResponse, HandlerError> {
        match self.loaded.get() {
            Some(Loaded::Http(f)) => f.handle_http(request, cx).await,
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
            Some(Loaded::Http(_)) => Err(HandlerError::new("an http function takes HTTP requests")),
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
