//! Property tests: every valid event, however its values are drawn, survives each mode
//! of the HTTP binding, and its JSON form passes the CloudEvents schema.
//!
//! The generators draw from everything the spec allows rather than from tidy samples:
//! Strings of any characters but the disallowed ones, sources across the URI-reference
//! forms, RFC 3339 times with offsets and fractions of any width, typed extensions, and
//! data of each kind the JSON format places differently. Case counts are proptest's
//! default (256, or `PROPTEST_CASES`).

use std::sync::OnceLock;

use motif_contract::http::{self as binding, Message, Mode};
use motif_contract::{Event, ExtensionValue, json};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::Value;

use crate::support;

/// Whether a character may stand in a CloudEvents String (spec §3.3): no control
/// characters and no noncharacters.
fn allowed(c: char) -> bool {
    let n = u32::from(c);
    !(n <= 0x1F
        || (0x7F..=0x9F).contains(&n)
        || (0xFDD0..=0xFDEF).contains(&n)
        || n & 0xFFFE == 0xFFFE)
}

/// Mostly printable ASCII (where `"`, `%` and space test the percent-encoding), and any
/// allowed character of any plane.
fn string(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
    let c = prop_oneof![
        3 => proptest::char::range(' ', '~'),
        // Mapped rather than filtered: proptest gives up after too many rejections.
        2 => any::<char>().prop_map(|c| if allowed(c) { c } else { '\u{FFFD}' }),
    ];
    vec(c, len).prop_map(String::from_iter)
}

/// A URI-reference: relative, network-path or absolute, with percent-escapes, a query
/// and a fragment.
fn source() -> impl Strategy<Value = String> {
    const PATH: &str = "([A-Za-z0-9._~!$&'()*+,;=@/-]|%[0-9A-Fa-f]{2}){1,24}";
    const TAIL: &str = "(\\?([A-Za-z0-9._~!$&'()*+,;=@/:?-]|%[0-9A-Fa-f]{2}){0,8})?(#([A-Za-z0-9._~!$&'()*+,;=@/:?-]|%[0-9A-Fa-f]{2}){0,8})?";
    let prefix = prop_oneof![
        Just(""),
        Just("/"),
        Just("//example.com/"),
        Just("https://example.com/"),
        Just("urn:motif:"),
        Just("mailto:"),
    ];
    (prefix, PATH, TAIL).prop_map(|(p, path, tail)| format!("{p}{path}{tail}"))
}

/// An absolute URI without a fragment.
fn dataschema() -> impl Strategy<Value = String> {
    const PATH: &str = "([A-Za-z0-9._~!$&'()*+,;=@/:-]|%[0-9A-Fa-f]{2}){0,24}";
    let prefix = prop_oneof![Just("https://example.com/schemas/"), Just("urn:schema:")];
    (prefix, PATH).prop_map(|(p, path)| format!("{p}{path}"))
}

/// An RFC 3339 date-time: `T` or `t`, seconds with 0-9 fractional digits, `Z`, `z` or a
/// numeric offset.
fn time() -> impl Strategy<Value = String> {
    let date = (0u32..=9999, 1u32..=12, 1u32..=28);
    let clock = (0u32..=23, 0u32..=59, 0u32..=59, option::of("[0-9]{1,9}"));
    let offset = prop_oneof![
        Just("Z".to_owned()),
        Just("z".to_owned()),
        (prop_oneof![Just('+'), Just('-')], 0u32..=23, 0u32..=59)
            .prop_map(|(sign, h, m)| format!("{sign}{h:02}:{m:02}")),
    ];
    let separator = prop_oneof![Just('T'), Just('t')];
    (date, separator, clock, offset).prop_map(|((y, mo, d), t, (h, mi, s, frac), offset)| {
        let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
        format!("{y:04}-{mo:02}-{d:02}{t}{h:02}:{mi:02}:{s:02}{frac}{offset}")
    })
}

fn extensions() -> impl Strategy<Value = std::collections::BTreeMap<String, ExtensionValue>> {
    const RESERVED: [&str; 9] = [
        "id",
        "source",
        "specversion",
        "type",
        "datacontenttype",
        "dataschema",
        "subject",
        "time",
        "data",
    ];
    let name =
        "[a-z0-9]{1,20}".prop_filter("not a core attribute", |n| !RESERVED.contains(&n.as_str()));
    let value = prop_oneof![
        string(0..=16).prop_map(ExtensionValue::String),
        any::<bool>().prop_map(ExtensionValue::Boolean),
        any::<i32>().prop_map(ExtensionValue::Integer),
    ];
    btree_map(name, value, 0..5)
}

