//! The broker: publishing (validated, stamped, durably appended), the set of running
//! triggers, their status, and tailing the log.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use motif_contract::{Event, ExtensionValue};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::delivery::Dispatch;
use crate::log::{Cursors, Log, LogError, LogOptions};
use crate::record;
use crate::stats::TriggerStatus;
use crate::trigger::{self, Progress, Trigger, Worker};

/// The extension Knative's broker stamps on every event it accepts.
pub const ARRIVAL_TIME: &str = "knativearrivaltime";
/// The extension that stops an event looping through replies: Knative's
/// `knativebrokerttl`, one less at each pass through the broker.
pub const TTL: &str = "knativebrokerttl";
/// The TTL of an event that comes in without one (Knative's `MAX_TTL`).
pub const MAX_TTL: i32 = 255;
/// How often cursors are written to disk. A crash delivers again what was finished
/// in the last interval (at least once); it never skips an event.
const CURSOR_FLUSH: Duration = Duration::from_millis(100);
/// How often log segments every trigger has passed are deleted.
const RETENTION: Duration = Duration::from_secs(10);

/// Why an event was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The event or the broker name is not acceptable (a 400).
    #[error("{0}")]
    Invalid(String),
    /// The log could not take it (a 5xx): nothing was acknowledged.
    #[error("the event log cannot take events")]
    Log(#[from] LogError),
}

/// What the broker and its triggers share.
pub(crate) struct Shared {
    pub(crate) log: Log,
    pub(crate) cursors: Cursors,
    pub(crate) dispatch: Arc<dyn Dispatch>,
}

impl Shared {
    /// Stamps and appends `events` to `broker`: one group-committed append.
    async fn publish(&self, broker: &str, events: Vec<Event>) -> Result<u64, PublishError> {
        motif_api::validate_name(broker)
            .map_err(|m| PublishError::Invalid(format!("`{broker}` is not a broker name: {m}")))?;
        let now = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .expect("the time formats as RFC 3339");
        let mut records = Vec::with_capacity(events.len());
        for mut event in events {
            let ttl =
                match event.extension(TTL) {
                    None => MAX_TTL,
                    Some(ExtensionValue::Integer(n)) => n.saturating_sub(1),
                    Some(value) => {
                        value.to_canonical().parse::<i32>().map_err(|_| {
                            PublishError::Invalid(format!("`{TTL}` must be an integer"))
                        })? - 1
                    }
                };
            if ttl <= 0 {
                return Err(PublishError::Invalid(format!(
                    "the event `{}` from `{}` has been through the broker {MAX_TTL} times \
                     (`{TTL}` reached 0): a reply loop?",
                    event.id(),
                    event.source()
                )));
            }
            // Neither can fail: a fixed name, an integer and an RFC 3339 time.
            let _ = event.set_extension(TTL, ttl);
            let _ = event.set_extension(ARRIVAL_TIME, now.as_str());
            records.push(record::encode(broker, &event));
        }
        if records.is_empty() {
            return Ok(self.log.head());
        }
        Ok(self.log.append(records).await?)
    }

    /// Puts a reply to `original` back into `broker`, with the original's TTL so that
    /// a loop of replies ends.
    pub(crate) async fn reply(
        &self,
        broker: &str,
        original: &Event,
        mut reply: Event,
    ) -> Result<(), PublishError> {
        if let Some(ttl) = original.extension(TTL) {
            let _ = reply.set_extension(TTL, ttl.clone());
        }
        self.publish(broker, vec![reply]).await.map(drop)
    }
}

/// How long ago the broker accepted `event`, from its arrival time.
pub(crate) fn since_arrival(event: &Event) -> Option<Duration> {
    let arrived = event.attribute(ARRIVAL_TIME)?;
    let arrived = OffsetDateTime::parse(&arrived, &Rfc3339).ok()?;
    (OffsetDateTime::now_utc() - arrived).try_into().ok()
}

