//! Rules 5, 6 and 8: the JSON format (`data` and `data_base64`, `null`, top-level
//! extensions) and its batches.

use http::StatusCode;
use motif_contract::http::{self as binding, Message, Mode};
use motif_contract::media::{self, Accept};
use motif_contract::{Error, Event, ExtensionValue, json};
use serde_json::{Value, json};

use super::{MIN, body_with, event, structured};
use crate::support::{
    assert_problem, assert_rejects_attribute, decode_structured, headers, structured_headers,
};

// Rule 5: data and data_base64.

#[test]
fn rule_05_binary_data_is_written_as_data_base64() {
    let e = Event::builder("1", "/s", "t")
        .data("application/octet-stream", &b"\x00\x01\xfe\xff"[..])
        .build()
        .unwrap();
    let out: Value = serde_json::from_slice(&json::to_vec(&e)).unwrap();
    assert_eq!(out["data_base64"], "AAH+/w==");
    assert_eq!(out.get("data"), None);
    assert_eq!(out["datacontenttype"], "application/octet-stream");
}

#[test]
fn rule_05_json_data_is_written_as_a_json_value_not_a_string() {
    for ct in [
        Some("application/json"),
        Some("text/json"),
        Some("application/cloudevents.order+json; charset=utf-8"),
        None,
    ] {
        let b = Event::builder("1", "/s", "t");
        let b = match ct {
            Some(ct) => b.data(ct, r#"{"a":[1,2]}"#),
            None => b.data_untyped(r#"{"a":[1,2]}"#),
        };
        let out: Value = serde_json::from_slice(&json::to_vec(&b.build().unwrap())).unwrap();
        assert_eq!(out["data"], json!({"a": [1, 2]}), "{ct:?}");
        assert_eq!(out.get("data_base64"), None, "{ct:?}");
    }
}

#[test]
fn rule_05_data_and_data_base64_together_are_rejected() {
    let err = structured(r#""data":{"a":1},"data_base64":"AQ==""#).unwrap_err();
    assert_eq!(err, Error::DataConflict);
    assert_problem(&err, StatusCode::BAD_REQUEST, &["data", "data_base64"]);
}

#[test]
fn rule_05_a_json_string_under_a_json_type_is_not_parsed_again() {
    let e = structured(r#""datacontenttype":"application/json","data":"{\"a\":1}""#).unwrap();
    // The data is the JSON string, quotes and escapes included, not the object inside it.
    assert_eq!(e.data().unwrap().as_ref(), br#""{\"a\":1}""#);
    let (_, body) = binding::encode(&e, Mode::Binary);
    assert_eq!(body.as_ref(), br#""{\"a\":1}""#);
}

#[test]
fn rule_05_the_spec_example_string_becomes_a_quoted_binary_body() {
    // JSON format §3.1: `"data": "I'm just a string"` with no content type is an HTTP
    // body of `"I'm just a string"`, quotes included.
    let e = structured(r#""data":"I'm just a string""#).unwrap();
    let (_, body) = binding::encode(&e, Mode::Binary);
    assert_eq!(body.as_ref(), br#""I'm just a string""#);
}

#[test]
fn rule_05_data_base64_decodes_to_bytes_even_under_a_json_type() {
    // `{"a":1}` in base64: the bytes, never parsed as JSON on the way in.
    let e =
        structured(r#""datacontenttype":"application/json","data_base64":"eyJhIjoxfQ==""#).unwrap();
    assert_eq!(e.data().unwrap().as_ref(), br#"{"a":1}"#);
    let e = structured(r#""data_base64":"AAE=""#).unwrap();
    assert_eq!(e.data().unwrap().as_ref(), b"\x00\x01");
    assert_eq!(e.datacontenttype(), None, "no content type is invented");
}

#[test]
fn rule_05_text_data_is_a_json_string_holding_the_text() {
    let e = structured(r#""datacontenttype":"text/plain","data":"Hello, 🌎!""#).unwrap();
    assert_eq!(e.data().unwrap().as_ref(), "Hello, 🌎!".as_bytes());
    let out: Value = serde_json::from_slice(&json::to_vec(&e)).unwrap();
    assert_eq!(out["data"], "Hello, 🌎!");
}

#[test]
fn rule_05_bad_base64_is_a_400() {
    let err = structured(r#""data_base64":"not base64!""#).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");
    assert_problem(&err, StatusCode::BAD_REQUEST, &["data", "base64"]);
}

// Rule 6: null is unset; extensions are top-level members.

#[test]
fn rule_06_json_null_attributes_are_unset() {
    let e = structured(
        r#""datacontenttype":null,"dataschema":null,"subject":null,"time":null,"myext":null"#,
    )
    .unwrap();
    assert_eq!(e, event());
    let out = String::from_utf8(json::to_vec(&e)).unwrap();
    assert!(!out.contains("null"), "{out}");
}

#[test]
fn rule_06_a_null_required_attribute_is_a_missing_one() {
    for name in ["id", "source", "type", "specversion"] {
        let err = decode_structured(&body_with(name, Value::Null)).unwrap_err();
        assert!(
            matches!(err, Error::MissingAttribute { name: n } if n == name),
            "{err:?}"
        );
        assert_rejects_attribute(&err, name);
    }
}

#[test]
fn rule_06_extensions_are_written_as_top_level_members() {
    let e = Event::builder("1", "/s", "t")
        .extension("comexampleextension1", "value")
        .extension("flag", true)
        .extension("count", -7)
        .build()
        .unwrap();
    let out: Value = serde_json::from_slice(&json::to_vec(&e)).unwrap();
    assert_eq!(out["comexampleextension1"], "value");
    assert_eq!(out["flag"], true);
    assert_eq!(out["count"], -7);
    assert_eq!(out.get("extensions"), None);
}

#[test]
fn rule_06_top_level_extensions_are_read_with_their_json_types() {
    let e = structured(r#""myext":"v","flag":false,"count":2147483647"#).unwrap();
    assert_eq!(
        e.extension("myext"),
        Some(&ExtensionValue::String("v".into()))
    );
    assert_eq!(e.extension("flag"), Some(&ExtensionValue::Boolean(false)));
    assert_eq!(
        e.extension("count"),
        Some(&ExtensionValue::Integer(i32::MAX))
    );
}

#[test]
fn rule_06_a_nested_extensions_object_is_rejected() {
    let err = structured(r#""extensions":{"myext":"v"}"#).unwrap_err();
    assert_rejects_attribute(&err, "extensions");
}

// Rule 8: batches.

#[test]
fn rule_08_every_event_of_a_batch_must_be_specversion_1_0() {
    let h = headers(&[("content-type", "application/cloudevents-batch+json")]);
    let body = format!(r#"[{{{MIN}}},{{"specversion":"0.3","id":"2","source":"/s","type":"t"}}]"#);
    let err = binding::decode(&h, body.into()).unwrap_err();
    assert_eq!(
        err,
        Error::UnsupportedSpecVersion {
            found: "0.3".into()
        }
    );
    assert_rejects_attribute(&err, "specversion");
}

#[test]
fn rule_08_a_batch_may_be_empty_and_holds_only_events() {
    let h = headers(&[("content-type", "application/cloudevents-batch+json")]);
    assert_eq!(
        binding::decode(&h, "[]".into()).unwrap(),
        Message::Batch(vec![])
    );
    for bad in [
        format!("{{{MIN}}}"),
        format!("[{{{MIN}}},1]"),
        "[[]]".to_owned(),
    ] {
        let err = binding::decode(&h, bad.clone().into()).unwrap_err();
        assert!(matches!(err, Error::InvalidJson { .. }), "{bad}: {err:?}");
        assert_problem(&err, StatusCode::BAD_REQUEST, &[]);
    }
}

#[test]
fn rule_08_a_batch_is_never_mistaken_for_one_event_or_the_reverse() {
    let batch_h = headers(&[("content-type", "application/cloudevents-batch+json")]);
    let err = binding::decode(&batch_h, format!("{{{MIN}}}").into()).unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    let err = binding::decode(&structured_headers(), format!("[{{{MIN}}}]").into()).unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn rule_08_a_batch_reply_is_solicited_only_by_naming_the_batch_type() {
    // The runtime answers with a batch only when the request's Accept names the batch
    // format itself: a wildcard is not a solicitation.
    let batch = media::CLOUDEVENTS_BATCH_JSON;
    assert!(!Accept::any().names(batch));
    assert!(!Accept::parse("application/*, */*;q=0.5").names(batch));
    assert!(!Accept::parse("application/cloudevents-batch+json;q=0").names(batch));
    assert!(
        Accept::parse("application/cloudevents+json, application/cloudevents-batch+json;q=0.5")
            .names(batch)
    );
    assert!(Accept::parse("Application/CloudEvents-Batch+JSON").names(batch));
}
