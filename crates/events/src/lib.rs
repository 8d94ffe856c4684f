//! The motif broker: CloudEvents durably appended to a log, then delivered to every
//! trigger whose filters pass, as Knative Eventing's Broker and Trigger deliver them.
//! Not here: where the subscribers run (the [`Dispatch`] the serving layer provides)
//! and HTTP serving (the [`ingress`] is plain `http` types).
//!
//! - [`log`]: the durable append-only log (segments, checksummed records, group commit,
//!   a configurable fsync policy) and the per-trigger delivery cursors.
//! - [`Broker`]: publishing (each event stamped `knativearrivaltime` and
//!   `knativebrokerttl`, answered once appended), the running triggers, tailing.
//! - [`filter`]: Knative's Trigger filters: the legacy `filter.attributes` and the
//!   `filters` dialects (exact, prefix, suffix, all, any, not, cesql).
//! - [`Trigger`] and [`delivery`]: at-least-once delivery in binary mode with
//!   `Prefer: reply`, retries with linear or exponential backoff on 404, 408, 409, 429
//!   and 5xx, a dead-letter sink, reply events back into the broker, a concurrency
//!   limit per trigger.
//! - [`ping`]: the ping source: CloudEvents on a cron schedule.
//!
//! ```no_run
//! # async fn example(dispatch: std::sync::Arc<dyn motif_events::Dispatch>) -> Result<(), Box<dyn std::error::Error>> {
//! use motif_events::{Broker, Trigger, log::LogOptions};
//!
//! let broker = Broker::open("/var/lib/motif/events".as_ref(), LogOptions::default(), dispatch)?;
//! let subscription = motif_api::Subscription {
//!     name: None,
//!     broker: "default".into(),
//!     filter: None,
//!     filters: vec![],
//!     delivery: None,
//!     concurrency: None,
//! };
//! broker.set_triggers(vec![Trigger::from_subscription("audit-default-1", "audit", &subscription)?]).await;
//! let event = motif_contract::Event::builder("1", "/orders", "order.created").build()?;
//! broker.publish("default", vec![event]).await?;
//! # Ok(()) }
//! ```

mod broker;
pub mod delivery;
pub mod filter;
pub mod ingress;
pub mod log;
pub mod ping;
mod record;
mod stats;
mod trigger;

pub use broker::{ARRIVAL_TIME, Broker, MAX_TTL, PublishError, TTL, Tail, Tailed};
pub use delivery::{Dispatch, Target};
pub use stats::TriggerStatus;
pub use trigger::{DEFAULT_CONCURRENCY, Trigger};
