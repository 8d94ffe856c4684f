//! The ping source: CloudEvents on a cron schedule, put into a broker, as Knative's
//! PingSource (`sources.knative.dev/v1`) sends them on a cluster.
//!
//! A [`Ping`] is one source of a function's `motif.toml` ([`motif_api::Source`]), ready
//! to run: [`Ping::run`] sleeps to each tick and hands the tick's event to a `publish`
//! function (the broker's, under `motif serve`). Not here: the broker itself, and which
//! sources run (the serving layer starts one `run` per source and stops it on redeploy).
//!
//! ```no_run
//! # async fn example() -> Result<(), String> {
//! use motif_events::ping::Ping;
//!
//! let source = motif_api::Source {
//!     name: None,
//!     broker: "default".into(),
//!     schedule: "*/1 * * * *".into(),
//!     timezone: None,
//!     data: Some(r#"{"hello": "world"}"#.into()),
//!     data_base64: None,
//!     content_type: None,
//! };
//! let ping = Ping::new("clock", "clock-ping-1", &source)?;
//! let publish = |broker: String, event: motif_contract::Event| async move {
//!     println!("{broker}: {event:?}");
//!     Ok::<(), String>(())
//! };
//! let shutdown = async {
//!     let _ = tokio::signal::ctrl_c().await;
//! };
//! ping.run(publish, shutdown).await;
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//!
//! - The events are Knative's: type `dev.knative.sources.ping`, source
//!   `/apis/v1/namespaces/default/pingsources/NAME`, a fresh v4 UUID as id, the tick's
//!   time, and the source's data with its content type ([`motif_api::Source`] resolves
//!   the default, the same that is compiled into the PingSource).
//! - A failed publish is retried, with the same event (so the same id), after 100 ms,
//!   doubling to 5 s, until it succeeds or the next tick is due; then the tick is
//!   dropped with a warning. Ticks never pile up behind a broker that is down.
//!
//! # Caveats
//!
//! - Ticks follow the wall clock, read again at least every [`MAX_SLEEP`]: after the
//!   clock is set or the machine wakes from sleep a tick fires at most that late.
//! - Ticks missed while nothing was running (or while a publish took longer than the
//!   time to the next one) are not caught up, as Knative's PingSource does not.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use bytes::Bytes;
use motif_api::cron::Schedule;
use motif_contract::Event;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::{Instant, sleep_until};

/// The `type` of every ping event (Knative's).
pub const EVENT_TYPE: &str = "dev.knative.sources.ping";

/// The namespace in a ping event's `source` under `motif serve`, which has none of its
/// own: Kubernetes' default one.
pub const LOCAL_NAMESPACE: &str = "default";

/// The first wait before a failed publish is tried again; it doubles each time.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The longest wait between two tries of a publish.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The longest sleep before the wall clock is read again: tokio sleeps on the monotonic
/// clock, which does not follow the wall clock when it is set or across a suspend.
pub const MAX_SLEEP: Duration = Duration::from_secs(10);

/// One ping source, ready to run.
#[derive(Clone, Debug)]
pub struct Ping {
    /// The function the source belongs to.
    pub function: String,
    /// The source's name (its PingSource's, [`motif_api::source_names`]).
    pub name: String,
    /// The broker its events go into.
    pub broker: String,
    cadence: Cadence,
    /// The data and its content type, if the events carry data.
    data: Option<(String, Bytes)>,
}

/// When a ping fires.
#[derive(Clone, Debug)]
enum Cadence {
    /// On a cron schedule, at its offset.
    Cron(Schedule),
    /// At every multiple of a period since the Unix epoch (tests only, see
    /// [`Ping::every`]).
    Every(Duration),
}

