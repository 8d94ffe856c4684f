//! The JSON format's output validates against the CloudEvents 1.0.2 JSON schema
//! (`cloudevents-spec/formats/cloudevents.json`, draft-07, formats asserted), one event at
//! a time and as the elements of a batch.

use jsonschema::Validator;
use motif_contract::{Event, json};
use serde_json::{Value, json};

use crate::support;

/// Where the JSON format must put an event's data.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Placement {
    Absent,
    /// `data`, as the JSON value it is.
    Json,
    /// `data`, as a JSON string.
    String,
    DataBase64,
}

fn matrix() -> Vec<(&'static str, Event, Placement)> {
    let base = || Event::builder("A234-1234-1234", "/mycontext", "com.example.someevent");
    let built = |b: motif_contract::EventBuilder| b.build().expect("a valid event");
    vec![
        ("minimal", built(base()), Placement::Absent),
        (
            "every optional attribute",
            built(
                base()
                    .source("https://github.com/cloudevents/spec/pull/123")
                    .subject("mynewfile.jpg")
                    .time("2018-04-05T17:31:00Z")
                    .dataschema("https://example.com/schemas/order.json")
                    .data("application/json", r#"{"total":12}"#),
            ),
            Placement::Json,
        ),
        (
            "fractional time with an offset, URN source, unicode subject",
            built(
                base()
                    .source("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66")
                    .subject("Euro € 😀")
                    .time("1985-04-12T23:20:50.52+02:00"),
            ),
            Placement::Absent,
        ),
        (
            "extensions of each type",
            built(
                base()
                    .extension("comexampleextension1", "value")
                    .extension(
                        "traceparent",
                        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                    )
                    .extension("flag", true)
                    .extension("off", false)
                    .extension("count", 42)
                    .extension("min", i32::MIN)
                    .extension("max", i32::MAX),
            ),
            Placement::Absent,
        ),
        (
            "JSON object data",
            built(base().json_data(&json!({"world": "hello", "n": [1, 2.5, null]}))),
            Placement::Json,
        ),
        (
            "JSON string data",
            built(base().data("application/json", r#""I'm just a string""#)),
            Placement::Json,
        ),
        (
            "JSON null data",
            built(base().data("application/json; charset=utf-8", "null")),
            Placement::Json,
        ),
        (
            "structured-syntax JSON data",
            built(base().data("application/vnd.example+json", "[true,false]")),
            Placement::Json,
        ),
        (
            "text/plain data",
            built(base().data("text/plain; charset=utf-8", "Hello, 🌎!\n")),
            Placement::String,
        ),
        (
            "application/xml data",
            built(base().data("application/xml", r#"<much wow="xml"/>"#)),
            Placement::String,
        ),
        (
            "binary octet-stream data",
            built(base().data("application/octet-stream", &b"\x00\x01\x02\xff"[..])),
            Placement::DataBase64,
        ),
        (
            "image/png data",
            built(base().data("image/png", &b"\x89PNG\r\n\x1a\n"[..])),
            Placement::DataBase64,
        ),
        (
            "JSON-typed bytes that are not JSON",
            built(base().data("application/json", "not json")),
            Placement::DataBase64,
        ),
        (
            "no datacontenttype, JSON data",
            built(base().data_untyped(r#"{"world":"hello"}"#)),
            Placement::Json,
        ),
        (
            "no datacontenttype, bytes that are not JSON",
            built(base().data_untyped(&b"\xde\xad\xbe\xef"[..])),
            Placement::DataBase64,
        ),
    ]
}

fn validator() -> Option<Validator> {
    let dir = support::conformance_dir()?;
    let path = dir.join("cloudevents-spec/formats/cloudevents.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the CloudEvents schema compiles");
    // The validator must be able to fail, formats included, or passing proves nothing.
    for bad in [
        json!({"specversion": "1.0", "source": "/s", "type": "t"}),
        json!({"specversion": "1.0", "id": "", "source": "/s", "type": "t"}),
        json!({"specversion": "1.0", "id": "1", "source": "has space", "type": "t"}),
        json!({"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "time": "yesterday"}),
    ] {
        assert!(!validator.is_valid(&bad), "the schema accepts {bad}");
    }
    Some(validator)
}

fn assert_valid(validator: &Validator, what: &str, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at `{}`", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: {instance} breaks the CloudEvents schema: {errors:#?}"
    );
}

fn placement(object: &Value) -> Placement {
    match (object.get("data"), object.get("data_base64")) {
        (None, None) => Placement::Absent,
        (Some(Value::String(_)), None)
            if object
                .get("datacontenttype")
                .is_some_and(|ct| !support::is_json_type(ct.as_str())) =>
        {
            Placement::String
        }
        (Some(_), None) => Placement::Json,
        (None, Some(_)) => Placement::DataBase64,
        (Some(_), Some(_)) => panic!("{object} has both data and data_base64"),
    }
}

#[test]
fn every_encoded_event_validates_against_the_cloudevents_schema() {
    let Some(validator) = validator() else {
        return;
    };
    for (what, event, expected) in matrix() {
        let encoded: Value = serde_json::from_slice(&json::to_vec(&event)).expect("JSON");
        assert_valid(&validator, what, &encoded);
        assert_eq!(placement(&encoded), expected, "{what}: {encoded}");
    }
}

#[test]
fn every_element_of_an_encoded_batch_validates_against_the_cloudevents_schema() {
    let Some(validator) = validator() else {
        return;
    };
    let events: Vec<Event> = matrix().into_iter().map(|(_, e, _)| e).collect();
    let encoded: Value = serde_json::from_slice(&json::batch_to_vec(&events)).expect("JSON");
    let elements = encoded.as_array().expect("a batch is a JSON array");
    assert_eq!(elements.len(), events.len());
    for (i, element) in elements.iter().enumerate() {
        assert_valid(&validator, &format!("batch element {i}"), element);
    }
    let empty: Value = serde_json::from_slice(&json::batch_to_vec(&[])).expect("JSON");
    assert_eq!(empty, json!([]));
}
