//! A revision at work: its instances, the requests it buffers while none has room, and
//! the loop that scales it with the [`autoscale`](crate::autoscale) decisions.
//!
//! This is what Knative's activator, autoscaler and queue-proxy do for one revision:
//!
//! - **Activation.** A request that finds no instance with room starts one at once (if
//!   `max_scale` allows) and waits in a bounded buffer ([`Settings::queue_limit`]
//!   requests, each for at most [`Settings::cold_start_wait`]) rather than failing.
//! - **Capacity.** With a hard concurrency limit (`concurrency` in the spec), an instance
//!   gets at most that many requests at once; the rest wait for room or a new instance.
//!   Without one, requests go to the least busy instance.
//! - **Scaling.** Every [`Settings::tick`] the loop samples the requests in flight
//!   (buffered ones included), asks the autoscaler how many instances to run, starts the
//!   missing ones and drains the extra ones (no new requests, then the in-flight ones
//!   finish, then SIGTERM and the drain window).
//! - **Failure.** An instance whose process exits is dropped from the pool at the next
//!   request or tick; a request it was serving fails alone (502). A failed start fails
//!   the requests waiting for it (502, with the reason) and is not retried within
//!   [`RESTART_BACKOFF`].
//! - **Retirement.** A revision no longer reachable by its route is retired: waiting
//!   requests go back to the gateway (which routes them again), instances drain.

use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use serde::Serialize;
use tokio::sync::Notify;

use crate::autoscale::{self, Autoscaler};
use crate::runtime::{ForwardError, Host, Instance, Launch};
use crate::settings::Settings;

/// After a failed start, how long requests fail at once with its reason instead of
/// starting another instance: a function that cannot start must not be restarted in a
/// tight loop.
pub const RESTART_BACKOFF: Duration = Duration::from_secs(1);

/// One revision's instances and buffer.
pub(crate) struct Revision {
    name: String,
    launch: Launch,
    host: Arc<Host>,
    settings: Arc<Settings>,
    /// The hard concurrency limit per instance; 0: none.
    limit: u32,
    max_scale: u32,
    pool: Mutex<Pool>,
    /// Wakes buffered requests: an instance is ready, a start failed, room freed up, or
    /// the revision retired.
    changed: Notify,
    /// Requests in this revision, buffered ones included: what the autoscaler samples.
    in_flight: AtomicU32,
    /// Requests that arrived since the scaling loop last looked.
    arrivals: AtomicU32,
    next_instance: AtomicU64,
    stop: Notify,
}

#[derive(Default)]
struct Pool {
    ready: Vec<Arc<Slot>>,
    starting: u32,
    waiting: usize,
    retired: bool,
    /// The last failed start: when, and why.
    failure: Option<(Instant, String)>,
}

struct Slot {
    id: u64,
    instance: Instance,
    in_flight: AtomicU32,
    ready_after: Duration,
    started_at: std::time::SystemTime,
}

/// Why a request was not served by this revision.
pub(crate) enum Refused {
    /// The revision retired while the request waited: route it again.
    Retired(Request<Body>),
    /// The answer to give instead.
    Problem(motif_contract::Problem, Option<u64>),
}

/// What `motif describe` shows of a running revision.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionStatus {
    /// The revision.
    pub name: String,
    /// Its ready instances.
    pub instances: Vec<InstanceStatus>,
    /// Instances starting now.
    pub starting: u32,
    /// Requests in flight or buffered.
    pub in_flight: u32,
    /// Why its last start failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
}

/// One instance, for `motif describe`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceStatus {
    /// `REVISION/N`.
    pub id: String,
    /// `wasm`, `process` or `oci`.
    pub runtime: &'static str,
    /// The process id of a process instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Requests it is serving.
    pub in_flight: u32,
    /// Its cold start, in milliseconds.
    pub ready_after_millis: f64,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_millis: u64,
}

