//! `MOTIF_CONCURRENCY` with a bounded queue behind it (CONTRACT.md §5): the slot a request
//! runs in, a place in line when every slot is taken, 429 when the line is full.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::Metrics;

/// Slots and a queue; `None` slots means unlimited.
#[derive(Debug)]
pub(crate) struct Limiter {
    slots: Option<Arc<Semaphore>>,
    queue: usize,
}

/// The line was full.
#[derive(Debug)]
pub(crate) struct Full;

impl Limiter {
    pub(crate) fn new(concurrency: usize, queue: usize) -> Self {
        Self {
            slots: (concurrency > 0).then(|| Arc::new(Semaphore::new(concurrency))),
            queue,
        }
    }

    /// Takes a slot, waiting in line if there is room in it.
    pub(crate) async fn acquire(
        &self,
        metrics: &Metrics,
    ) -> Result<Option<OwnedSemaphorePermit>, Full> {
        let Some(slots) = &self.slots else {
            return Ok(None);
        };
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            return Ok(Some(permit));
        }
        // Waiters are counted in the metrics gauge; the check and the increment race a
        // little under contention, which can let the line exceed its bound by the number
        // of requests arriving in the same instant. That slack is harmless.
        if queued(metrics) >= self.queue as i64 {
            return Err(Full);
        }
        metrics.queued(1);
        let _leave = Leave(metrics);
        let permit = slots.clone().acquire_owned().await.map_err(|_| Full)?;
        Ok(Some(permit))
    }
}

fn queued(metrics: &Metrics) -> i64 {
    metrics.queued_now()
}

struct Leave<'a>(&'a Metrics);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.queued(-1);
    }
}