impl Ping {
    /// Prepares the source `name` of `function`: its schedule and time zone parsed, its
    /// data decoded. The error says what is wrong, as validation would.
    pub fn new(function: &str, name: &str, source: &motif_api::Source) -> Result<Ping, String> {
        let schedule = source.parsed_schedule()?;
        let data = match (source.data_bytes()?, source.data_content_type()) {
            (Some(bytes), Some(content_type)) => Some((content_type, Bytes::from(bytes))),
            _ => None,
        };
        let ping = Ping {
            function: function.to_owned(),
            name: name.to_owned(),
            broker: source.broker.clone(),
            cadence: Cadence::Cron(schedule),
            data,
        };
        // Every attribute but the id and time is fixed here, so one event that builds
        // means all of them will (and `event` need not fail).
        ping.builder(OffsetDateTime::UNIX_EPOCH)
            .build()
            .map_err(|e| format!("the ping source `{name}` makes no valid CloudEvent: {e}"))?;
        Ok(ping)
    }

    /// Replaces the cron schedule with a tick at every multiple of `period` since the
    /// Unix epoch.
    ///
    /// Exists only for tests: cron's finest step is a minute and ticks follow the wall
    /// clock (tokio's paused clock cannot stand in for it), so a test of [`Ping::run`]
    /// (here, or `motif serve`'s) fires every few milliseconds instead.
    ///
    /// # Panics
    ///
    /// If `period` is zero.
    #[doc(hidden)]
    #[must_use]
    pub fn every(mut self, period: Duration) -> Ping {
        assert!(!period.is_zero(), "a ping needs a period above zero");
        self.cadence = Cadence::Every(period);
        self
    }

    /// The `source` of its events: `/apis/v1/namespaces/default/pingsources/NAME`, the
    /// form Knative gives them.
    pub fn source(&self) -> String {
        format!(
            "/apis/v1/namespaces/{LOCAL_NAMESPACE}/pingsources/{}",
            self.name
        )
    }

    /// The event of the tick at `at`: type `dev.knative.sources.ping`, source
    /// [`Ping::source`], a fresh v4 UUID as id, `at` as time (RFC 3339, in UTC; left out
    /// for an `at` before the year 0, which RFC 3339 cannot write), and the data with
    /// its content type.
    pub fn event(&self, at: OffsetDateTime) -> Event {
        self.builder(at)
            .build()
            .expect("`Ping::new` built an event with the same attributes")
    }

    fn builder(&self, at: OffsetDateTime) -> motif_contract::EventBuilder {
        let mut builder =
            Event::builder(uuid::Uuid::new_v4().to_string(), self.source(), EVENT_TYPE);
        if let Ok(time) = at.to_offset(time::UtcOffset::UTC).format(&Rfc3339) {
            builder = builder.time(time);
        }
        if let Some((content_type, data)) = &self.data {
            builder = builder.data(content_type.clone(), data.clone());
        }
        builder
    }

    /// The first tick strictly after `t`; `None` if there is none (`0 0 30 2 *`).
    pub fn next_after(&self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        match &self.cadence {
            Cadence::Cron(schedule) => schedule.next_after(t),
            Cadence::Every(period) => {
                let period = period.as_nanos() as i128;
                let now = t.unix_timestamp_nanos();
                let next = (now.div_euclid(period) + 1) * period;
                OffsetDateTime::from_unix_timestamp_nanos(next).ok()
            }
        }
    }

