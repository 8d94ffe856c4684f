//! Rules 1-4: the HTTP binding (mode detection, `Content-Type`, header coding, the
//! authority of a structured body).

use bytes::Bytes;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use motif_contract::http::{self as binding, Message, Mode};
use motif_contract::media;
use motif_contract::{Error, Event, ExtensionValue};

use super::{MIN, event, structured};
use crate::support::{
    assert_problem, assert_rejects_attribute, binary_headers, decode_binary, decode_event, headers,
};

// Rule 1: mode detection.

#[test]
fn rule_01_the_batch_prefix_is_checked_before_the_structured_one() {
    for ct in [
        "application/cloudevents-batch+json",
        "Application/CloudEvents-Batch+JSON; charset=utf-8",
        "APPLICATION/CLOUDEVENTS-BATCH+JSON",
    ] {
        let h = headers(&[("content-type", ct)]);
        assert_eq!(binding::mode(&h), Mode::Batch, "{ct}");
        let body = format!("[{{{MIN}}}]");
        assert_eq!(
            binding::decode(&h, body.into()).unwrap(),
            Message::Batch(vec![event()]),
            "{ct}"
        );
    }
}

#[test]
fn rule_01_the_structured_prefix_matches_in_any_case_and_with_parameters() {
    for ct in [
        "application/cloudevents+json",
        "application/cloudevents+json; charset=UTF-8",
        "Application/CloudEvents+JSON; charset=utf-8",
    ] {
        let h = headers(&[("content-type", ct)]);
        assert_eq!(binding::mode(&h), Mode::Structured, "{ct}");
        assert_eq!(
            decode_event(&h, format!("{{{MIN}}}"), Mode::Structured),
            event()
        );
    }
}

#[test]
fn rule_01_anything_else_is_binary_mode() {
    for ct in [
        None,
        Some("application/json"),
        Some("text/plain"),
        Some("application/cloudevent"),
    ] {
        let h = match ct {
            Some(ct) => binary_headers(&[("content-type", ct)]),
            None => binary_headers(&[]),
        };
        assert_eq!(binding::mode(&h), Mode::Binary, "{ct:?}");
        let e = decode_binary(&h, b"").unwrap();
        assert_eq!(e.datacontenttype(), ct);
    }
}

#[test]
fn rule_01_an_event_format_other_than_json_is_a_415() {
    for ct in [
        "application/cloudevents+avro",
        "application/cloudevents-batch+protobuf; charset=utf-8",
    ] {
        let err = binding::decode(&headers(&[("content-type", ct)]), Bytes::new()).unwrap_err();
        assert!(matches!(err, Error::UnsupportedFormat { .. }), "{err:?}");
        let essence = media::essence(ct);
        assert_problem(&err, StatusCode::UNSUPPORTED_MEDIA_TYPE, &[essence]);
    }
}

// Rule 2: binary mode's Content-Type is datacontenttype.

