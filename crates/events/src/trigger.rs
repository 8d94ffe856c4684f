//! One trigger at work: it tails the log from its cursor, keeps the events that are
//! for its broker and pass its filters, and delivers them, up to its concurrency at
//! once. Its cursor is the first offset it has not finished with, so a restart
//! delivers again (at least once) whatever was in flight, and never skips an event.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use motif_api::Subscription;
use motif_contract::Event;
use serde::Serialize;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::broker::Shared;
use crate::delivery::{self, Attempt, DeliveryPolicy, Failure, Target};
use crate::filter::TriggerFilter;
use crate::log::LogError;
use crate::record;
use crate::stats::Counters;

/// Events a trigger delivers at once when its subscription does not say.
pub const DEFAULT_CONCURRENCY: usize = 100;
/// Records read from the log at a time.
const READ_BATCH: usize = 256;

/// A trigger: events of one broker that pass its filter, to one subscriber.
#[derive(Clone, Debug)]
pub struct Trigger {
    /// Its name, unique in the broker (its cursor's name too).
    pub name: String,
    /// The broker it reads.
    pub broker: String,
    /// Which events it takes.
    pub filter: TriggerFilter,
    /// Where they go.
    pub subscriber: Target,
    /// Retries, backoff, dead letters.
    pub delivery: DeliveryPolicy,
    /// Events in flight at once.
    pub concurrency: usize,
    /// What it was made from: a trigger whose fingerprint changes is restarted (at its
    /// cursor); one whose fingerprint stays keeps running.
    pub fingerprint: String,
}

impl Trigger {
    /// The trigger of `subscription` of `function`, named `name` (see
    /// [`motif_api::trigger_names`]).
    pub fn from_subscription(
        name: &str,
        function: &str,
        subscription: &Subscription,
    ) -> Result<Trigger, String> {
        let filter = TriggerFilter::new(subscription.filter.as_ref(), &subscription.filters)
            .map_err(|e| e.to_string())?;
        let delivery = DeliveryPolicy::from_spec(subscription.delivery.as_ref())?;
        #[derive(Serialize)]
        struct Fingerprint<'a> {
            function: &'a str,
            subscription: &'a Subscription,
        }
        let fingerprint = serde_json::to_string(&Fingerprint {
            function,
            subscription,
        })
        .map_err(|e| e.to_string())?;
        Ok(Trigger {
            name: name.to_owned(),
            broker: subscription.broker.clone(),
            filter,
            subscriber: Target::Function(function.to_owned()),
            delivery,
            concurrency: subscription
                .concurrency
                .map_or(DEFAULT_CONCURRENCY, |n| n.max(1) as usize),
            fingerprint,
        })
    }
}

/// How far a trigger has got: the next offset to read, and the offsets read and not
/// yet finished.
#[derive(Debug)]
pub(crate) struct Progress {
    read: u64,
    pending: BTreeSet<u64>,
}

impl Progress {
    pub(crate) fn new(start: u64) -> Progress {
        Progress {
            read: start,
            pending: BTreeSet::new(),
        }
    }

    /// The cursor: every offset below it is finished.
    pub(crate) fn committed(&self) -> u64 {
        self.pending.first().copied().unwrap_or(self.read)
    }
}

/// What a running trigger shares with its deliveries and with the broker's status.
pub(crate) struct Worker {
    pub(crate) trigger: Trigger,
    pub(crate) counters: Counters,
    pub(crate) progress: Mutex<Progress>,
}

impl Worker {
    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn finish(&self, shared: &Shared, offset: u64) {
        let committed = {
            let mut progress = self.progress();
            progress.pending.remove(&offset);
            progress.committed()
        };
        shared.cursors.set(&self.trigger.name, committed);
    }

    pub(crate) fn committed(&self) -> u64 {
        self.progress().committed()
    }
}

/// Runs `worker` until `stop` changes (or its sender goes). Deliveries still in flight
/// are abandoned when it returns: their offsets stay below the cursor, to be
/// delivered again.
pub(crate) async fn run(shared: Arc<Shared>, worker: Arc<Worker>, stop: watch::Receiver<bool>) {
    let mut deliveries = JoinSet::new();
    tail(shared, worker, stop, &mut deliveries).await;
    // Abandoned, and gone before the trigger counts as stopped (they hold the log).
    deliveries.shutdown().await;
}

