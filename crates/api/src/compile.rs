//! Compiling a Function to Knative: one Service, one Trigger per subscription and one
//! PingSource per source.
//!
//! Pure functions of the Function alone, so that `motif render`, `motif deploy --cluster`,
//! the controller and the tests produce the same objects. Nothing in a revision template
//! changes between two compilations of the same Function, so an unchanged Function makes
//! no new Knative Revision.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMapEnvSource, Container, ContainerPort, EnvFromSource, EnvVar, HTTPGetAction, Probe,
    ResourceRequirements, SecretEnvSource,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Resource;

use crate::knative::{
    DeliverySpec, Destination, KReference, KnativeService, PingSource, PingSourceSpec,
    RevisionSpec, RevisionTemplate, ServiceSpec, TemplateMeta, TrafficTarget, Trigger, TriggerSpec,
};
use crate::source::{self, Source};
use crate::spec::{Function, FunctionSpec, ResourceList, Visibility};
use crate::subscription::{self, Subscription};
use crate::validate::{Invalid, validate};

/// The label on every object compiled from a Function: its name.
pub const FUNCTION_LABEL: &str = "motif.dev/function";
/// The serving container's name, as Knative names it.
pub const CONTAINER_NAME: &str = "user-container";
/// The port the invoker listens on (`PORT`), Knative's default.
pub const PORT: i32 = 8080;
/// The contract's readiness path.
pub const READY_PATH: &str = "/_/ready";
/// The contract's liveness path.
pub const LIVE_PATH: &str = "/_/live";

const AUTOSCALING: &str = "autoscaling.knative.dev/";
const VISIBILITY_LABEL: &str = "networking.knative.dev/visibility";
/// Annotations that describe how an object was applied, not what it is.
const NOT_COPIED: [&str; 1] = ["kubectl.kubernetes.io/last-applied-configuration"];

/// What a Function compiles to.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    /// The Knative Service, same name and namespace as the Function.
    pub service: KnativeService,
    /// One Trigger per subscription, in the spec's order.
    pub triggers: Vec<Trigger>,
    /// One PingSource per source, in the spec's order, its sink the source's broker.
    pub ping_sources: Vec<PingSource>,
}

/// Why a Function does not compile.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The Function has no name.
    #[error("the Function has no name")]
    NoName,
    /// Its values are wrong.
    #[error("the Function `{name}` has invalid values: {}", join(.problems))]
    Invalid {
        /// The Function.
        name: String,
        /// Every problem, each naming its field.
        problems: Vec<Invalid>,
    },
    /// There is no image to run.
    #[error("the Function `{0}` has no image: `artifact.image` is not set")]
    NoImage(String),
    /// The Function is built from its source by the cluster, and no build has finished.
    #[error("the Function `{0}` is built from its source by the cluster, and has no image yet")]
    NotBuilt(String),
}

impl CompileError {
    /// What to do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CompileError::NoImage(_) => Some(
                "run `motif build --push --registry HOST/REPO` first: it records the pushed \
                 image, by digest, in motif.toml",
            ),
            CompileError::NotBuilt(_) => Some(
                "the cluster builds it: deploy it with `motif function create --cluster`, \
                 or set `artifact.image` to serve an image built elsewhere",
            ),
            _ => None,
        }
    }
}

fn join(problems: &[Invalid]) -> String {
    let texts: Vec<_> = problems.iter().map(ToString::to_string).collect();
    texts.join("; ")
}

