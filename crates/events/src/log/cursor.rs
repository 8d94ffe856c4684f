//! The delivery cursors: each trigger's next offset, saved atomically in a small JSON
//! file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::LogError;
use super::writer::sync_dir;

/// Named offsets into the log (one per trigger: the next record it will deliver),
/// held in memory and saved to a JSON object `{"name": offset}` by [`Cursors::flush`].
///
/// Cheap to clone; clones share the offsets.
///
/// # Guarantees
///
/// A flush replaces the file atomically (a temporary file, fsynced, renamed over it,
/// then the directory fsynced): after a crash the file holds the offsets of the last
/// completed flush, never a mix. Offsets set since are lost, so delivery resumes from
/// an earlier offset and redelivers (at least once).
#[derive(Clone, Debug)]
pub struct Cursors {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    state: Mutex<State>,
    /// Held across a flush, so that two flushes do not share the temporary file.
    flushing: Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    offsets: BTreeMap<String, u64>,
    /// Bumped by every change.
    generation: u64,
    /// The generation the file holds.
    flushed: u64,
}

impl Cursors {
    /// Reads the cursors saved at `path`; a missing file holds none.
    pub fn open(path: &Path) -> Result<Cursors, LogError> {
        let offsets = match std::fs::read(path) {
            Ok(text) => serde_json::from_slice(&text).map_err(|source| LogError::BadCursors {
                path: path.to_owned(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(LogError::io("read", path, e)),
        };
        Ok(Cursors {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                state: Mutex::new(State {
                    offsets,
                    ..State::default()
                }),
                flushing: Mutex::new(()),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .expect("the cursors lock is poisoned")
    }

    /// The offset saved as `name`.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.lock().offsets.get(name).copied()
    }

    /// Sets `name` to `offset` in memory; [`Cursors::flush`] saves it.
    pub fn set(&self, name: &str, offset: u64) {
        let mut state = self.lock();
        if state.offsets.get(name) != Some(&offset) {
            state.offsets.insert(name.to_owned(), offset);
            state.generation += 1;
        }
    }

    /// Forgets `name` in memory; [`Cursors::flush`] saves that.
    pub fn remove(&self, name: &str) {
        let mut state = self.lock();
        if state.offsets.remove(name).is_some() {
            state.generation += 1;
        }
    }

    /// Every cursor, by name.
    pub fn all(&self) -> BTreeMap<String, u64> {
        self.lock().offsets.clone()
    }

    /// The lowest offset of any cursor: records before it are delivered everywhere.
    pub fn min(&self) -> Option<u64> {
        self.lock().offsets.values().copied().min()
    }

    /// The file the cursors are saved in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Saves the cursors if they changed since the last flush, atomically (see
    /// "Guarantees"). Blocking: async callers use `spawn_blocking`.
    pub fn flush(&self) -> Result<(), LogError> {
        let _flushing = self
            .inner
            .flushing
            .lock()
            .expect("the cursors flush lock is poisoned");
        let (text, generation) = {
            let state = self.lock();
            if state.generation == state.flushed {
                return Ok(());
            }
            let text = serde_json::to_vec_pretty(&state.offsets).map_err(|source| {
                LogError::BadCursors {
                    path: self.inner.path.clone(),
                    source,
                }
            })?;
            (text, state.generation)
        };
        let path = &self.inner.path;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::File::create(&tmp)
            .and_then(|mut file| {
                file.write_all(&text)?;
                file.sync_all()
            })
            .map_err(|e| LogError::io("write", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| LogError::io("replace", path, e))?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        sync_dir(dir)?;
        self.lock().flushed = generation;
        Ok(())
    }
}