    /// Runs until `shutdown` resolves: sleeps to each tick, builds its event and calls
    /// `publish(broker, event)`. A failed publish is logged and retried with backoff
    /// ([`FIRST_BACKOFF`] doubling to [`MAX_BACKOFF`]) until it succeeds or the next
    /// tick is due, when the tick is dropped with a warning. Missed ticks are not caught
    /// up. A schedule that never fires again ends the run at once.
    pub async fn run<F, Fut>(self, publish: F, shutdown: impl Future<Output = ()>)
    where
        F: Fn(String, Event) -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        let mut shutdown = pin!(shutdown);
        // The last tick fired: a wake-up a hair early by the wall clock must not find
        // the same tick again.
        let mut last: Option<OffsetDateTime> = None;
        loop {
            let now = OffsetDateTime::now_utc();
            let after = last.map_or(now, |last| last.max(now));
            let Some(at) = self.next_after(after) else {
                tracing::warn!(
                    function = %self.function,
                    source = %self.name,
                    "the ping source's schedule never fires again; it stops"
                );
                return;
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = sleep_until_wall(at) => {}
            }
            last = Some(at);
            let next = self.next_after(at);
            let event = self.event(at);
            let mut backoff = FIRST_BACKOFF;
            loop {
                let result = tokio::select! {
                    () = &mut shutdown => return,
                    result = publish(self.broker.clone(), event.clone()) => result,
                };
                let Err(error) = result else { break };
                let retry_at = Instant::now() + backoff;
                if next.is_some_and(|next| retry_at >= instant_of(next)) {
                    tracing::warn!(
                        function = %self.function,
                        source = %self.name,
                        broker = %self.broker,
                        tick = %event.time().unwrap_or_default(),
                        %error,
                        "could not publish a ping event before the next tick; this tick is dropped"
                    );
                    break;
                }
                tracing::warn!(
                    function = %self.function,
                    source = %self.name,
                    broker = %self.broker,
                    %error,
                    retry_in_ms = backoff.as_millis() as u64,
                    "could not publish a ping event; retrying"
                );
                tokio::select! {
                    () = &mut shutdown => return,
                    () = sleep_until(retry_at) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// The monotonic instant the wall clock will read `at` (now, if it already has).
fn instant_of(at: OffsetDateTime) -> Instant {
    let left = at - OffsetDateTime::now_utc();
    Instant::now() + Duration::try_from(left).unwrap_or(Duration::ZERO)
}

/// Sleeps until the wall clock reads `at`, measuring it again at least every
/// [`MAX_SLEEP`].
async fn sleep_until_wall(at: OffsetDateTime) {
    loop {
        let Ok(left) = Duration::try_from(at - OffsetDateTime::now_utc()) else {
            return;
        };
        if left.is_zero() {
            return;
        }
        sleep_until(Instant::now() + left.min(MAX_SLEEP)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};

    use motif_api::Source;

    use super::*;

    fn source(schedule: &str) -> Source {
        Source {
            name: None,
            broker: "default".into(),
            schedule: schedule.into(),
            timezone: None,
            data: None,
            data_base64: None,
            content_type: None,
        }
    }

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).unwrap()
    }

    #[test]
    fn an_event_carries_knatives_attributes() {
        let source = Source {
            broker: "batch".into(),
            data: Some(r#"{"hello": "world"}"#.into()),
            ..source("*/1 * * * *")
        };
        let ping = Ping::new("clock", "clock-ping-1", &source).unwrap();
        assert_eq!(
            (
                ping.function.as_str(),
                ping.name.as_str(),
                ping.broker.as_str()
            ),
            ("clock", "clock-ping-1", "batch")
        );
        let event = ping.event(at("2024-06-05T09:30:00+02:00"));
        assert_eq!(event.ty(), "dev.knative.sources.ping");
        assert_eq!(
            event.source(),
            "/apis/v1/namespaces/default/pingsources/clock-ping-1"
        );
        assert_eq!(event.time(), Some("2024-06-05T07:30:00Z"));
        assert_eq!(event.datacontenttype(), Some("application/json"));
        assert_eq!(
            event.data().map(|d| d.as_ref()),
            Some(br#"{"hello": "world"}"#.as_slice())
        );
        let id = uuid::Uuid::parse_str(event.id()).expect("a UUID");
        assert_eq!(id.get_version_num(), 4);
        // Every tick is a new event.
        assert_ne!(ping.event(at("2024-06-05T07:30:00Z")).id(), event.id());
    }

    #[test]
    fn the_data_and_its_content_type_come_from_the_source() {
        let event = |source: Source| {
            Ping::new("f", "f-ping-1", &source)
                .unwrap()
                .event(at("2024-01-01T00:00:00Z"))
        };
        let text = event(Source {
            data: Some("tick".into()),
            ..source("@hourly")
        });
        assert_eq!(text.datacontenttype(), Some("text/plain"));
        assert_eq!(text.data().unwrap().as_ref(), b"tick");

        let typed = event(Source {
            data: Some("<tick/>".into()),
            content_type: Some("application/xml".into()),
            ..source("@hourly")
        });
        assert_eq!(typed.datacontenttype(), Some("application/xml"));

        let binary = event(Source {
            data_base64: Some("AAEC/w==".into()),
            ..source("@hourly")
        });
        assert_eq!(binary.datacontenttype(), Some("application/octet-stream"));
        assert_eq!(binary.data().unwrap().as_ref(), [0, 1, 2, 255]);

        let empty = event(source("@hourly"));
        assert_eq!((empty.datacontenttype(), empty.data()), (None, None));
    }

    #[test]
    fn a_source_that_cannot_run_is_refused() {
        let cases = [
            (source("61 * * * *"), "minute"),
            (
                Source {
                    timezone: Some("Europe/Paris".into()),
                    ..source("@daily")
                },
                "no time zone database",
            ),
            (
                Source {
                    data_base64: Some("***".into()),
                    ..source("@daily")
                },
                "not base64",
            ),
            (
                Source {
                    data: Some("a".into()),
                    data_base64: Some("YQ==".into()),
                    ..source("@daily")
                },
                "at most one",
            ),
            (
                Source {
                    data: Some("a".into()),
                    content_type: Some("text/plain; charset=ütf-8".into()),
                    ..source("@daily")
                },
                "no valid CloudEvent",
            ),
        ];
        for (source, expected) in cases {
            let err = Ping::new("f", "f-ping-1", &source).unwrap_err();
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn ticks_follow_the_schedule_in_its_time_zone() {
        let ping = Ping::new(
            "f",
            "f-ping-1",
            &Source {
                timezone: Some("+02:00".into()),
                ..source("0 9 * * *")
            },
        )
        .unwrap();
        assert_eq!(
            ping.next_after(at("2024-06-05T07:00:00Z")),
            Some(at("2024-06-06T07:00:00Z"))
        );
        let never = Ping::new("f", "f-ping-1", &source("0 0 30 2 *")).unwrap();
        assert_eq!(never.next_after(at("2024-06-05T07:00:00Z")), None);

        let fast = never.every(Duration::from_millis(250));
        assert_eq!(
            fast.next_after(at("2024-06-05T07:00:00.100Z")),
            Some(at("2024-06-05T07:00:00.250Z"))
        );
        assert_eq!(
            fast.next_after(at("2024-06-05T07:00:00.250Z")),
            Some(at("2024-06-05T07:00:00.500Z"))
        );
    }

    /// Each publish attempt: the tick's time and the event's id.
    type Attempts = Arc<Mutex<Vec<(String, String)>>>;

    type Published = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

    /// A publish that records every attempt and fails while `fail(attempt number)` says
    /// so, taking `delay` per attempt.
    fn recorder(
        fail: impl Fn(usize) -> bool + Send + Sync + 'static,
        delay: Duration,
    ) -> (Attempts, impl Fn(String, Event) -> Published) {
        let attempts: Attempts = Arc::default();
        let fail = Arc::new(fail);
        let record = attempts.clone();
        let publish = move |broker: String, event: Event| {
            assert_eq!(broker, "default");
            let n = {
                let mut attempts = record.lock().unwrap();
                attempts.push((event.time().unwrap().to_owned(), event.id().to_owned()));
                attempts.len()
            };
            let failed = fail(n);
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                if failed {
                    Err("the broker is down".to_owned())
                } else {
                    Ok(())
                }
            }) as Published
        };
        (attempts, publish)
    }

    /// Runs `ping` for `time`, then shuts it down.
    async fn run_for(ping: Ping, publish: impl Fn(String, Event) -> Published, time: Duration) {
        tokio::time::timeout(
            time + Duration::from_secs(5),
            ping.run(publish, tokio::time::sleep(time)),
        )
        .await
        .expect("run ends when shutdown resolves");
    }

    fn ping() -> Ping {
        Ping::new("f", "f-ping-1", &source("@yearly")).unwrap()
    }

    #[tokio::test]
    async fn run_publishes_every_tick_and_retries_a_failed_one_with_the_same_event() {
        let (attempts, publish) = recorder(|n| n <= 2, Duration::ZERO);
        let period = Duration::from_millis(600);
        run_for(ping().every(period), publish, Duration::from_millis(1500)).await;
        let attempts = attempts.lock().unwrap().clone();
        // Two failures and a success for the first tick (100 and 200 ms of backoff fit
        // before the next), then one attempt per tick.
        assert!(attempts.len() >= 4, "{attempts:?}");
        assert_eq!(attempts[0], attempts[1]);
        assert_eq!(attempts[1], attempts[2]);
        assert_ne!(attempts[3].0, attempts[2].0);
        assert_ne!(attempts[3].1, attempts[2].1);
        let first = at(&attempts[0].0);
        let second = at(&attempts[3].0);
        assert_eq!(second - first, time::Duration::milliseconds(600));
        assert_eq!(first.unix_timestamp_nanos() % 600_000_000, 0);
    }

    #[tokio::test]
    async fn a_tick_that_cannot_be_published_before_the_next_is_dropped() {
        let (attempts, publish) = recorder(|_| true, Duration::ZERO);
        let period = Duration::from_millis(300);
        run_for(ping().every(period), publish, Duration::from_millis(1000)).await;
        let attempts = attempts.lock().unwrap().clone();
        let mut ticks: Vec<&str> = attempts.iter().map(|(t, _)| t.as_str()).collect();
        ticks.dedup();
        assert!(ticks.len() >= 2, "{attempts:?}");
        // Tried at 0 and 100 ms; the next try, at 300 ms, would be when the next tick
        // is due.
        for tick in &ticks {
            let tries = attempts.iter().filter(|(t, _)| t == tick).count();
            assert!((1..=3).contains(&tries), "{tick}: {attempts:?}");
        }
    }

    #[tokio::test]
    async fn missed_ticks_are_not_caught_up() {
        // The first publish takes 450 ms: the ticks at 100, 200, 300 and 400 ms after it
        // pass unseen, and the next event is the first tick after it returns.
        let (attempts, publish) = recorder(|_| false, Duration::from_millis(450));
        let period = Duration::from_millis(100);
        run_for(ping().every(period), publish, Duration::from_millis(1000)).await;
        let attempts = attempts.lock().unwrap().clone();
        assert!(attempts.len() >= 2, "{attempts:?}");
        let gap = at(&attempts[1].0) - at(&attempts[0].0);
        assert!(gap >= time::Duration::milliseconds(500), "{attempts:?}");
    }

    #[tokio::test]
    async fn shutdown_ends_a_run_that_waits_or_retries() {
        // Waiting for next year's tick.
        let (attempts, publish) = recorder(|_| false, Duration::ZERO);
        run_for(ping(), publish, Duration::from_millis(50)).await;
        assert!(attempts.lock().unwrap().is_empty());
        // In the middle of a publish that never answers.
        let (_, publish) = recorder(|_| false, Duration::from_secs(3600));
        let period = Duration::from_millis(10);
        run_for(ping().every(period), publish, Duration::from_millis(100)).await;
        // A schedule that never fires ends the run without waiting for shutdown.
        let never = Ping::new("f", "f-ping-1", &source("0 0 30 2 *")).unwrap();
        let (_, publish) = recorder(|_| false, Duration::ZERO);
        tokio::time::timeout(
            Duration::from_secs(1),
            never.run(publish, std::future::pending()),
        )
        .await
        .expect("a ping that never fires returns");
    }
}