fn json_value() -> impl Strategy<Value = Value> {
    let text = vec(any::<char>(), 0..12).prop_map(String::from_iter);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("a finite number", |f| f.is_finite())
            .prop_map(Value::from),
        text.prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::from),
            btree_map("[a-z]{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Data and its `datacontenttype`: JSON, text, bytes, or JSON with no type at all.
fn data() -> impl Strategy<Value = Option<(Option<&'static str>, Vec<u8>)>> {
    let json_bytes = || json_value().prop_map(|v| serde_json::to_vec(&v).expect("JSON"));
    prop_oneof![
        Just(None),
        json_bytes().prop_map(|b| Some((Some("application/json"), b))),
        vec(any::<char>(), 1..40)
            .prop_map(|t| Some((Some("text/plain"), String::from_iter(t).into_bytes()))),
        vec(any::<u8>(), 1..64).prop_map(|b| Some((Some("application/octet-stream"), b))),
        json_bytes().prop_map(|b| Some((None, b))),
    ]
}

prop_compose! {
    fn event()(
        id in string(1..=24),
        source in source(),
        ty in string(1..=24),
        subject in option::of(string(1..=24)),
        time in option::of(time()),
        dataschema in option::of(dataschema()),
        extensions in extensions(),
        data in data(),
    ) -> Event {
        let mut b = Event::builder(id, source, ty);
        if let Some(subject) = subject {
            b = b.subject(subject);
        }
        if let Some(time) = time {
            b = b.time(time);
        }
        if let Some(dataschema) = dataschema {
            b = b.dataschema(dataschema);
        }
        for (name, value) in extensions {
            b = b.extension(name, value);
        }
        b = match data {
            Some((Some(ct), bytes)) => b.data(ct, bytes),
            Some((None, bytes)) => b.data_untyped(bytes),
            None => b,
        };
        b.build().unwrap_or_else(|e| panic!("a generated event is invalid: {e}"))
    }
}

/// The event as the binary mode carries it: every extension value becomes its
/// canonical string, since a header carries no type.
fn as_binary_carries(event: &Event) -> Event {
    let mut out = event.clone();
    for (name, value) in event.extensions() {
        out.set_extension(name, value.to_canonical().into_owned())
            .expect("a valid extension stays valid as its canonical string");
    }
    out
}

fn schema() -> Option<&'static jsonschema::Validator> {
    static SCHEMA: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let path =
                support::conformance_dir()?.join("cloudevents-spec/formats/cloudevents.json");
            let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
            let validator = jsonschema::draft7::options()
                .should_validate_formats(true)
                .build(&schema)
                .expect("the CloudEvents schema compiles");
            Some(validator)
        })
        .as_ref()
}

proptest! {
    #[test]
    fn structured_mode_carries_every_event_unchanged(event in event()) {
        let (headers, body) = binding::encode(&event, Mode::Structured);
        prop_assert_eq!(
            binding::decode(&headers, body).unwrap(),
            Message::Event(event.clone(), Mode::Structured)
        );
        prop_assert_eq!(json::from_slice(&json::to_vec(&event)).unwrap(), event);
    }

    #[test]
    fn batched_mode_carries_every_list_of_events_unchanged(events in vec(event(), 0..5)) {
        let (headers, body) = binding::encode_batch(&events);
        prop_assert_eq!(binding::decode(&headers, body).unwrap(), Message::Batch(events));
    }

    #[test]
    fn binary_mode_carries_every_event_with_extension_values_as_strings(event in event()) {
        let (headers, body) = binding::encode(&event, Mode::Binary);
        for (name, value) in &headers {
            let value = value.to_str().expect("a header value is visible ASCII");
            prop_assert!(
                !value.contains(' ') && !value.contains('"'),
                "{}: {:?} is not percent-encoded", name, value
            );
        }
        prop_assert_eq!(
            binding::decode(&headers, body).unwrap(),
            Message::Event(as_binary_carries(&event), Mode::Binary)
        );
    }

    #[test]
    fn the_json_form_of_every_event_passes_the_cloudevents_schema(event in event()) {
        let Some(schema) = schema() else {
            return Ok(());
        };
        let encoded: Value = serde_json::from_slice(&json::to_vec(&event)).unwrap();
        let errors: Vec<String> = schema.iter_errors(&encoded).map(|e| e.to_string()).collect();
        prop_assert!(errors.is_empty(), "{} breaks the schema: {:?}", encoded, errors);
    }
}
