use super::*;
use http::HeaderMap;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::try_from(*k).unwrap(),
            HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    h
}

const REQUIRED: [(&str, &str); 4] = [
    ("ce-specversion", "1.0"),
    ("ce-id", "1"),
    ("ce-source", "/s"),
    ("ce-type", "t"),
];

fn with(extra: &[(&str, &str)]) -> HeaderMap {
    let mut all = REQUIRED.to_vec();
    all.extend_from_slice(extra);
    headers(&all)
}

#[test]
fn mode_is_chosen_by_content_type_batch_first() {
    assert_eq!(mode(&headers(&[])), Mode::Binary);
    assert_eq!(
        mode(&headers(&[("content-type", "application/json")])),
        Mode::Binary
    );
    assert_eq!(
        mode(&headers(&[(
            "content-type",
            "Application/CloudEvents+JSON; charset=utf-8"
        )])),
        Mode::Structured
    );
    assert_eq!(
        mode(&headers(&[(
            "content-type",
            "application/cloudevents-batch+json"
        )])),
        Mode::Batch
    );
}

#[test]
fn binary_mode_maps_content_type_to_datacontenttype() {
    let h = with(&[("content-type", "application/json; charset=utf-8")]);
    let e = decode_binary(&h, Bytes::from_static(b"{}")).unwrap();
    assert_eq!(e.datacontenttype(), Some("application/json; charset=utf-8"));
    let (out, body) = encode_binary(&e);
    assert_eq!(out[CONTENT_TYPE], "application/json; charset=utf-8");
    assert!(!out.contains_key("ce-datacontenttype"));
    assert_eq!(body, "{}");
    let e = decode_binary(&with(&[]), Bytes::new()).unwrap();
    assert_eq!(e.datacontenttype(), None);
    assert_eq!(e.data(), None);
}

#[test]
fn a_ce_datacontenttype_header_is_rejected() {
    let err =
        decode_binary(&with(&[("ce-datacontenttype", "text/plain")]), Bytes::new()).unwrap_err();
    assert_eq!(err, Error::DataContentTypeHeader);
}

#[test]
fn header_values_are_percent_decoded_once_and_encoded_back() {
    let h = with(&[
        ("ce-subject", "Euro%20%e2%82%ac%20%F0%9F%98%80"),
        ("ce-myext", "%2541"),
    ]);
    let e = decode_binary(&h, Bytes::new()).unwrap();
    assert_eq!(e.subject(), Some("Euro € 😀"));
    assert_eq!(
        e.extension("myext"),
        Some(&ExtensionValue::String("%41".into()))
    );
    let (out, _) = encode_binary(&e);
    assert_eq!(out["ce-subject"], "Euro%20%E2%82%AC%20%F0%9F%98%80");
    assert_eq!(out["ce-myext"], "%2541");
}

#[test]
fn overlong_utf8_in_a_header_is_rejected_naming_the_attribute() {
    let err = decode_binary(&with(&[("ce-subject", "%C0%A0")]), Bytes::new()).unwrap_err();
    assert_eq!(err.attribute(), Some("subject"));
    // A raw Latin-1 byte is not UTF-8 either.
    let mut h = with(&[]);
    h.insert(
        "ce-subject",
        HeaderValue::from_bytes(&[b'a', 0xE9]).unwrap(),
    );
    let err = decode_binary(&h, Bytes::new()).unwrap_err();
    assert_eq!(err.attribute(), Some("subject"));
}

#[test]
fn missing_required_headers_are_listed() {
    let err = decode_binary(&headers(&[("content-type", "text/plain")]), Bytes::new()).unwrap_err();
    assert_eq!(
        err,
        Error::NotACloudEvent {
            missing: vec!["ce-id", "ce-source", "ce-specversion", "ce-type"]
        }
    );
    let err = decode_binary(&headers(&REQUIRED[..3]), Bytes::new()).unwrap_err();
    assert!(err.to_string().contains("`ce-type`"), "{err}");
}

#[test]
fn duplicate_and_badly_named_headers_are_rejected() {
    let err = decode_binary(&with(&[("ce-id", "2")]), Bytes::new()).unwrap_err();
    assert_eq!(err, Error::DuplicateAttribute { name: "id".into() });
    let err = decode_binary(&with(&[("ce-my_ext", "x")]), Bytes::new()).unwrap_err();
    assert!(matches!(err, Error::InvalidName { .. }), "{err}");
}

#[test]
fn structured_mode_ignores_ce_headers() {
    let h = headers(&[
        ("content-type", "application/cloudevents+json"),
        ("ce-id", "from-header"),
        ("ce-subject", "from-header"),
    ]);
    let body = r#"{"specversion":"1.0","id":"from-body","source":"/s","type":"t"}"#;
    let Message::Event(e, Mode::Structured) = decode(&h, body.into()).unwrap() else {
        panic!("not structured")
    };
    assert_eq!(e.id(), "from-body");
    assert_eq!(e.subject(), None);
}

#[test]
fn other_event_formats_are_unsupported() {
    let h = headers(&[("content-type", "application/cloudevents+avro")]);
    let err = decode(&h, Bytes::new()).unwrap_err();
    assert_eq!(err.status(), http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[test]
fn batches_decode_and_encode() {
    let e = Event::builder("1", "/s", "t").build().unwrap();
    let (h, body) = encode_batch(&[e.clone(), e.clone()]);
    assert_eq!(
        decode(&h, body).unwrap(),
        Message::Batch(vec![e.clone(), e])
    );
    let (h, body) = encode_batch(&[]);
    assert_eq!(decode(&h, body).unwrap(), Message::Batch(vec![]));
}

#[test]
fn an_event_whose_data_is_a_cloudevent_goes_structured() {
    let e = Event::builder("outer", "/s", "t")
        .data(
            "application/cloudevents+json",
            r#"{"specversion":"1.0","id":"inner","source":"/s","type":"t"}"#,
        )
        .build()
        .unwrap();
    assert!(!binary_carries(&e));
    let (h, body) = encode(&e, Mode::Binary);
    assert_eq!(
        decode(&h, body).unwrap(),
        Message::Event(e, Mode::Structured)
    );
}
