//! Subscriptions: the events a function is called with, in Knative Eventing's terms (a
//! broker, filters and delivery options), compiled to one Trigger each.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// The broker a subscription reads from when it names none.
pub const DEFAULT_BROKER: &str = "default";

/// Events from one broker that pass the filters, delivered to the function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subscription {
    /// Tells this subscription apart (a DNS label); its Trigger is `FUNCTION-NAME`
    /// [default: `FUNCTION-BROKER-N`, N counting the subscriptions to that broker].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The broker [default: `default`].
    #[serde(default = "default_broker")]
    pub broker: String,
    /// Knative's legacy filter: every attribute must equal its value ("" matches any
    /// value of a present attribute). Ignored when `filters` is not empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<AttributesFilter>,
    /// Filters that must all pass: `exact`, `prefix`, `suffix`, `all`, `any`, `not`,
    /// `cesql`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Retries, backoff and where undeliverable events go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// How many events of this subscription are delivered at once under `motif serve`
    /// [default: 100]. Knative's brokers choose their own; this is not compiled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

fn default_broker() -> String {
    DEFAULT_BROKER.to_owned()
}

/// Knative's `filter`: exact matches on attributes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributesFilter {
    /// Attribute name to value.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// One filter of Knative's `filters`, in exactly one dialect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    /// Every attribute equals its value.
    Exact(BTreeMap<String, String>),
    /// Every attribute starts with its value.
    Prefix(BTreeMap<String, String>),
    /// Every attribute ends with its value.
    Suffix(BTreeMap<String, String>),
    /// Every nested filter passes.
    All(Vec<Filter>),
    /// At least one nested filter passes.
    Any(Vec<Filter>),
    /// The nested filter does not pass.
    Not(Box<Filter>),
    /// A CloudEvents SQL expression evaluates to `true`.
    Cesql(String),
}

/// Filters nest, and a CRD's schema cannot refer to itself: a filter is an object the
/// apiserver keeps as it is, checked by motif before it is sent (as Knative's own
/// Trigger CRD does).
impl JsonSchema for Filter {
    fn schema_name() -> Cow<'static, str> {
        "Filter".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "One filter in exactly one dialect: exact, prefix, suffix, all, any, not or cesql",
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true,
        })
    }
}

/// How events are delivered: Knative's DeliverySpec.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Delivery {
    /// The least number of retries before an event goes to the dead-letter sink.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    /// `linear` (delay × attempt) or `exponential` (delay × 2^attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_policy: Option<BackoffPolicy>,
    /// The base delay between retries, an ISO 8601 duration (`PT0.5S`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_delay: Option<String>,
    /// How long one delivery attempt may take, an ISO 8601 duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Where events go that could not be delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_sink: Option<Destination>,
}

/// How retries are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackoffPolicy {
    /// The delay times the attempt number.
    Linear,
    /// The delay times two to the attempt number.
    Exponential,
}

impl BackoffPolicy {
    /// The name used in specs and by Knative.
    pub fn as_str(self) -> &'static str {
        match self {
            BackoffPolicy::Linear => "linear",
            BackoffPolicy::Exponential => "exponential",
        }
    }
}

/// Where events are sent: a function (by name, in the same namespace) or a URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Destination {
    /// A function's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// An absolute URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// The Triggers' names, one per subscription, the same on every compilation:
/// `FUNCTION-NAME` for a named subscription, else `FUNCTION-BROKER-N` with N counting the
/// unnamed subscriptions to that broker from 1. A name longer than 63 characters is cut
/// and ends with a hash of the whole.
pub fn trigger_names(function: &str, subscriptions: &[Subscription]) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    subscriptions
        .iter()
        .map(|sub| {
            let full = match &sub.name {
                Some(name) => format!("{function}-{name}"),
                None => {
                    let n = counts.entry(&sub.broker).or_default();
                    *n += 1;
                    format!("{function}-{}-{n}", sub.broker)
                }
            };
            shorten(full)
        })
        .collect()
}

/// A name cut to 63 characters (a DNS label's most), ending with a hash of the whole.
pub(crate) fn shorten(name: String) -> String {
    const MAX: usize = 63;
    if name.len() <= MAX {
        return name;
    }
    // FNV-1a: stable across builds and platforms, unlike std's hashers.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let head = name[..MAX - 9].trim_end_matches('-');
    format!("{head}-{:08x}", hash as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(name: Option<&str>, broker: &str) -> Subscription {
        Subscription {
            name: name.map(Into::into),
            broker: broker.into(),
            filter: None,
            filters: vec![],
            delivery: None,
            concurrency: None,
        }
    }

    #[test]
    fn trigger_names_are_stable_and_short() {
        let subs = [
            sub(None, "default"),
            sub(Some("orders"), "default"),
            sub(None, "default"),
            sub(None, "audit"),
        ];
        assert_eq!(
            trigger_names("fn", &subs),
            ["fn-default-1", "fn-orders", "fn-default-2", "fn-audit-1"]
        );
        let long = "a".repeat(60);
        let names = trigger_names(&long, &subs);
        assert!(names.iter().all(|n| n.len() <= 63), "{names:?}");
        assert_ne!(names[0], names[2]);
        assert_eq!(names, trigger_names(&long, &subs));
    }
}
