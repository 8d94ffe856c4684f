//! Rule 7: attribute names and values (required, URI, URI-reference, Timestamp,
//! Integer, String).

use http::StatusCode;
use motif_contract::{Error, Event, ExtensionValue};
use serde_json::{Value, json};

use super::{body_with, body_without, structured};
use crate::support::{
    assert_problem, assert_rejects_attribute, binary_headers, decode_binary, decode_structured,
    headers, percent_encode,
};

// Rule 7: names, required values, dataschema, time, Integer.

#[test]
fn rule_07_attribute_names_outside_a_z_0_9_are_rejected_in_json() {
    for name in ["MyExt", "my-ext", "my_ext", "my.ext", "é", ""] {
        let err = structured(&format!(r#"{}:"v""#, Value::from(name))).unwrap_err();
        assert_eq!(err, Error::InvalidName { name: name.into() }, "{name:?}");
        assert_rejects_attribute(&err, name);
    }
}

#[test]
fn rule_07_attribute_names_outside_a_z_0_9_are_rejected_in_headers() {
    for header in ["ce-my_ext", "ce-my.ext", "ce-"] {
        let err = decode_binary(&binary_headers(&[(header, "v")]), b"").unwrap_err();
        assert!(
            matches!(err, Error::InvalidName { .. }),
            "{header}: {err:?}"
        );
        assert_rejects_attribute(&err, &header["ce-".len()..]);
    }
}

#[test]
fn rule_07_names_of_letters_and_digits_are_accepted_and_header_names_are_case_insensitive() {
    let h = headers(&[
        ("CE-SpecVersion", "1.0"),
        ("Ce-Id", "1"),
        ("ce-SOURCE", "/s"),
        ("ce-type", "t"),
        ("CE-Ext1", "a"),
        ("ce-1ext", "b"),
    ]);
    let e = decode_binary(&h, b"").unwrap();
    assert_eq!(
        e.extension("ext1"),
        Some(&ExtensionValue::String("a".into()))
    );
    assert_eq!(
        e.extension("1ext"),
        Some(&ExtensionValue::String("b".into()))
    );
    assert!(
        Event::builder("1", "/s", "t")
            .extension("My-Ext", "v")
            .build()
            .is_err()
    );
}

#[test]
fn rule_07_empty_required_attributes_are_rejected() {
    for name in ["id", "source", "type"] {
        let err = decode_structured(&body_with(name, "".into())).unwrap_err();
        assert_rejects_attribute(&err, name);

        let header = format!("ce-{name}");
        let mut h = binary_headers(&[]);
        h.insert(
            http::HeaderName::try_from(header).unwrap(),
            http::HeaderValue::from_static(""),
        );
        let err = decode_binary(&h, b"").unwrap_err();
        assert_rejects_attribute(&err, name);
    }
    let err = decode_structured(&body_with("specversion", "".into())).unwrap_err();
    assert_eq!(
        err,
        Error::UnsupportedSpecVersion {
            found: String::new()
        }
    );
    assert_rejects_attribute(&err, "specversion");
}

#[test]
fn rule_07_missing_required_attributes_are_named() {
    for name in ["id", "source", "specversion", "type"] {
        let err = decode_structured(&body_without(name)).unwrap_err();
        assert_rejects_attribute(&err, name);

        let mut h = binary_headers(&[]);
        h.remove(format!("ce-{name}"));
        let err = decode_binary(&h, b"").unwrap_err();
        let header = format!("ce-{name}");
        assert!(
            matches!(&err, Error::NotACloudEvent { missing } if missing == &[header.as_str()]),
            "{err:?}"
        );
        assert_problem(&err, StatusCode::BAD_REQUEST, &[&header]);
    }
}

#[test]
fn rule_07_only_specversion_1_0_is_accepted() {
    for v in ["0.3", "1.0.2", "1", "2.0"] {
        let err = decode_structured(&body_with("specversion", v.into())).unwrap_err();
        assert_eq!(err, Error::UnsupportedSpecVersion { found: v.into() });
        assert_rejects_attribute(&err, "specversion");
        let mut h = binary_headers(&[]);
        h.insert("ce-specversion", http::HeaderValue::from_str(v).unwrap());
        let err = decode_binary(&h, b"").unwrap_err();
        assert_rejects_attribute(&err, "specversion");
    }
    // A JSON number is not the String `1.0`.
    let err = decode_structured(&body_with("specversion", json!(1.0))).unwrap_err();
    assert_rejects_attribute(&err, "specversion");
}

#[test]
fn rule_07_source_must_be_a_uri_reference() {
    for ok in [
        "/mycontext",
        "https://github.com/cloudevents",
        "mailto:cncf-wg-serverless@lists.cncf.io",
        "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
        "cloudevents/spec/pull/123",
        "1-555-123-4567",
    ] {
        assert!(Event::builder("1", ok, "t").build().is_ok(), "{ok}");
    }
    for bad in [
        "has space",
        "/a%zz",
        "1http://x",
        "<tag>",
        "/é",
        "/a#b#c",
        "/a[1]",
        "http://example.com:https/",
        "http://a@b@example.com/",
    ] {
        let err = decode_structured(&body_with("source", bad.into())).unwrap_err();
        assert_rejects_attribute(&err, "source");
    }
}

#[test]
fn rule_07_dataschema_must_be_an_absolute_uri() {
    assert!(structured(r#""dataschema":"https://example.com/schema.json""#).is_ok());
    assert!(structured(r#""dataschema":"urn:example:schema""#).is_ok());
    for bad in [
        "/schema.json",
        "schema.json",
        "https://example.com/s.json#frag",
        "",
    ] {
        let err = structured(&format!(r#""dataschema":{}"#, Value::from(bad))).unwrap_err();
        assert_rejects_attribute(&err, "dataschema");
        let err = decode_binary(
            &binary_headers(&[("ce-dataschema", &percent_encode(bad))]),
            b"",
        )
        .unwrap_err();
        assert_rejects_attribute(&err, "dataschema");
    }
}

#[test]
fn rule_07_time_must_be_rfc_3339() {
    for ok in [
        "2018-04-05T17:31:00Z",
        "2018-04-05T03:56:24+02:00",
        "1985-04-12T23:20:50.52Z",
        "1996-12-19T16:39:57-08:00",
        "1990-12-31T23:59:60Z",
        "2018-04-05t17:31:00.123456789z",
    ] {
        let e = structured(&format!(r#""time":"{ok}""#)).unwrap();
        assert_eq!(e.time(), Some(ok), "kept as written, offset and all");
    }
    for bad in [
        "2018-04-05",
        "2018-04-05T17:31:00",
        "2018-04-05T25:00:00Z",
        "2018-02-30T00:00:00Z",
        "2018-04-05T17:31:00+24:00",
        "2018-04-05 17:31:00Z",
        "2018-04-05X17:31:00Z",
        "2018-04-05\u{0}17:31:00Z",
        "yesterday",
    ] {
        let err = structured(&format!(r#""time":{}"#, Value::from(bad))).unwrap_err();
        assert_rejects_attribute(&err, "time");
    }
}

#[test]
fn rule_07_integer_extensions_must_fit_in_int32() {
    let e = structured(r#""max":2147483647,"min":-2147483648"#).unwrap();
    assert_eq!(e.extension("max"), Some(&ExtensionValue::Integer(i32::MAX)));
    assert_eq!(e.extension("min"), Some(&ExtensionValue::Integer(i32::MIN)));
    for bad in [
        "2147483648",
        "-2147483649",
        "1.5",
        "1e3",
        "9223372036854775808",
    ] {
        let err = structured(&format!(r#""big":{bad}"#)).unwrap_err();
        assert_rejects_attribute(&err, "big");
    }
}

#[test]
fn rule_07_strings_with_control_characters_or_noncharacters_are_rejected() {
    for (name, bad) in [
        ("id", "a\u{0}b"),
        ("subject", "line\nbreak"),
        ("type", "t\u{7f}"),
        ("myext", "\u{85}"),
        ("myext", "\u{FFFE}"),
        ("subject", "\u{FDD0}"),
    ] {
        let err = decode_structured(&body_with(name, bad.into())).unwrap_err();
        assert_rejects_attribute(&err, name);
    }
    let err = decode_binary(&binary_headers(&[("ce-subject", "a%0Ab")]), b"").unwrap_err();
    assert_rejects_attribute(&err, "subject");
}

#[test]
fn rule_07_an_attribute_given_twice_is_rejected() {
    let err = structured(r#""id":"2""#).unwrap_err();
    assert_rejects_attribute(&err, "id");
    let err = decode_binary(&binary_headers(&[("ce-id", "2")]), b"").unwrap_err();
    assert_rejects_attribute(&err, "id");
}

#[test]
fn rule_07_a_core_attribute_cannot_be_set_as_an_extension() {
    for name in ["id", "source", "specversion", "type", "time", "data"] {
        let err = Event::builder("1", "/s", "t")
            .extension(name, "x")
            .build()
            .unwrap_err();
        assert_rejects_attribute(&err, name);
    }
}
