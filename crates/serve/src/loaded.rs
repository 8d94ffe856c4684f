//! The wasm functions loaded in this process: compiled code is shared between every
//! function that runs the same component with the same settings, and the most recently
//! stopped stay loaded for a while, so that a revision that scaled to zero starts again
//! from memory rather than from the compile cache on disk.
//!
//! A loaded [`WasmFunction`] is the component's compiled code mapped from the cache,
//! its linker and its pre-instantiation: the costly part of a wasm instance, and the
//! same for a thousand functions deployed from one component. Each function still gets
//! its own server (its name, limits, metrics), and each request a fresh wasm instance.
//!
//! # Guarantees
//! - Functions that share a loaded component share nothing a request can see: the
//!   component is immutable, and every request instantiates it afresh.
//! - At most `keep` stopped functions stay loaded; older ones are dropped, and a later
//!   start loads them from the disk cache again.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use axum::Router;
use motif_wasm::WasmFunction;

/// What makes two loads the same: the file (an artifact's, named by its digest) and the
/// settings a [`WasmFunction`] is opened with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct LoadKey {
    pub path: PathBuf,
    pub response_type: String,
    pub reply_type: Option<String>,
    pub max_output: usize,
    pub allowed_hosts: String,
}

/// The loaded functions of one server.
pub(crate) struct Loaded {
    live: Mutex<HashMap<LoadKey, Weak<WasmFunction>>>,
    recent: Mutex<VecDeque<(LoadKey, Arc<WasmFunction>)>>,
    keep: usize,
}

impl Loaded {
    /// A registry that keeps the last `keep` stopped functions loaded.
    pub(crate) fn new(keep: usize) -> Arc<Loaded> {
        Arc::new(Loaded {
            live: Mutex::default(),
            recent: Mutex::default(),
            keep,
        })
    }

    /// The function loaded for `key`, or a new one from `open` (loaded by its server's
    /// init hook, once however many servers share it).
    pub(crate) fn get_or_open<E>(
        &self,
        key: &LoadKey,
        open: impl FnOnce() -> Result<WasmFunction, E>,
    ) -> Result<Arc<WasmFunction>, E> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(function) = live.get(key).and_then(Weak::upgrade) {
            return Ok(function);
        }
        let function = Arc::new(open()?);
        // Entries of functions no longer loaded go as new ones come.
        live.retain(|_, function| function.strong_count() > 0);
        live.insert(key.clone(), Arc::downgrade(&function));
        Ok(function)
    }

    /// Keeps `function` loaded after its instance stopped, as one of the last `keep`.
    fn keep(&self, key: LoadKey, function: Arc<WasmFunction>) {
        if self.keep == 0 {
            return;
        }
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.retain(|(k, _)| *k != key);
        recent.push_back((key, function));
        while recent.len() > self.keep {
            recent.pop_front();
        }
    }
}

/// A wasm instance: its server's router, and the loaded function it shares.
pub(crate) struct WasmInstance {
    pub router: Router,
    key: LoadKey,
    function: Option<Arc<WasmFunction>>,
    loaded: Arc<Loaded>,
}

impl WasmInstance {
    pub(crate) fn new(
        router: Router,
        key: LoadKey,
        function: Arc<WasmFunction>,
        loaded: Arc<Loaded>,
    ) -> WasmInstance {
        WasmInstance {
            router,
            key,
            function: Some(function),
            loaded,
        }
    }
}

impl Drop for WasmInstance {
    fn drop(&mut self) {
        if let Some(function) = self.function.take() {
            self.loaded.keep(self.key.clone(), function);
        }
    }
}
