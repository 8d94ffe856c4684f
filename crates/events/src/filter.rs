//! Knative's Trigger filters (contracts.md §8.2), compiled once per trigger and
//! evaluated per event.
//!
//! - The legacy `filter.attributes`: every listed attribute is present and equal to its
//!   value, case-sensitively; an empty value matches any present, non-empty value.
//! - `filters`, the Subscriptions API dialects, all of which must pass: `exact`,
//!   `prefix` and `suffix` (every listed attribute; a missing one fails), `all`, `any`,
//!   `not`, and `cesql`, which passes only on a Boolean `true` without errors.
//! - A non-empty `filters` overrides `filter`; an empty one does not. No filter at all
//!   passes everything.
//!
//! Attributes are looked up as Knative's broker looks them up: the core ones by name
//! (`schemaurl` and `datamediatype` too, Knative's aliases), `time` as its RFC 3339 text,
//! anything else among the extensions, whose Integer and Boolean values are compared in
//! their canonical string form.
//!
//! # Degenerate filters
//!
//! A dialect Knative's data plane cannot build (an empty map, an empty key or value, an
//! empty `all` or `any`, an empty `cesql`) is left out, as Knative leaves it out: it
//! neither passes nor fails, so `not` of it is left out too, and a `filters` list left
//! empty passes everything. motif's validation refuses all of these before a trigger is
//! made; this only keeps the two brokers agreeing if one gets through. A `cesql` that
//! does not parse is an error here ([`FilterError`]), where Knative's webhook refuses it.
//!
//! Matching allocates nothing for `exact`, `prefix`, `suffix` and the legacy filter,
//! except to print an Integer extension.

use std::borrow::Cow;

use motif_api::{AttributesFilter, Filter};
use motif_cesql::{Expression, ParseError};
use motif_contract::{Event, ExtensionValue};

/// A Trigger's filters, compiled once (CESQL parsed), evaluated per event.
#[derive(Clone, Debug)]
pub struct TriggerFilter {
    /// `None` passes everything.
    root: Option<Node>,
}

/// A `cesql` filter that does not parse, and where it is.
///
/// The parse error is part of the message (a trigger's error is shown as one line), so
/// it is not also the error's `source`, which would print it twice.
#[derive(Clone, Debug, thiserror::Error)]
#[error("`{path}` is not a valid CESQL expression: {error}")]
pub struct FilterError {
    /// The filter's path in the trigger: `filters[0].any[1].cesql`.
    pub path: String,
    /// What the parser said.
    pub error: ParseError,
}

#[derive(Clone, Debug)]
enum Node {
    /// The legacy `filter.attributes`.
    Attributes(Vec<(Attribute, String)>),
    Exact(Vec<(Attribute, String)>),
    Prefix(Vec<(Attribute, String)>),
    Suffix(Vec<(Attribute, String)>),
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Cesql(Expression),
}

/// An attribute name, resolved once.
#[derive(Clone, Debug)]
enum Attribute {
    SpecVersion,
    Id,
    Source,
    Type,
    Subject,
    Time,
    DataSchema,
    DataContentType,
    /// `datacontenttype` without its parameters (Knative's `datamediatype`).
    DataMediaType,
    Extension(String),
}

impl Attribute {
    fn new(name: &str) -> Attribute {
        match name {
            "specversion" => Attribute::SpecVersion,
            "id" => Attribute::Id,
            "source" => Attribute::Source,
            "type" => Attribute::Type,
            "subject" => Attribute::Subject,
            "time" => Attribute::Time,
            "dataschema" | "schemaurl" => Attribute::DataSchema,
            "datacontenttype" => Attribute::DataContentType,
            "datamediatype" => Attribute::DataMediaType,
            _ => Attribute::Extension(name.to_owned()),
        }
    }

