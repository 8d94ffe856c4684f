//! The Knative objects a Function compiles to: `serving.knative.dev/v1` Service,
//! `eventing.knative.dev/v1` Trigger and `sources.knative.dev/v1` PingSource, with the
//! fields motif writes and reads.
//!
//! Knative installs their CRDs; these types only give them Rust shapes (no schema of
//! their own), so that a controller can apply and watch them with typed `Api`s.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Container;
use kube::CustomResource;
use serde::{Deserialize, Serialize};

use crate::status::Condition;
use crate::subscription::{AttributesFilter, Filter};

/// A Knative Serving Service: a revision template and how traffic reaches revisions.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "serving.knative.dev",
    version = "v1",
    kind = "Service",
    root = "KnativeService",
    namespaced,
    status = "ServiceStatus",
    derive = "PartialEq",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// What each revision runs.
    pub template: RevisionTemplate,
    /// How requests split between revisions; empty means all to the latest ready.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traffic: Vec<TrafficTarget>,
}

/// A revision's metadata and spec.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionTemplate {
    /// Labels and annotations of each revision (autoscaling annotations go here).
    pub metadata: TemplateMeta,
    /// The containers and their limits.
    pub spec: RevisionSpec,
}

/// Labels and annotations of a revision template.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateMeta {
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// What a revision runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionSpec {
    /// Requests one container handles at once; 0 means no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_concurrency: Option<i64>,
    /// The longest a request may take, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    /// The serving container.
    pub containers: Vec<Container>,
}

/// A share of traffic, to one revision or to the latest ready one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficTarget {
    /// The revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_name: Option<String>,
    /// Whether the target follows the latest ready revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_revision: Option<bool>,
    /// The percentage of requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<i64>,
    /// A tag with its own URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The tag's URL (status only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What Knative reports on a Service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The public URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The newest ready revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_ready_revision_name: Option<String>,
    /// The newest revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_created_revision_name: Option<String>,
    /// `Ready`, `ConfigurationsReady`, `RoutesReady`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A Knative Eventing Trigger: events from a broker that pass filters, to a subscriber.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "eventing.knative.dev",
    version = "v1",
    kind = "Trigger",
    namespaced,
    status = "TriggerStatus",
    derive = "PartialEq",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct TriggerSpec {
    /// The broker's name (immutable).
    pub broker: String,
    /// The legacy exact-match filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<AttributesFilter>,
    /// The filters, all of which must pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Where matching events go.
    pub subscriber: Destination,
    /// Retries, backoff, dead letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliverySpec>,
}

/// A Knative Destination: an addressable object, a URL, or a path relative to the object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// The addressable object.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<KReference>,
    /// A URL (absolute, or relative to `ref`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// A reference to an object in the same namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KReference {
    /// `serving.knative.dev/v1`, `eventing.knative.dev/v1`.
    pub api_version: String,
    /// `Service`, `Broker`.
    pub kind: String,
    /// The object's name.
    pub name: String,
}

/// Knative's DeliverySpec.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliverySpec {
    /// Where undeliverable events go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_sink: Option<Destination>,
    /// The least number of retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<i32>,
    /// `linear` or `exponential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_policy: Option<String>,
    /// ISO 8601 base delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_delay: Option<String>,
    /// ISO 8601 timeout of one attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// What Knative reports on a Trigger.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerStatus {
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `BrokerReady`, `SubscriberResolved`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The subscriber's resolved URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber_uri: Option<String>,
}

/// A Knative PingSource: an event sent to a sink on a cron schedule.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "sources.knative.dev",
    version = "v1",
    kind = "PingSource",
    namespaced,
    status = "PingSourceStatus",
    derive = "PartialEq",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct PingSourceSpec {
    /// Five cron fields or a descriptor (`@hourly`).
    pub schedule: String,
    /// An IANA time zone the schedule is read in [default: the cluster's, normally UTC].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The media type of the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The event's data, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The event's data, binary, in base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_base64: Option<String>,
    /// Where the events go: a Broker.
    pub sink: Destination,
}

/// What Knative reports on a PingSource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PingSourceStatus {
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `SinkProvided`, `Deployed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The sink's resolved URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sink_uri: Option<String>,
}

/// `Ready`'s condition, if reported.
pub fn ready(conditions: &[Condition]) -> Option<&Condition> {
    conditions.iter().find(|c| c.type_ == "Ready")
}