struct Running {
    worker: Arc<Worker>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The broker of one serving layer: every named broker shares its one log (one
/// writer, one group commit); a record names its broker.
pub struct Broker {
    shared: Arc<Shared>,
    running: Mutex<BTreeMap<String, Running>>,
    /// Trigger changes, one at a time.
    changes: tokio::sync::Mutex<()>,
    housekeeping: Mutex<Option<JoinHandle<()>>>,
}

impl Broker {
    /// Opens the broker's log and cursors in `dir` (must run in a tokio runtime: it
    /// starts the task that writes cursors and trims the log). No trigger runs until
    /// [`Broker::set_triggers`].
    pub fn open(
        dir: &Path,
        options: LogOptions,
        dispatch: Arc<dyn Dispatch>,
    ) -> Result<Arc<Broker>, LogError> {
        let log = Log::open(&dir.join("log"), options)?;
        let cursors = Cursors::open(&dir.join("cursors.json"))?;
        let shared = Arc::new(Shared {
            log,
            cursors,
            dispatch,
        });
        let housekeeping = tokio::spawn(housekeeping(shared.clone()));
        Ok(Arc::new(Broker {
            shared,
            running: Mutex::default(),
            changes: tokio::sync::Mutex::new(()),
            housekeeping: Mutex::new(Some(housekeeping)),
        }))
    }

    /// Publishes `events` to `broker`, answering once they are durably appended (as
    /// the log's fsync policy defines it), with the offset of the first.
    ///
    /// Each event gets `knativearrivaltime` and one less `knativebrokerttl` (255 when
    /// it has none); an event whose TTL runs out is refused.
    pub async fn publish(&self, broker: &str, events: Vec<Event>) -> Result<u64, PublishError> {
        self.shared.publish(broker, events).await
    }

    /// The offset the next event will get.
    pub fn head(&self) -> u64 {
        self.shared.log.head()
    }

    /// Makes `triggers` the running set: new ones start at the log's head (events
    /// published from now on), changed ones restart at their cursor, and the ones not
    /// listed stop and forget their cursor.
    pub async fn set_triggers(&self, triggers: Vec<Trigger>) {
        let _change = self.changes.lock().await;
        let wanted: BTreeMap<String, Trigger> =
            triggers.into_iter().map(|t| (t.name.clone(), t)).collect();
        let stopping: Vec<(String, Running)> = {
            let mut running = self.running();
            let names: Vec<String> = running
                .iter()
                .filter(|(name, r)| {
                    wanted
                        .get(*name)
                        .is_none_or(|t| t.fingerprint != r.worker.trigger.fingerprint)
                })
                .map(|(name, _)| name.clone())
                .collect();
            names
                .into_iter()
                .filter_map(|name| running.remove(&name).map(|r| (name, r)))
                .collect()
        };
        for (name, running) in stopping {
            let _ = running.stop.send(true);
            let _ = running.task.await;
            let committed = running.worker.committed();
            if wanted.contains_key(&name) {
                self.shared.cursors.set(&name, committed);
            } else {
                self.shared.cursors.remove(&name);
                tracing::info!(trigger = %name, "trigger removed");
            }
        }
        let mut running = self.running();
        for (name, trigger) in wanted {
            if running.contains_key(&name) {
                continue;
            }
            // A cursor past the head (the log lost its unsynced tail to a power cut,
            // under a relaxed fsync policy) resumes at the head.
            let head = self.shared.log.head();
            let start = match self.shared.cursors.get(&name) {
                Some(cursor) => cursor.min(head),
                None => head,
            };
            self.shared.cursors.set(&name, start);
            tracing::info!(trigger = %name, broker = %trigger.broker, from = start, "trigger running");
            let worker = Arc::new(Worker {
                trigger,
                counters: Default::default(),
                progress: Mutex::new(Progress::new(start)),
            });
            let (stop, stopped) = watch::channel(false);
            let task = tokio::spawn(trigger::run(self.shared.clone(), worker.clone(), stopped));
            running.insert(name, Running { worker, stop, task });
        }
        drop(running);
        if let Err(e) = self.shared.cursors.flush() {
            tracing::error!("cannot write the trigger cursors: {e}");
        }
    }

    /// Every running trigger's progress and counters, by name.
    pub fn triggers(&self) -> Vec<TriggerStatus> {
        use std::sync::atomic::Ordering::Relaxed;
        let head = self.shared.log.head();
        self.running()
            .values()
            .map(|r| {
                let w = &r.worker;
                let c = &w.counters;
                let cursor = w.committed();
                TriggerStatus {
                    name: w.trigger.name.clone(),
                    broker: w.trigger.broker.clone(),
                    subscriber: w.trigger.subscriber.to_string(),
                    cursor,
                    lag: head.saturating_sub(cursor),
                    matched: c.matched.load(Relaxed),
                    delivered: c.delivered.load(Relaxed),
                    replies: c.replies.load(Relaxed),
                    retries: c.retries.load(Relaxed),
                    dead_lettered: c.dead_lettered.load(Relaxed),
                    dropped: c.dropped.load(Relaxed),
                    latency_p50_ms: c.latency.quantile(0.5),
                    latency_p99_ms: c.latency.quantile(0.99),
                }
            })
            .collect()
    }

    /// Follows the log: events of `broker` (or of every broker) from `from`, clamped to
    /// what the log still holds (`None`: only events published from now on).
    pub fn tail(&self, broker: Option<String>, from: Option<u64>) -> Tail {
        let log = &self.shared.log;
        let next = from.map_or(log.head(), |from| from.max(log.first()).min(log.head()));
        Tail {
            log: log.clone(),
            broker,
            next,
            head: log.watch(),
            buffered: VecDeque::new(),
        }
    }

    /// Stops every trigger (deliveries in flight will be delivered again on the next
    /// start) and writes the cursors.
    pub async fn shutdown(&self) {
        let _change = self.changes.lock().await;
        let all: Vec<Running> = std::mem::take(&mut *self.running()).into_values().collect();
        for running in all {
            let _ = running.stop.send(true);
            let _ = running.task.await;
            let committed = running.worker.committed();
            self.shared
                .cursors
                .set(&running.worker.trigger.name, committed);
        }
        let housekeeping = self
            .housekeeping
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = housekeeping {
            // Its clone of the log goes with it: the log closes with the last clone.
            task.abort();
            let _ = task.await;
        }
        if let Err(e) = self.shared.cursors.flush() {
            tracing::error!("cannot write the trigger cursors: {e}");
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Writes the cursors every [`CURSOR_FLUSH`] and drops the log segments every
/// cursor has passed every [`RETENTION`].
async fn housekeeping(shared: Arc<Shared>) {
    let mut ticks = 0u64;
    loop {
        tokio::time::sleep(CURSOR_FLUSH).await;
        let cursors = shared.cursors.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || cursors.flush())
            .await
            .unwrap_or(Ok(()))
        {
            tracing::error!("cannot write the trigger cursors: {e}");
        }
        ticks += 1;
        if ticks.is_multiple_of(RETENTION.as_millis() as u64 / CURSOR_FLUSH.as_millis() as u64) {
            let keep = shared.cursors.min().unwrap_or_else(|| shared.log.head());
            match shared.log.retain_from(keep) {
                Ok(0) => {}
                Ok(n) => tracing::debug!(
                    segments = n,
                    "log segments every trigger had passed removed"
                ),
                Err(e) => tracing::warn!("cannot trim the event log: {e}"),
            }
        }
    }
}

/// An event seen by [`Tail`].
#[derive(Debug, Clone)]
pub struct Tailed {
    /// Its offset in the log.
    pub offset: u64,
    /// The broker it was published to.
    pub broker: String,
    /// The event, as stored (with the broker's extensions).
    pub event: Event,
}

/// A follower of the log: see [`Broker::tail`].
pub struct Tail {
    log: Log,
    broker: Option<String>,
    next: u64,
    head: watch::Receiver<u64>,
    buffered: VecDeque<(u64, Bytes)>,
}

impl Tail {
    /// The next event, waiting for one; `None` when the log has closed.
    pub async fn next(&mut self) -> Option<Tailed> {
        loop {
            while let Some((offset, bytes)) = self.buffered.pop_front() {
                let Ok((broker, event)) = record::decode(&bytes) else {
                    continue;
                };
                if self.broker.as_deref().is_none_or(|b| b == broker) {
                    return Some(Tailed {
                        offset,
                        broker: broker.to_owned(),
                        event,
                    });
                }
            }
            if self.next >= self.log.head() {
                self.head.changed().await.ok()?;
                continue;
            }
            match self.log.read(self.next, 256) {
                Ok(records) => {
                    if let Some((last, _)) = records.last() {
                        self.next = last + 1;
                    }
                    self.buffered.extend(records);
                }
                Err(LogError::Trimmed { first }) => self.next = first,
                Err(_) => return None,
            }
        }
    }
}
