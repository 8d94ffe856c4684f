//! Checks a FunctionSpec's values beyond their types, naming the field at fault.

use std::fmt;

use crate::cron::{Schedule, parse_timezone};
use crate::duration::parse_iso8601;
use crate::source::{Source, source_names};
use crate::spec::FunctionSpec;
use crate::subscription::{Filter, Subscription, trigger_names};

/// Environment variables the platform sets (Knative's runtime contract reserves them).
const RESERVED_ENV: [&str; 4] = ["PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"];

/// One wrong value: the field (a dotted path) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// The field, as written in `motif.toml` (`scale.min`).
    pub field: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

/// Checks a function name: a DNS-1123 label of at most 63 characters (a Kubernetes
/// object's and a Knative Service's name; also a host label of `motif serve`).
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a function needs a name".into());
    }
    if name.len() > 63 {
        return Err(format!("`{name}` is longer than 63 characters"));
    }
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid name: use lowercase letters, digits and `-`, \
             starting with a letter and not ending with `-`"
        ))
    }
}

/// Checks a Kubernetes quantity (`500m`, `1.5`, `128Mi`, `1e3`).
fn validate_quantity(text: &str) -> Result<(), String> {
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(number_end);
    let number_ok = !number.is_empty()
        && number != "."
        && number.matches('.').count() <= 1
        && number.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    let suffix_ok = [
        "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ]
    .contains(&suffix)
        || suffix
            .strip_prefix(['e', 'E'])
            .is_some_and(|exp| exp.trim_start_matches(['+', '-']).parse::<u32>().is_ok());
    if number_ok && suffix_ok {
        Ok(())
    } else {
        Err(format!(
            "`{text}` is not a quantity: a number with an optional unit (`500m`, `128Mi`, `2`)"
        ))
    }
}

/// Checks an attribute name of a filter: CloudEvents attribute names are lowercase
/// letters and digits.
fn attribute_name_ok(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

type Fail<'a> = dyn FnMut(&str, String) + 'a;

fn validate_filter(field: &str, filter: &Filter, fail: &mut Fail<'_>) {
    match filter {
        Filter::Exact(map) | Filter::Prefix(map) | Filter::Suffix(map) => {
            if map.is_empty() {
                fail(field, "needs at least one attribute".into());
            }
            for (key, value) in map {
                if !attribute_name_ok(key) {
                    fail(
                        field,
                        format!("`{key}` is not an attribute name (lowercase letters and digits)"),
                    );
                }
                if value.is_empty() {
                    fail(field, format!("the value of `{key}` is empty"));
                }
            }
        }
        Filter::All(filters) | Filter::Any(filters) => {
            if filters.is_empty() {
                fail(field, "needs at least one nested filter".into());
            }
            for (i, nested) in filters.iter().enumerate() {
                validate_filter(&format!("{field}[{i}]"), nested, fail);
            }
        }
        Filter::Not(nested) => validate_filter(&format!("{field}.not"), nested, fail),
        Filter::Cesql(expression) => {
            if expression.trim().is_empty() {
                fail(field, "the CESQL expression is empty".into());
            } else if let Err(err) = motif_cesql::parse(expression) {
                fail(
                    field,
                    format!("`{expression}` is not a valid CESQL expression: {err}"),
                );
            }
        }
    }
}

fn validate_subscription(field: &str, sub: &Subscription, fail: &mut Fail<'_>) {
    if let Some(name) = &sub.name
        && let Err(message) = validate_name(name)
    {
        fail(&format!("{field}.name"), message);
    }
    if let Err(message) = validate_name(&sub.broker) {
        fail(&format!("{field}.broker"), message);
    }
    if sub.concurrency == Some(0) {
        fail(
            &format!("{field}.concurrency"),
            "must be at least 1 (events delivered at once)".into(),
        );
    }
    for key in sub.filter.iter().flat_map(|f| f.attributes.keys()) {
        if !attribute_name_ok(key) {
            fail(
                &format!("{field}.filter.attributes"),
                format!("`{key}` is not an attribute name (lowercase letters and digits)"),
            );
        }
    }
    for (i, filter) in sub.filters.iter().enumerate() {
        validate_filter(&format!("{field}.filters[{i}]"), filter, fail);
    }
    let Some(delivery) = &sub.delivery else {
        return;
    };
    if delivery.retry.is_some_and(|n| i32::try_from(n).is_err()) {
        fail(&format!("{field}.delivery.retry"), "is too large".into());
    }
    for (key, value) in [
        ("backoffDelay", &delivery.backoff_delay),
        ("timeout", &delivery.timeout),
    ] {
        match value.as_deref().map(parse_iso8601) {
            Some(Err(message)) => fail(&format!("{field}.delivery.{key}"), message),
            Some(Ok(d)) if key == "timeout" && d.is_zero() => fail(
                &format!("{field}.delivery.{key}"),
                "must be above zero".into(),
            ),
            _ => {}
        }
    }
    if let Some(sink) = &delivery.dead_letter_sink {
        let sink_field = format!("{field}.delivery.deadLetterSink");
        match (&sink.function, &sink.uri) {
            (Some(name), None) => {
                if let Err(message) = validate_name(name) {
                    fail(&format!("{sink_field}.function"), message);
                }
            }
            (None, Some(uri)) => {
                let ok = ["http://", "https://"]
                    .iter()
                    .any(|scheme| uri.len() > scheme.len() && uri.starts_with(scheme));
                if !ok {
                    fail(
                        &format!("{sink_field}.uri"),
                        format!("`{uri}` is not an absolute http(s) URL"),
                    );
                }
            }
            _ => fail(
                &sink_field,
                "set exactly one of `function` and `uri`".into(),
            ),
        }
    }
}

fn validate_source(field: &str, source: &Source, fail: &mut Fail<'_>) {
    if let Some(name) = &source.name
        && let Err(message) = validate_name(name)
    {
        fail(&format!("{field}.name"), message);
    }
    if let Err(message) = validate_name(&source.broker) {
        fail(&format!("{field}.broker"), message);
    }
    if let Err(message) = Schedule::parse(&source.schedule) {
        fail(&format!("{field}.schedule"), message);
    }
    if let Some(Err(message)) = source.timezone.as_deref().map(parse_timezone) {
        fail(&format!("{field}.timezone"), message);
    }
    if source.data.is_some() && source.data_base64.is_some() {
        fail(field, "set at most one of `data` and `dataBase64`".into());
    } else if let Err(message) = source.data_bytes() {
        fail(&format!("{field}.dataBase64"), message);
    }
    if let Some(content_type) = &source.content_type {
        // A CloudEvent's `datacontenttype` must be ASCII; `type/subtype` at least.
        let ok = content_type
            .split_once('/')
            .is_some_and(|(ty, sub)| !ty.is_empty() && !sub.is_empty())
            && content_type
                .bytes()
                .all(|b| b.is_ascii_graphic() || b == b' ');
        if !ok {
            fail(
                &format!("{field}.contentType"),
                format!("`{content_type}` is not a media type (`type/subtype`)"),
            );
        }
    }
}

/// Every problem with a function's name and spec, each naming its field: what
/// [`compile()`](crate::compile()) and `motif serve` refuse.
pub fn validate(name: &str, spec: &FunctionSpec) -> Vec<Invalid> {
    let mut problems = Vec::new();
    let mut fail = |field: &str, message: String| {
        problems.push(Invalid {
            field: field.into(),
            message,
        })
    };
    if let Err(message) = validate_name(name) {
        fail("name", message);
    }
    if let Some(handler) = &spec.handler
        && (handler.is_empty()
            || handler.starts_with('/')
            || handler.split('/').any(|part| part == ".."))
    {
        fail(
            "handler",
            format!("`{handler}` must be a relative path inside the function's directory"),
        );
    }
    for key in spec.env.keys() {
        let ok = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            fail(
                "env",
                format!("`{key}` is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"),
            );
        } else if RESERVED_ENV.contains(&key.as_str()) {
            fail(
                "env",
                format!("`{key}` is set by the platform (Knative reserves it)"),
            );
        }
    }
    for (i, from) in spec.env_from.iter().enumerate() {
        match (&from.secret, &from.config_map) {
            (Some(name), None) | (None, Some(name)) => {
                if let Err(message) = validate_name(name) {
                    fail(&format!("envFrom[{i}]"), message);
                }
            }
            _ => fail(
                &format!("envFrom[{i}]"),
                "set exactly one of `secret` and `configMap`".into(),
            ),
        }
    }
    for (which, list) in [
        ("requests", &spec.resources.requests),
        ("limits", &spec.resources.limits),
    ] {
        for (key, value) in [("cpu", &list.cpu), ("memory", &list.memory)] {
            if let Some(Err(message)) = value.as_deref().map(validate_quantity) {
                fail(&format!("resources.{which}.{key}"), message);
            }
        }
    }
    if spec.timeout_seconds == Some(0) {
        fail("timeoutSeconds", "must be at least 1".into());
    }
    if let (Some(min), Some(max)) = (spec.scale.min, spec.scale.max)
        && max != 0
        && min > max
    {
        fail(
            "scale.min",
            format!("min scale {min} is above max scale {max}"),
        );
    }
    if spec.scale.target == Some(0) {
        fail("scale.target", "must be at least 1".into());
    }
    if let Some(image) = &spec.artifact.image
        && !image.contains("@sha256:")
    {
        fail(
            "artifact.image",
            format!("`{image}` must name the image by digest (`REPO@sha256:...`)"),
        );
    }
    if let Some(source) = &spec.source {
        for (field, message) in source.problems() {
            fail(field, message);
        }
    }
    if let Some(secret) = &spec.build.registry_secret
        && let Err(message) = validate_name(secret)
    {
        fail("build.registrySecret", message);
    }
    validate_traffic(spec, &mut fail);
    for (i, sub) in spec.subscriptions.iter().enumerate() {
        validate_subscription(&format!("subscriptions[{i}]"), sub, &mut fail);
    }
    let names = trigger_names(name, &spec.subscriptions);
    for (i, trigger) in names.iter().enumerate() {
        if names[..i].contains(trigger) {
            fail(
                &format!("subscriptions[{i}].name"),
                format!("another subscription is already called `{trigger}`"),
            );
        }
    }
    for (i, source) in spec.sources.iter().enumerate() {
        validate_source(&format!("sources[{i}]"), source, &mut fail);
    }
    let names = source_names(name, &spec.sources);
    for (i, source) in names.iter().enumerate() {
        if names[..i].contains(source) {
            fail(
                &format!("sources[{i}].name"),
                format!("another source is already called `{source}`"),
            );
        }
    }
    problems
}

fn validate_traffic(spec: &FunctionSpec, fail: &mut Fail<'_>) {
    if spec.traffic.is_empty() {
        return;
    }
    let total: u64 = spec.traffic.iter().map(|t| u64::from(t.percent)).sum();
    if total != 100 {
        fail(
            "traffic",
            format!("the percentages sum to {total}; they must sum to 100"),
        );
    }
    let mut tags = Vec::new();
    for (i, target) in spec.traffic.iter().enumerate() {
        if target.percent > 100 {
            fail(
                &format!("traffic[{i}].percent"),
                format!("{} is above 100", target.percent),
            );
        }
        if let Some(revision) = &target.revision
            && let Err(message) = validate_name(revision)
        {
            fail(&format!("traffic[{i}].revision"), message);
        }
        if let Some(tag) = &target.tag {
            // A tag is a DNS-1035 label, which validate_name's rules already are.
            if let Err(message) = validate_name(tag) {
                fail(&format!("traffic[{i}].tag"), message);
            } else if tags.contains(&tag) {
                fail(
                    &format!("traffic[{i}].tag"),
                    format!("`{tag}` names two targets"),
                );
            }
            tags.push(tag);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for good in ["1", "0.5", "500m", "128Mi", "1Gi", "2e3", "1.5G"] {
            assert!(validate_quantity(good).is_ok(), "{good}");
        }
        for bad in ["", "m", "1.2.3", "12 Mi", "-1", "1mb", "Mi"] {
            assert!(validate_quantity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        for good in ["a", "hello", "hello-2", &"a".repeat(63)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Hello",
            "2x",
            "a_b",
            "a-",
            "a.b",
            &"a".repeat(64),
            "../x",
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_cesql_filter_must_parse() {
        let mut problems = Vec::new();
        let mut fail = |field: &str, message: String| problems.push((field.to_owned(), message));
        let field = "subscriptions[0].filters[1]";
        validate_filter(field, &Filter::Cesql("type = 'a' AND".into()), &mut fail);
        validate_filter(field, &Filter::Cesql("type LIKE 'a%'".into()), &mut fail);
        assert_eq!(
            problems,
            [(
                field.to_owned(),
                "`type = 'a' AND` is not a valid CESQL expression: expected an expression, \
                 found the end of the expression at column 15"
                    .to_owned()
            )]
        );
    }
}