impl Revision {
    /// A revision with no instance yet (or with `initial`, started by the deploy that
    /// made it), and its scaling loop.
    pub(crate) fn start(
        name: String,
        launch: Launch,
        config: autoscale::Config,
        limit: u32,
        host: Arc<Host>,
        settings: Arc<Settings>,
        initial: Option<(Instance, Duration)>,
    ) -> Arc<Revision> {
        let revision = Arc::new(Revision {
            name,
            launch,
            host,
            limit,
            max_scale: config.max_scale,
            pool: Mutex::new(Pool::default()),
            changed: Notify::new(),
            in_flight: AtomicU32::new(0),
            arrivals: AtomicU32::new(0),
            next_instance: AtomicU64::new(1),
            stop: Notify::new(),
            settings,
        });
        if let Some((instance, ready_after)) = initial {
            revision.add(instance, ready_after);
        }
        let scaler = Autoscaler::new(config);
        tokio::spawn(revision.clone().scale_loop(scaler));
        revision
    }

    /// The revision's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// A fresh instance name for the log: `REVISION/N`.
    pub(crate) fn next_source(&self) -> String {
        format!(
            "{}/{}",
            self.name,
            self.next_instance.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves `request` (its URI the function's own path) on an instance with room,
    /// starting one and waiting if there is none.
    pub(crate) async fn serve(
        self: &Arc<Self>,
        request: Request<Body>,
    ) -> Result<Response<Body>, Refused> {
        let guard = Flight::enter(self.clone());
        let slot = match self.acquire().await {
            Ok(slot) => slot,
            Err(Refusal::Retired) => return Err(Refused::Retired(request)),
            Err(Refusal::Problem(problem, retry)) => return Err(Refused::Problem(problem, retry)),
        };
        let guard = guard.on(slot.clone());
        match slot.instance.forward(&self.host, request).await {
            Ok(response) => Ok(response.map(|body| {
                Body::new(Tracked {
                    body,
                    _guard: guard,
                })
            })),
            Err(e) => {
                let detail = match e {
                    ForwardError::Exited => {
                        self.remove_dead();
                        format!(
                            "the instance of `{}` serving this request exited; the next request starts another",
                            self.name
                        )
                    }
                    ForwardError::Broken(why) => {
                        format!("the instance of `{}` failed this request: {why}", self.name)
                    }
                };
                self.launch.log.push(&self.name, detail.clone());
                Err(Refused::Problem(bad_gateway(detail), None))
            }
        }
    }

    async fn acquire(self: &Arc<Self>) -> Result<Arc<Slot>, Refusal> {
        let deadline = tokio::time::Instant::now() + self.settings.cold_start_wait;
        let mut queued_at = None;
        let outcome = loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut pool = self.lock();
                if pool.retired {
                    break Err(Refusal::Retired);
                }
                self.drop_dead(&mut pool);
                if let Some(slot) = self.pick(&pool.ready) {
                    slot.in_flight.fetch_add(1, Ordering::SeqCst);
                    break Ok(slot);
                }
                if let Some((at, why)) = &pool.failure
                    && (queued_at.is_some_and(|queued| queued <= *at)
                        || at.elapsed() < RESTART_BACKOFF && pool.starting == 0)
                {
                    break Err(Refusal::Problem(
                        bad_gateway(format!("`{}` cannot start: {why}", self.name)),
                        Some(1),
                    ));
                }
                let total = pool.ready.len() as u32 + pool.starting;
                if pool.starting == 0 && (self.max_scale == 0 || total < self.max_scale) {
                    self.spawn_start(&mut pool);
                }
                if queued_at.is_none() {
                    if pool.waiting >= self.settings.queue_limit {
                        break Err(Refusal::Problem(
                            motif_contract::Problem::unavailable(format!(
                                "`{}` has {} requests waiting for an instance already; try again shortly",
                                self.name, pool.waiting
                            )),
                            Some(1),
                        ));
                    }
                    pool.waiting += 1;
                    queued_at = Some(Instant::now());
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                break Err(Refusal::Problem(
                    motif_contract::Problem::unavailable(format!(
                        "no instance of `{}` had room within {:?}",
                        self.name, self.settings.cold_start_wait
                    )),
                    Some(1),
                ));
            }
        };
        if queued_at.is_some() {
            self.lock().waiting -= 1;
        }
        outcome
    }

    /// The ready instance with the fewest requests, among those with room.
    fn pick(&self, ready: &[Arc<Slot>]) -> Option<Arc<Slot>> {
        ready
            .iter()
            .map(|slot| (slot.in_flight.load(Ordering::SeqCst), slot))
            .filter(|(n, _)| self.limit == 0 || *n < self.limit)
            .min_by_key(|(n, _)| *n)
            .map(|(_, slot)| slot.clone())
    }

    fn drop_dead(&self, pool: &mut Pool) {
        pool.ready.retain(|slot| {
            let alive = slot.instance.is_alive();
            if !alive {
                self.launch.log.push(
                    &self.name,
                    format!("{}/{} exited; it is out of the pool", self.name, slot.id),
                );
            }
            alive
        });
    }

    fn remove_dead(&self) {
        let mut pool = self.lock();
        self.drop_dead(&mut pool);
    }

    /// Starts one instance in the background; `pool.starting` counts it.
    fn spawn_start(self: &Arc<Self>, pool: &mut Pool) {
        pool.starting += 1;
        let revision = self.clone();
        tokio::spawn(async move {
            let source = revision.next_source();
            let outcome = Instance::start(&revision.host, &revision.launch, source.clone()).await;
            let mut leftover = None;
            {
                let mut pool = revision.lock();
                pool.starting -= 1;
                match outcome {
                    Ok((instance, ready_after)) if !pool.retired => {
                        pool.failure = None;
                        drop(pool);
                        revision.add_named(instance, ready_after, &source);
                    }
                    Ok((instance, _)) => leftover = Some(instance),
                    Err(why) => {
                        revision
                            .launch
                            .log
                            .push(&revision.name, format!("{source} did not start: {why}"));
                        pool.failure = Some((Instant::now(), why));
                    }
                }
            }
            revision.changed.notify_waiters();
            if let Some(instance) = leftover {
                instance.stop(revision.settings.drain).await;
            }
        });
    }

    fn add(&self, instance: Instance, ready_after: Duration) {
        let source = self.next_source();
        self.add_named(instance, ready_after, &source);
    }

    fn add_named(&self, instance: Instance, ready_after: Duration, source: &str) {
        let id = source
            .rsplit('/')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_default();
        self.launch.log.push(
            &self.name,
            format!(
                "{source} ready in {:.1} ms",
                ready_after.as_secs_f64() * 1e3
            ),
        );
        let slot = Arc::new(Slot {
            id,
            instance,
            in_flight: AtomicU32::new(0),
            ready_after,
            started_at: std::time::SystemTime::now(),
        });
        self.lock().ready.push(slot);
        self.changed.notify_waiters();
    }

    /// Samples, decides and acts every tick, until retired.
    async fn scale_loop(self: Arc<Self>, mut scaler: Autoscaler) {
        let mut tick = tokio::time::interval(self.settings.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = self.stop.notified() => return,
            }
            let now = Instant::now();
            // A request that came and went between two looks was activity all the same
            // (Knative's queue-proxy counts it in its second's average): without it, an
            // instance started for a short request would look idle from its start.
            let in_flight = self.in_flight.load(Ordering::SeqCst);
            let arrived = self.arrivals.swap(0, Ordering::SeqCst);
            scaler.record(
                now,
                if arrived > 0 {
                    in_flight.max(1)
                } else {
                    in_flight
                },
            );
            let mut pool = self.lock();
            if pool.retired {
                return;
            }
            self.drop_dead(&mut pool);
            let ready = pool.ready.len() as u32;
            let decision = scaler.desired(now, ready);
            let have = ready + pool.starting;
            let backing_off = pool
                .failure
                .as_ref()
                .is_some_and(|(at, _)| at.elapsed() < RESTART_BACKOFF);
            if decision.desired > have && !backing_off {
                for _ in have..decision.desired {
                    self.spawn_start(&mut pool);
                }
            } else if decision.desired < ready && pool.starting == 0 {
                // The idlest go first.
                pool.ready
                    .sort_by_key(|slot| std::cmp::Reverse(slot.in_flight.load(Ordering::SeqCst)));
                let extra = (ready - decision.desired) as usize;
                let keep = pool.ready.len() - extra;
                let leaving: Vec<_> = pool.ready.drain(keep..).collect();
                drop(pool);
                let to = decision.desired;
                self.launch.log.push(
                    &self.name,
                    format!(
                        "scaling from {ready} to {to} instance{}",
                        if to == 1 { "" } else { "s" }
                    ),
                );
                for slot in leaving {
                    tokio::spawn(drain(slot, self.settings.drain));
                }
            }
        }
    }

    /// Takes the revision out of service: buffered requests are routed again, instances
    /// drain. Returns once they have stopped.
    pub(crate) async fn retire(&self) {
        let leaving: Vec<_> = {
            let mut pool = self.lock();
            pool.retired = true;
            pool.ready.drain(..).collect()
        };
        self.stop.notify_one();
        self.changed.notify_waiters();
        let drains: Vec<_> = leaving
            .into_iter()
            .map(|slot| tokio::spawn(drain(slot, self.settings.drain)))
            .collect();
        for task in drains {
            let _ = task.await;
        }
    }

    /// What `motif describe` shows.
    pub(crate) fn status(&self) -> RevisionStatus {
        let pool = self.lock();
        RevisionStatus {
            name: self.name.clone(),
            instances: pool
                .ready
                .iter()
                .map(|slot| InstanceStatus {
                    id: format!("{}/{}", self.name, slot.id),
                    runtime: slot.instance.runtime(),
                    pid: slot.instance.pid(),
                    in_flight: slot.in_flight.load(Ordering::SeqCst),
                    ready_after_millis: slot.ready_after.as_secs_f64() * 1e3,
                    started_millis: slot
                        .started_at
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as u64),
                })
                .collect(),
            starting: pool.starting,
            in_flight: self.in_flight.load(Ordering::SeqCst),
            last_failure: pool.failure.as_ref().map(|(_, why)| why.clone()),
        }
    }
}