    /// The attribute's value in canonical string form, if the event has it.
    fn get<'e>(&self, event: &'e Event) -> Option<Cow<'e, str>> {
        let core = match self {
            Attribute::SpecVersion => Some(event.specversion()),
            Attribute::Id => Some(event.id()),
            Attribute::Source => Some(event.source()),
            Attribute::Type => Some(event.ty()),
            Attribute::Subject => event.subject(),
            Attribute::Time => event.time(),
            Attribute::DataSchema => event.dataschema(),
            Attribute::DataContentType => event.datacontenttype(),
            Attribute::DataMediaType => event
                .datacontenttype()
                .map(|ct| ct.split(';').next().unwrap_or_default().trim()),
            Attribute::Extension(name) => {
                return event.extension(name).map(ExtensionValue::to_canonical);
            }
        };
        core.map(Cow::Borrowed)
    }
}

impl TriggerFilter {
    /// Compiles a Trigger's `filter` and `filters`; a non-empty `filters` overrides
    /// `filter`.
    pub fn new(
        filter: Option<&AttributesFilter>,
        filters: &[Filter],
    ) -> Result<TriggerFilter, FilterError> {
        let root = if !filters.is_empty() {
            all(compile_list(filters, "filters")?)
        } else {
            filter.map(|f| {
                Node::Attributes(
                    f.attributes
                        .iter()
                        .map(|(name, value)| (Attribute::new(name), value.clone()))
                        .collect(),
                )
            })
        };
        Ok(TriggerFilter { root })
    }

    /// The filter that passes every event.
    pub fn everything() -> TriggerFilter {
        TriggerFilter { root: None }
    }

    /// Whether `event` passes.
    pub fn matches(&self, event: &Event) -> bool {
        self.root.as_ref().is_none_or(|node| node.matches(event))
    }
}

/// `filters` at `path`, each compiled, the degenerate ones left out.
fn compile_list(filters: &[Filter], path: &str) -> Result<Vec<Node>, FilterError> {
    let mut nodes = Vec::with_capacity(filters.len());
    for (i, filter) in filters.iter().enumerate() {
        nodes.extend(compile(filter, &format!("{path}[{i}]"))?);
    }
    Ok(nodes)
}

/// One filter; `None` when it is degenerate (see the module's docs).
fn compile(filter: &Filter, path: &str) -> Result<Option<Node>, FilterError> {
    let pairs = |map: &std::collections::BTreeMap<String, String>| {
        let degenerate = map.is_empty() || map.iter().any(|(k, v)| k.is_empty() || v.is_empty());
        (!degenerate).then(|| {
            map.iter()
                .map(|(name, value)| (Attribute::new(name), value.clone()))
                .collect()
        })
    };
    Ok(match filter {
        Filter::Exact(map) => pairs(map).map(Node::Exact),
        Filter::Prefix(map) => pairs(map).map(Node::Prefix),
        Filter::Suffix(map) => pairs(map).map(Node::Suffix),
        Filter::All(nested) => all(compile_list(nested, &format!("{path}.all"))?),
        Filter::Any(nested) => {
            let nodes = compile_list(nested, &format!("{path}.any"))?;
            match nodes.len() {
                0 => None,
                1 => nodes.into_iter().next(),
                _ => Some(Node::Any(nodes)),
            }
        }
        Filter::Not(nested) => {
            compile(nested, &format!("{path}.not"))?.map(|node| Node::Not(Box::new(node)))
        }
        Filter::Cesql(expression) if expression.is_empty() => None,
        Filter::Cesql(expression) => Some(Node::Cesql(motif_cesql::parse(expression).map_err(
            |error| FilterError {
                path: format!("{path}.cesql"),
                error,
            },
        )?)),
    })
}

/// Every one of `nodes`; `None` (no filter) when there are none.
fn all(nodes: Vec<Node>) -> Option<Node> {
    match nodes.len() {
        0 => None,
        1 => nodes.into_iter().next(),
        _ => Some(Node::All(nodes)),
    }
}

