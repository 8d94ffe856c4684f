//! One wasmtime [`Engine`] per process, set up for many short-lived instances.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, UpdateDeadline,
};

/// How often the epoch advances. A guest past its deadline is stopped within one tick;
/// Spin uses the same 10 ms (`wasmtime serve` uses 50 ms).
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Settings for the engine and every instance it runs.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// `MOTIF_MAX_MEMORY`: the most linear memory one instance may grow to, in bytes.
    pub max_memory: usize,
    /// How many instances may live at once: the pool's size, and the number of requests
    /// a function runs concurrently (more wait for a slot).
    pub instances: u32,
}

/// The default instance memory cap: 128 MiB, enough for interpreted guests (Python,
/// JavaScript) with room to spare, small enough that a memory bomb hurts nobody.
pub const DEFAULT_MAX_MEMORY: usize = 128 * 1024 * 1024;

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_memory: DEFAULT_MAX_MEMORY,
            instances: 256,
        }
    }
}

/// The engine and its epoch ticker.
#[derive(Clone)]
pub struct WasmEngine {
    engine: Engine,
    settings: Arc<EngineSettings>,
    pooling: bool,
    /// The pool's slots, shared by every function on this engine: the pool's size is the
    /// engine's, so functions that each counted their own could together overrun it.
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for WasmEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmEngine")
            .field("settings", &self.settings)
            .field("pooling", &self.pooling)
            .finish()
    }
}

impl WasmEngine {
    /// Builds the engine: the component model on, epoch interruption with a ticker
    /// thread, copy-on-write memory images (wasmtime's default), and the pooling
    /// allocator when the address space allows it.
    ///
    /// The pooling allocator reserves virtual memory for every slot up front; where that
    /// fails (a `ulimit -v`, a small address space) the engine falls back to allocating
    /// on demand, which is slower to instantiate but otherwise the same.
    pub fn new(settings: EngineSettings) -> wasmtime::Result<Self> {
        let (engine, pooling) = match Engine::new(&config(&settings, true)) {
            Ok(engine) => (engine, true),
            Err(e) => {
                tracing::warn!("pooling allocator unavailable, allocating on demand: {e:#}");
                (Engine::new(&config(&settings, false))?, false)
            }
        };
        spawn_ticker(&engine);
        Ok(Self {
            engine,
            slots: Arc::new(Semaphore::new(settings.instances as usize)),
            settings: Arc::new(settings),
            pooling,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The settings.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// The slots of the instance pool, shared by every function on this engine: a
    /// request holds one while its instance lives, and waits for one when all are taken.
    pub fn slots(&self) -> Arc<Semaphore> {
        self.slots.clone()
    }

    /// Whether instances come from the pooling allocator.
    pub fn is_pooling(&self) -> bool {
        self.pooling
    }

    /// Arms `store` for a call that must end by `deadline`: at every epoch tick the
    /// guest yields to the async executor, so a guest that computes never holds a
    /// worker thread (the server keeps answering, other requests keep running); past the
    /// deadline it traps with [`wasmtime::Trap::Interrupt`], which callers turn into the
    /// contract's 504.
    pub fn set_deadline<T: 'static>(store: &mut wasmtime::Store<T>, deadline: Instant) {
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });
    }
}

/// What one component instance may hold, in the pooling allocator.
const PER_COMPONENT_CORE_INSTANCES: u32 = 50;
const PER_COMPONENT_MEMORIES: u32 = 10;
const PER_COMPONENT_TABLES: u32 = 20;

fn config(settings: &EngineSettings, pooling: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    if pooling {
        let slots = settings.instances;
        let mut pool = PoolingAllocationConfig::default();
        // A component holds several core instances, memories and tables (a Rust guest
        // one or two, a componentize-py guest a dozen), so the core pools are larger
        // than the component pool, and never smaller than what one component may hold:
        // with one slot (MOTIF_CONCURRENCY=1) a componentize-py guest must still fit.
        pool.total_component_instances(slots)
            .total_core_instances((slots * 8).max(PER_COMPONENT_CORE_INSTANCES))
            .total_memories((slots * 2).max(PER_COMPONENT_MEMORIES))
            .total_tables((slots * 4).max(PER_COMPONENT_TABLES))
            .total_stacks(slots)
            .max_core_instances_per_component(PER_COMPONENT_CORE_INSTANCES)
            .max_memories_per_component(PER_COMPONENT_MEMORIES)
            .max_tables_per_component(PER_COMPONENT_TABLES)
            .max_memory_size(settings.max_memory)
            // Keep the first pages of each memory resident and reset them with memset:
            // cheaper than a page fault per request for small guests.
            .linear_memory_keep_resident(64 * 1024)
            .table_keep_resident(16 * 1024);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until the engine is dropped.
fn spawn_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("motif-wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("the epoch thread starts");
}