#[test]
fn rule_02_content_type_becomes_datacontenttype_and_back_verbatim() {
    let ct = "Application/JSON; charset=utf-8";
    let h = binary_headers(&[("content-type", ct)]);
    let e = decode_binary(&h, br#"{"message":"Hello World!"}"#).unwrap();
    assert_eq!(e.datacontenttype(), Some(ct));
    assert_eq!(e.data().unwrap().as_ref(), br#"{"message":"Hello World!"}"#);
    let (out, body) = binding::encode(&e, Mode::Binary);
    assert_eq!(out[CONTENT_TYPE], ct);
    assert_eq!(body, e.data().unwrap());
}

#[test]
fn rule_02_a_ce_datacontenttype_header_is_rejected() {
    for extra in [
        &[("ce-datacontenttype", "text/plain")][..],
        &[
            ("ce-datacontenttype", "text/plain"),
            ("content-type", "text/plain"),
        ][..],
    ] {
        let err = decode_binary(&binary_headers(extra), b"hi").unwrap_err();
        assert_eq!(err, Error::DataContentTypeHeader);
        assert_rejects_attribute(&err, "datacontenttype");
    }
}

#[test]
fn rule_02_no_content_type_is_no_datacontenttype_in_either_direction() {
    let e = decode_binary(&binary_headers(&[]), b"\x01\x02").unwrap();
    assert_eq!(e.datacontenttype(), None);
    let (out, _) = binding::encode(&e, Mode::Binary);
    assert!(!out.contains_key(CONTENT_TYPE), "{out:?}");
}

#[test]
fn rule_02_datacontenttype_is_never_written_as_a_ce_header() {
    let e = Event::builder("1", "/s", "t")
        .data("text/plain", "hi")
        .build()
        .unwrap();
    let (out, _) = binding::encode(&e, Mode::Binary);
    assert_eq!(out[CONTENT_TYPE], "text/plain");
    assert!(!out.contains_key("ce-datacontenttype"), "{out:?}");
}

#[test]
fn rule_02_a_datacontenttype_no_content_type_header_can_carry_is_rejected() {
    // RFC 2046 media types are ASCII; one that is not could never reach a binary-mode
    // receiver as the `Content-Type` it must travel as.
    let err =
        structured(r#""datacontenttype":"text/plain; charset=\"é\"","data":"x""#).unwrap_err();
    assert_rejects_attribute(&err, "datacontenttype");
    let err = Event::builder("1", "/s", "t")
        .data("é/x", "x")
        .build()
        .unwrap_err();
    assert_rejects_attribute(&err, "datacontenttype");
}

// Rule 3: header percent-encoding.

#[test]
fn rule_03_the_spec_example_percent_encodes_as_written() {
    let e = Event::builder("1", "/s", "t")
        .subject("Euro € 😀")
        .build()
        .unwrap();
    let (out, _) = binding::encode(&e, Mode::Binary);
    assert_eq!(out["ce-subject"], "Euro%20%E2%82%AC%20%F0%9F%98%80");
    let back = decode_binary(
        &binary_headers(&[("ce-subject", "Euro%20%E2%82%AC%20%F0%9F%98%80")]),
        b"",
    );
    assert_eq!(back.unwrap().subject(), Some("Euro € 😀"));
}

#[test]
fn rule_03_space_quote_and_percent_are_always_encoded() {
    let e = Event::builder(r#"100% "sure""#, "/s", "t").build().unwrap();
    let (out, _) = binding::encode(&e, Mode::Binary);
    assert_eq!(out["ce-id"], "100%25%20%22sure%22");
    // Printable ASCII other than those three goes as it is.
    let e = Event::builder("a!~:/?#[]@$&'()*+,;=", "/s", "t")
        .build()
        .unwrap();
    let (out, _) = binding::encode(&e, Mode::Binary);
    assert_eq!(out["ce-id"], "a!~:/?#[]@$&'()*+,;=");
}

#[test]
fn rule_03_a_character_outside_the_bmp_is_encoded_as_one_character() {
    let e = Event::builder("1", "/s", "t")
        .subject("😀")
        .build()
        .unwrap();
    let (out, _) = binding::encode(&e, Mode::Binary);
    // Its four UTF-8 bytes, not the six-byte forms of a UTF-16 surrogate pair.
    assert_eq!(out["ce-subject"], "%F0%9F%98%80");
}

#[test]
fn rule_03_lower_case_hex_and_needless_escapes_are_accepted() {
    let h = binary_headers(&[("ce-subject", "Euro%20%e2%82%ac"), ("ce-myext", "%41%62c")]);
    let e = decode_binary(&h, b"").unwrap();
    assert_eq!(e.subject(), Some("Euro €"));
    assert_eq!(
        e.extension("myext"),
        Some(&ExtensionValue::String("Abc".into()))
    );
}

#[test]
fn rule_03_header_values_are_percent_decoded_exactly_once() {
    let h = binary_headers(&[("ce-subject", "%2541"), ("ce-myext", "%252520")]);
    let e = decode_binary(&h, b"").unwrap();
    assert_eq!(e.subject(), Some("%41"));
    assert_eq!(
        e.extension("myext"),
        Some(&ExtensionValue::String("%2520".into()))
    );
}

#[test]
fn rule_03_overlong_utf8_in_a_header_is_rejected() {
    let err = decode_binary(&binary_headers(&[("ce-subject", "%C0%A0")]), b"").unwrap_err();
    assert_rejects_attribute(&err, "subject");
}

#[test]
fn rule_03_every_invalid_utf8_sequence_in_a_header_is_rejected() {
    for bad in [
        "%C0%AF",       // overlong `/`
        "%E0%80%AF",    // overlong, three bytes
        "%ED%A0%80",    // a UTF-16 surrogate, U+D800
        "%E2%82",       // truncated
        "%80",          // a lone continuation byte
        "%F4%90%80%80", // above U+10FFFF
        "%FF",
    ] {
        let err = decode_binary(&binary_headers(&[("ce-myext", bad)]), b"").unwrap_err();
        assert_rejects_attribute(&err, "myext");
    }
}

#[test]
fn rule_03_a_malformed_percent_escape_is_rejected() {
    for bad in ["%", "%4", "%zz", "a%g1"] {
        let err = decode_binary(&binary_headers(&[("ce-myext", bad)]), b"").unwrap_err();
        assert_rejects_attribute(&err, "myext");
    }
}

#[test]
fn rule_03_a_quoted_string_is_unquoted_before_percent_decoding() {
    let h = binary_headers(&[
        ("ce-subject", r#""Euro%20%E2%82%AC""#),
        ("ce-myext", r#""say \"hi\" \\o/""#),
    ]);
    let e = decode_binary(&h, b"").unwrap();
    assert_eq!(e.subject(), Some("Euro €"));
    assert_eq!(
        e.extension("myext"),
        Some(&ExtensionValue::String(r#"say "hi" \o/"#.into()))
    );
    let err = decode_binary(&binary_headers(&[("ce-subject", r#""unclosed"#)]), b"").unwrap_err();
    assert_rejects_attribute(&err, "subject");
}

// Rule 4: structured mode's body is authoritative.

#[test]
fn rule_04_the_structured_body_wins_over_ce_headers() {
    let h = headers(&[
        ("content-type", "application/cloudevents+json"),
        ("ce-specversion", "1.0"),
        ("ce-id", "from-header"),
        ("ce-source", "/header"),
        ("ce-type", "header.type"),
        ("ce-subject", "from-header"),
        ("ce-myext", "from-header"),
    ]);
    let body = r#"{"specversion":"1.0","id":"from-body","source":"/body","type":"body.type"}"#;
    let e = decode_event(&h, body, Mode::Structured);
    assert_eq!(
        (e.id(), e.source(), e.ty()),
        ("from-body", "/body", "body.type")
    );
    assert_eq!(
        e.subject(),
        None,
        "a header-only attribute is not merged in"
    );
    assert_eq!(
        e.extension("myext"),
        None,
        "a header-only extension is not merged in"
    );
}

#[test]
fn rule_04_ce_headers_do_not_complete_a_structured_body() {
    let h = headers(&[
        ("content-type", "application/cloudevents+json"),
        ("ce-id", "from-header"),
    ]);
    let body = r#"{"specversion":"1.0","source":"/s","type":"t"}"#;
    let err = binding::decode(&h, body.into()).unwrap_err();
    assert_eq!(err, Error::MissingAttribute { name: "id" });
    assert_rejects_attribute(&err, "id");
}