impl Node {
    fn matches(&self, event: &Event) -> bool {
        let each = |pairs: &[(Attribute, String)], test: fn(&str, &str) -> bool| {
            pairs
                .iter()
                .all(|(attribute, want)| attribute.get(event).is_some_and(|got| test(&got, want)))
        };
        match self {
            Node::Attributes(pairs) => each(pairs, |got, want| {
                if want.is_empty() {
                    !got.is_empty()
                } else {
                    got == want
                }
            }),
            Node::Exact(pairs) => each(pairs, |got, want| got == want),
            Node::Prefix(pairs) => each(pairs, |got, want| got.starts_with(want)),
            Node::Suffix(pairs) => each(pairs, |got, want| got.ends_with(want)),
            Node::All(nodes) => nodes.iter().all(|node| node.matches(event)),
            Node::Any(nodes) => nodes.iter().any(|node| node.matches(event)),
            Node::Not(node) => !node.matches(event),
            Node::Cesql(expression) => expression.matches(event),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn event() -> Event {
        Event::builder("1", "/src", "com.example.a")
            .time("2024-01-02T03:04:05Z")
            .dataschema("https://example.com/schema")
            .data("application/json; charset=utf-8", "{}")
            .extension("count", 42)
            .extension("flag", true)
            .build()
            .unwrap()
    }

    fn passes(filters: Vec<Filter>) -> bool {
        TriggerFilter::new(None, &filters)
            .unwrap()
            .matches(&event())
    }

    #[test]
    fn typed_extensions_compare_in_canonical_form() {
        assert!(passes(vec![Filter::Exact(map(&[("count", "42")]))]));
        assert!(passes(vec![Filter::Prefix(map(&[("flag", "tr")]))]));
        assert!(passes(vec![Filter::Cesql("count = 42 AND flag".into())]));
    }

    #[test]
    fn core_attributes_and_knative_aliases() {
        assert!(passes(vec![Filter::Exact(map(&[
            ("specversion", "1.0"),
            ("time", "2024-01-02T03:04:05Z"),
            ("schemaurl", "https://example.com/schema"),
            ("datamediatype", "application/json"),
            ("datacontenttype", "application/json; charset=utf-8"),
        ]))]));
        assert!(!passes(vec![Filter::Prefix(map(&[("subject", "a")]))]));
    }

    #[test]
    fn legacy_attributes_need_a_present_non_empty_value_for_an_empty_filter() {
        let legacy = |pairs: &[(&str, &str)]| AttributesFilter {
            attributes: map(pairs),
        };
        let matches =
            |f: AttributesFilter| TriggerFilter::new(Some(&f), &[]).unwrap().matches(&event());
        assert!(matches(legacy(&[("type", ""), ("count", "42")])));
        assert!(!matches(legacy(&[("subject", "")])));
        assert!(!matches(legacy(&[("type", "com.example.A")])));
        assert!(matches(legacy(&[])));
    }

    #[test]
    fn degenerate_filters_neither_pass_nor_fail() {
        let fails = Filter::Exact(map(&[("type", "nope")]));
        let empty = Filter::Exact(BTreeMap::new());
        assert!(passes(vec![empty.clone()]));
        assert!(passes(vec![Filter::Not(Box::new(empty.clone()))]));
        assert!(passes(vec![Filter::Cesql(String::new())]));
        assert!(passes(vec![Filter::Any(vec![])]));
        assert!(!passes(vec![Filter::Any(vec![
            empty.clone(),
            fails.clone()
        ])]));
        assert!(!passes(vec![Filter::All(vec![empty, fails])]));
        assert!(passes(vec![Filter::Prefix(map(&[("type", "")]))]));
    }

    #[test]
    fn a_bad_expression_names_its_filter() {
        let filters = [Filter::All(vec![Filter::Any(vec![
            Filter::Exact(map(&[("type", "a")])),
            Filter::Not(Box::new(Filter::Cesql("type = ".into()))),
        ])])];
        let err = TriggerFilter::new(None, &filters).unwrap_err();
        assert_eq!(err.path, "filters[0].all[0].any[1].not.cesql");
        assert_eq!(
            err.to_string(),
            "`filters[0].all[0].any[1].not.cesql` is not a valid CESQL expression: \
             expected an expression, found the end of the expression at column 8"
        );
    }

    #[test]
    fn everything_passes_everything() {
        assert!(TriggerFilter::everything().matches(&event()));
        assert!(TriggerFilter::new(None, &[]).unwrap().matches(&event()));
    }
}
