//! Knative's Trigger filter matrix, restated in
//! `$MOTIF_CONFORMANCE_DIR/derived/knative-trigger-filter-cases.yaml` (else
//! `../shared/conformance` beside the workspace): every event of every case must be
//! delivered or not as the case says. Without the data the test says so and passes,
//! unless `MOTIF_REQUIRE_CONFORMANCE` is set.
//!
//! A case has a legacy `filter` and/or `filters` (read through motif-api's own
//! deserialization, as a `motif.toml` or a Function would be) and `events`, each
//! `{attrs, deliver}`. The case of two triggers on one broker lists
//! `events_trigger1` and `events_trigger2` and describes the triggers in its `note`;
//! they are built here from that note.

use std::path::PathBuf;

use motif_api::{AttributesFilter, Filter};
use motif_contract::{Event, ExtensionValue};
use motif_events::filter::TriggerFilter;
use yaml_rust2::{Yaml, YamlLoader};

/// What the file holds: a different count means it changed or is incomplete.
const CASES: usize = 16;
const EVENTS: usize = 47;

fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MOTIF_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!(
        "conformance data not found at {} (set MOTIF_CONFORMANCE_DIR)",
        dir.display()
    );
    assert!(
        std::env::var_os("MOTIF_REQUIRE_CONFORMANCE").is_none(),
        "{message}"
    );
    eprintln!("skipped: {message}");
    None
}

#[test]
fn every_knative_filter_case_delivers_as_knative_does() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let path = dir.join("derived/knative-trigger-filter-cases.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs = YamlLoader::load_from_str(&text).expect("valid YAML");
    let cases = docs[0]["cases"].as_vec().expect("a `cases` list");

    let (mut listed, mut checked) = (0, 0);
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("a case name");
        let triggers = match (&case["events_trigger1"], &case["events_trigger2"]) {
            (Yaml::Array(_), Yaml::Array(_)) => two_triggers(case),
            _ => vec![("events", filter_of(case))],
        };
        for (key, filter) in triggers {
            let events = case[key]
                .as_vec()
                .unwrap_or_else(|| panic!("{name}: no `{key}` list"));
            listed += events.len();
            for (i, expected) in events.iter().enumerate() {
                checked += 1;
                let event = event(&expected["attrs"]);
                let deliver = expected["deliver"].as_bool().expect("`deliver` is a bool");
                if filter.matches(&event) != deliver {
                    failures.push(format!(
                        "{name}: {key}[{i}] should {}be delivered: {event:?}",
                        if deliver { "" } else { "not " }
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} events are filtered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, listed, "every listed event was checked");
    assert_eq!(
        (cases.len(), checked),
        (CASES, EVENTS),
        "{} is not the file of 16 cases and 47 events this test was written for",
        path.display()
    );
    eprintln!(
        "{checked} events of {} cases filtered as Knative does",
        cases.len()
    );
}

/// A case's `filter` and `filters`, compiled.
fn filter_of(case: &Yaml) -> TriggerFilter {
    let filter: Option<AttributesFilter> = match &case["filter"] {
        Yaml::BadValue => None,
        yaml => Some(serde_json::from_value(json(yaml)).expect("a legacy filter")),
    };
    let filters: Vec<Filter> = match &case["filters"] {
        Yaml::BadValue => Vec::new(),
        yaml => serde_json::from_value(json(yaml)).expect("Subscriptions API filters"),
    };
    TriggerFilter::new(filter.as_ref(), &filters).expect("filters that compile")
}

/// The two triggers of the case that has them, as its `note` describes them.
fn two_triggers(case: &Yaml) -> Vec<(&'static str, TriggerFilter)> {
    let note = case["note"]
        .as_str()
        .expect("a note describing the triggers");
    let trigger = |n: u8, exact: &str| {
        let described = format!("trigger{n} filters any[exact {exact}, prefix both]");
        assert!(note.contains(&described), "the note changed: {note}");
        let any = Filter::Any(vec![
            Filter::Exact([("type".to_owned(), exact.to_owned())].into()),
            Filter::Prefix([("type".to_owned(), "both".to_owned())].into()),
        ]);
        TriggerFilter::new(None, &[any]).expect("filters that compile")
    };
    vec![
        ("events_trigger1", trigger(1, "type1")),
        ("events_trigger2", trigger(2, "type2")),
    ]
}

/// An event with `attrs`, and valid defaults for the REQUIRED attributes it omits.
fn event(attrs: &Yaml) -> Event {
    let mut builder = Event::builder("filter-test", "/filters/source", "filters.default.type");
    for (name, value) in attrs.as_hash().expect("`attrs` is a map") {
        let name = name.as_str().expect("an attribute name");
        let text = || match value {
            Yaml::String(s) | Yaml::Real(s) => s.clone(),
            other => panic!("`{name}`: {other:?} is not a string"),
        };
        builder = match name {
            "specversion" => {
                assert_eq!(text(), "1.0");
                builder
            }
            "id" => builder.id(text()),
            "source" => builder.source(text()),
            "type" => builder.ty(text()),
            "subject" => builder.subject(text()),
            "time" => builder.time(text()),
            "dataschema" => builder.dataschema(text()),
            "datacontenttype" => builder.data(text(), ""),
            _ => builder.extension(
                name,
                match value {
                    Yaml::Integer(i) => ExtensionValue::Integer(i32::try_from(*i).unwrap()),
                    Yaml::Boolean(b) => ExtensionValue::Boolean(*b),
                    _ => ExtensionValue::String(text()),
                },
            ),
        };
    }
    builder.build().expect("a valid event")
}

/// YAML as JSON, for serde.
fn json(yaml: &Yaml) -> serde_json::Value {
    match yaml {
        Yaml::Hash(map) => map
            .iter()
            .map(|(k, v)| (k.as_str().expect("a string key").to_owned(), json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        Yaml::Array(items) => items.iter().map(json).collect(),
        Yaml::String(s) | Yaml::Real(s) => s.as_str().into(),
        Yaml::Integer(i) => (*i).into(),
        Yaml::Boolean(b) => (*b).into(),
        Yaml::Null => serde_json::Value::Null,
        other => panic!("unexpected YAML {other:?}"),
    }
}