/// Compiles a Function (its metadata and spec) to its Knative objects. The owner
/// reference to the Function is set when the Function has a `uid` (it came from the
/// cluster), and left out when it is rendered offline.
pub fn compile(function: &Function) -> Result<Compiled, CompileError> {
    let name = function.metadata.name.clone().ok_or(CompileError::NoName)?;
    let spec = &function.spec;
    let problems = validate(&name, spec);
    if !problems.is_empty() {
        return Err(CompileError::Invalid { name, problems });
    }
    // A Function built by the cluster runs what its latest build reported.
    let image = match (&spec.artifact.image, &spec.source) {
        (Some(image), _) => image.clone(),
        (None, Some(_)) => function
            .status
            .as_ref()
            .and_then(|s| s.latest_image.clone())
            .ok_or_else(|| CompileError::NotBuilt(name.clone()))?,
        (None, None) => return Err(CompileError::NoImage(name)),
    };

    let user_annotations: BTreeMap<String, String> = function
        .metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (template_annotations, service_annotations): (BTreeMap<_, _>, BTreeMap<_, _>) =
        user_annotations
            .into_iter()
            .partition(|(k, _)| k.starts_with(AUTOSCALING));

    let mut service_meta = child_meta(function, &name, service_annotations);
    if spec.visibility == Some(Visibility::ClusterLocal) {
        service_meta
            .labels
            .get_or_insert_default()
            .insert(VISIBILITY_LABEL.into(), "cluster-local".into());
    }
    let service = KnativeService {
        metadata: service_meta,
        spec: ServiceSpec {
            template: RevisionTemplate {
                metadata: TemplateMeta {
                    labels: BTreeMap::from([(FUNCTION_LABEL.to_owned(), name.clone())]),
                    annotations: scale_annotations(spec, template_annotations),
                },
                spec: RevisionSpec {
                    container_concurrency: spec.concurrency.map(i64::from),
                    timeout_seconds: Some(i64::from(spec.timeout())),
                    containers: vec![container(&name, spec, image)],
                },
            },
            traffic: spec.traffic.iter().map(traffic_target).collect(),
        },
        status: None,
    };

    let names = subscription::trigger_names(&name, &spec.subscriptions);
    let triggers = spec
        .subscriptions
        .iter()
        .zip(names)
        .map(|(sub, trigger_name)| {
            let mut meta = child_meta(function, &trigger_name, BTreeMap::new());
            meta.labels
                .get_or_insert_default()
                .insert(FUNCTION_LABEL.into(), name.clone());
            Trigger {
                metadata: meta,
                spec: trigger_spec(&name, sub),
                status: None,
            }
        })
        .collect();

    let names = source::source_names(&name, &spec.sources);
    let mut ping_sources = Vec::with_capacity(spec.sources.len());
    let mut problems = Vec::new();
    for (i, (source, source_name)) in spec.sources.iter().zip(names).enumerate() {
        let mut meta = child_meta(function, &source_name, BTreeMap::new());
        meta.labels
            .get_or_insert_default()
            .insert(FUNCTION_LABEL.into(), name.clone());
        match ping_source_spec(source) {
            Ok(spec) => ping_sources.push(PingSource {
                metadata: meta,
                spec,
                status: None,
            }),
            Err((field, message)) => problems.push(Invalid {
                field: format!("sources[{i}].{field}"),
                message,
            }),
        }
    }
    if !problems.is_empty() {
        return Err(CompileError::Invalid { name, problems });
    }
    Ok(Compiled {
        service,
        triggers,
        ping_sources,
    })
}

/// A child's metadata: its name, the Function's namespace, labels (with
/// [`FUNCTION_LABEL`]) and the owner reference.
fn child_meta(
    function: &Function,
    name: &str,
    annotations: BTreeMap<String, String>,
) -> ObjectMeta {
    let function_name = function.metadata.name.clone().unwrap_or_default();
    let mut labels = function.metadata.labels.clone().unwrap_or_default();
    labels.insert(FUNCTION_LABEL.into(), function_name);
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: function.metadata.namespace.clone(),
        labels: Some(labels),
        annotations: (!annotations.is_empty()).then_some(annotations),
        owner_references: function.controller_owner_ref(&()).map(|owner| vec![owner]),
        ..ObjectMeta::default()
    }
}

fn scale_annotations(
    spec: &FunctionSpec,
    mut annotations: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let scale = &spec.scale;
    for (key, value) in [
        ("min-scale", scale.min),
        ("max-scale", scale.max),
        ("target", scale.target),
    ] {
        if let Some(value) = value {
            annotations.insert(format!("{AUTOSCALING}{key}"), value.to_string());
        }
    }
    annotations
}