enum Refusal {
    Retired,
    Problem(motif_contract::Problem, Option<u64>),
}

fn bad_gateway(detail: String) -> motif_contract::Problem {
    motif_contract::Problem::new(
        http::StatusCode::BAD_GATEWAY,
        "bad-gateway",
        "Bad Gateway",
        detail,
    )
}

/// Waits until an instance taken out of the pool has no request left (or the drain
/// window passes), then stops it.
async fn drain(slot: Arc<Slot>, window: Duration) {
    let deadline = Instant::now() + window;
    while slot.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The last `Tracked` body may still hold the slot for a moment after its count drops.
    let mut slot = slot;
    let instance = loop {
        match Arc::try_unwrap(slot) {
            Ok(slot) => break slot.instance,
            Err(shared) if Instant::now() < deadline + Duration::from_secs(1) => {
                slot = shared;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // Still held: the process instance is killed when the last holder drops it.
            Err(_) => return,
        }
    };
    let left = deadline.saturating_duration_since(Instant::now());
    instance.stop(left.max(Duration::from_secs(1))).await;
}

/// A request counted in its revision (from arrival) and its instance (once it has one),
/// until its response body ends or is dropped.
struct Flight {
    revision: Arc<Revision>,
    slot: Option<Arc<Slot>>,
}

impl Flight {
    fn enter(revision: Arc<Revision>) -> Flight {
        revision.in_flight.fetch_add(1, Ordering::SeqCst);
        revision.arrivals.fetch_add(1, Ordering::Relaxed);
        Flight {
            revision,
            slot: None,
        }
    }

    fn on(mut self, slot: Arc<Slot>) -> Flight {
        self.slot = Some(slot);
        self
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        self.revision.in_flight.fetch_sub(1, Ordering::SeqCst);
        if let Some(slot) = self.slot.take() {
            slot.in_flight.fetch_sub(1, Ordering::SeqCst);
            if self.revision.limit > 0 {
                // Room for a buffered request.
                self.revision.changed.notify_waiters();
            }
        }
    }
}

/// A response body that keeps its request counted until it ends.
struct Tracked {
    body: Body,
    _guard: Flight,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