async fn tail(
    shared: Arc<Shared>,
    worker: Arc<Worker>,
    mut stop: watch::Receiver<bool>,
    deliveries: &mut JoinSet<()>,
) {
    let slots = Arc::new(Semaphore::new(worker.trigger.concurrency));
    let mut head = shared.log.watch();
    loop {
        while deliveries.try_join_next().is_some() {}
        let next = worker.progress().read;
        if next >= shared.log.head() {
            tokio::select! {
                changed = head.changed() => if changed.is_err() { return },
                _ = stop.changed() => return,
            }
            continue;
        }
        let records = match shared.log.read(next, READ_BATCH) {
            Ok(records) => records,
            Err(LogError::Trimmed { first }) => {
                tracing::error!(
                    trigger = %worker.trigger.name,
                    from = next,
                    to = first,
                    "events were removed from the log before this trigger read them"
                );
                worker.progress().read = first;
                continue;
            }
            Err(e) => {
                tracing::error!(trigger = %worker.trigger.name, "cannot read the log: {e}");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = stop.changed() => return,
                }
            }
        };
        for (offset, bytes) in records {
            let Some(event) = take(&worker.trigger, offset, &bytes) else {
                worker.progress().read = offset + 1;
                continue;
            };
            worker
                .counters
                .matched
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => return,
                },
                _ = stop.changed() => return,
            };
            {
                let mut progress = worker.progress();
                progress.pending.insert(offset);
                progress.read = offset + 1;
            }
            let (shared, worker) = (shared.clone(), worker.clone());
            deliveries.spawn(async move {
                deliver(&shared, &worker, event).await;
                worker.finish(&shared, offset);
                drop(slot);
            });
        }
        shared
            .cursors
            .set(&worker.trigger.name, worker.progress().committed());
    }
}

/// The event of a record, if it is for this trigger.
fn take(trigger: &Trigger, offset: u64, bytes: &[u8]) -> Option<Event> {
    if record::broker(bytes) != Some(trigger.broker.as_str()) {
        return None;
    }
    match record::decode(bytes) {
        Ok((_, event)) => trigger.filter.matches(&event).then_some(event),
        Err(e) => {
            tracing::error!(offset, "a record in the log is not an event: {e}");
            None
        }
    }
}

/// Delivers one event: attempts with backoff, then the dead-letter sink.
async fn deliver(shared: &Shared, worker: &Worker, event: Event) {
    use std::sync::atomic::Ordering::Relaxed;
    let trigger = &worker.trigger;
    let counters = &worker.counters;
    let policy = &trigger.delivery;
    let mut retries = 0;
    let failure = loop {
        let failure = match delivery::attempt(
            shared.dispatch.as_ref(),
            &trigger.subscriber,
            &event,
            policy.timeout,
        )
        .await
        {
            Attempt::Delivered(reply) => match reply {
                None => break None,
                Some(reply) => match shared.reply(&trigger.broker, &event, reply).await {
                    Ok(()) => {
                        counters.replies.fetch_add(1, Relaxed);
                        break None;
                    }
                    // Knative: if the reply cannot be stored, the delivery failed.
                    Err(e) => Failure {
                        code: None,
                        body: Default::default(),
                        retryable: true,
                        reason: format!("the reply event was not stored: {e}"),
                    },
                },
            },
            Attempt::Failed(failure) => failure,
        };
        if !failure.retryable || retries >= policy.retry {
            break Some(failure);
        }
        retries += 1;
        counters.retries.fetch_add(1, Relaxed);
        tracing::debug!(
            trigger = %trigger.name, id = event.id(), retry = retries,
            "delivery failed, retrying: {}", failure.reason
        );
        tokio::time::sleep(policy.backoff(retries)).await;
    };
    let Some(failure) = failure else {
        counters.delivered.fetch_add(1, Relaxed);
        if let Some(latency) = crate::broker::since_arrival(&event) {
            counters.latency.record(latency);
        }
        return;
    };
    let Some(sink) = &policy.dead_letter else {
        counters.dropped.fetch_add(1, Relaxed);
        tracing::warn!(
            trigger = %trigger.name, source = event.source(), id = event.id(),
            "event not delivered after {} attempts and there is no dead-letter sink: {}",
            retries + 1, failure.reason
        );
        return;
    };
    let dead = delivery::dead_letter_event(&event, &trigger.subscriber, &failure);
    let mut retries = 0;
    loop {
        let outcome =
            delivery::attempt(shared.dispatch.as_ref(), sink, &dead, policy.timeout).await;
        let sink_failure = match outcome {
            Attempt::Delivered(_) => {
                counters.dead_lettered.fetch_add(1, Relaxed);
                tracing::info!(
                    trigger = %trigger.name, source = event.source(), id = event.id(),
                    "event sent to the dead-letter sink {sink}: {}", failure.reason
                );
                return;
            }
            Attempt::Failed(f) => f,
        };
        if !sink_failure.retryable || retries >= policy.retry {
            counters.dropped.fetch_add(1, Relaxed);
            tracing::error!(
                trigger = %trigger.name, source = event.source(), id = event.id(),
                "event lost: not delivered ({}) and the dead-letter sink {sink} failed too ({})",
                failure.reason, sink_failure.reason
            );
            return;
        }
        retries += 1;
        tokio::time::sleep(policy.backoff(retries)).await;
    }
}