fn container(name: &str, spec: &FunctionSpec, image: String) -> Container {
    let probe = |path: &str| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::Int(PORT),
            ..HTTPGetAction::default()
        }),
        ..Probe::default()
    };
    let env = spec
        .runtime_env(name)
        .into_iter()
        .map(|(name, value)| EnvVar {
            name,
            value: Some(value),
            value_from: None,
        })
        .collect();
    let env_from: Vec<EnvFromSource> = spec
        .env_from
        .iter()
        .map(|from| EnvFromSource {
            secret_ref: from.secret.clone().map(|name| SecretEnvSource {
                name,
                optional: None,
            }),
            config_map_ref: from.config_map.clone().map(|name| ConfigMapEnvSource {
                name,
                optional: None,
            }),
            prefix: None,
        })
        .collect();
    let quantities = |list: &ResourceList| {
        let map: BTreeMap<String, Quantity> = [("cpu", &list.cpu), ("memory", &list.memory)]
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), Quantity(v.clone()?))))
            .collect();
        (!map.is_empty()).then_some(map)
    };
    let resources = ResourceRequirements {
        requests: quantities(&spec.resources.requests),
        limits: quantities(&spec.resources.limits),
        ..ResourceRequirements::default()
    };
    Container {
        name: CONTAINER_NAME.into(),
        image: Some(image),
        ports: Some(vec![ContainerPort {
            name: Some("http1".into()),
            container_port: PORT,
            // The apiserver defaults it (a key of the ports list): said here, what is
            // stored is what was applied.
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: Some(env),
        env_from: (!env_from.is_empty()).then_some(env_from),
        resources: (resources != ResourceRequirements::default()).then_some(resources),
        readiness_probe: Some(probe(READY_PATH)),
        liveness_probe: Some(probe(LIVE_PATH)),
        ..Container::default()
    }
}

fn traffic_target(target: &crate::spec::TrafficTarget) -> TrafficTarget {
    TrafficTarget {
        revision_name: target.revision.clone(),
        latest_revision: Some(target.revision.is_none()),
        percent: Some(i64::from(target.percent)),
        tag: target.tag.clone(),
        url: None,
    }
}

/// A reference to the Knative Service of a function in the same namespace.
fn service_ref(name: &str) -> Destination {
    Destination {
        reference: Some(KReference {
            api_version: "serving.knative.dev/v1".into(),
            kind: "Service".into(),
            name: name.to_owned(),
        }),
        uri: None,
    }
}

fn trigger_spec(function: &str, sub: &Subscription) -> TriggerSpec {
    let delivery = sub.delivery.as_ref().map(|d| DeliverySpec {
        dead_letter_sink: d
            .dead_letter_sink
            .as_ref()
            .map(|sink| match &sink.function {
                Some(name) => service_ref(name),
                None => Destination {
                    reference: None,
                    uri: sink.uri.clone(),
                },
            }),
        retry: d.retry.map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
        backoff_policy: d.backoff_policy.map(|p| p.as_str().to_owned()),
        backoff_delay: d.backoff_delay.clone(),
        timeout: d.timeout.clone(),
    });
    TriggerSpec {
        broker: sub.broker.clone(),
        filter: sub.filter.clone(),
        filters: sub.filters.clone(),
        subscriber: service_ref(function),
        delivery,
    }
}

/// A source's PingSource spec: the schedule, its time zone as Knative names it, the data
/// and its content type (resolved here, so the cluster sends what `motif serve` does),
/// and the broker as the sink.
fn ping_source_spec(source: &Source) -> Result<PingSourceSpec, (&'static str, String)> {
    if weekday_seven(&source.schedule) {
        return Err((
            "schedule",
            format!(
                "`{}` names Sunday as day 7: Knative's PingSource reads days of the week \
                 0-6; write 0 (or SUN) for Sunday",
                source.schedule
            ),
        ));
    }
    let timezone = source
        .timezone
        .as_deref()
        .map(knative_timezone)
        .transpose()
        .map_err(|message| ("timezone", message))?;
    Ok(PingSourceSpec {
        schedule: source.schedule.clone(),
        timezone,
        content_type: source.data_content_type(),
        data: source.data.clone(),
        data_base64: source.data_base64.clone(),
        sink: Destination {
            reference: Some(KReference {
                api_version: "eventing.knative.dev/v1".into(),
                kind: "Broker".into(),
                name: source.broker.clone(),
            }),
            uri: None,
        },
    })
}

/// Whether a five-field schedule's day of week names `7` (a value or a range's bound),
/// which motif (as Vixie cron) reads as Sunday and Knative's parser refuses.
fn weekday_seven(schedule: &str) -> bool {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    let [.., day_of_week] = fields.as_slice() else {
        return false;
    };
    fields.len() == 5
        && day_of_week.split(',').any(|part| {
            let range = part.split('/').next().unwrap_or("");
            range.split('-').any(|bound| bound == "7")
        })
}

/// A validated time zone (`UTC` or `±HH:MM`) as the IANA name Knative's PingSource
/// takes. A whole-hour offset has one in the `Etc` area, whose signs are POSIX's,
/// inverted: `+02:00` is `Etc/GMT-2`. Other offsets have no zone of their own.
fn knative_timezone(timezone: &str) -> Result<String, String> {
    let offset = crate::cron::parse_timezone(timezone)?;
    let (hours, minutes, _) = offset.as_hms();
    match (hours, minutes) {
        (0, 0) => Ok("UTC".into()),
        (h, 0) if h > 0 => Ok(format!("Etc/GMT-{h}")),
        (h, 0) => Ok(format!("Etc/GMT+{}", -h)),
        _ => Err(format!(
            "`{timezone}` is not a whole number of hours: Knative's PingSource takes an IANA \
             time zone, and only whole-hour offsets have one (`Etc/GMT-2` is `+02:00`); on a \
             cluster, use a whole-hour offset or `UTC`"
        )),
    }
}
