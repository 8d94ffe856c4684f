//! What several test modules share: where the conformance data lives, header maps from
//! pairs, and the tests' own reading of the binding (written apart from the crate's
//! encoder, so that a test never checks the crate against itself).

use std::path::PathBuf;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use motif_contract::http::{self as binding, Message, Mode};
use motif_contract::{Error, Event, Problem};

/// The conformance data directory: `MOTIF_CONFORMANCE_DIR`, else `../shared/conformance`
/// beside the workspace. `None` (after saying so on stderr) when it is not there, so that
/// a checkout without `shared/` still runs every other test.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MOTIF_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: conformance data not found at {} (set MOTIF_CONFORMANCE_DIR)",
            dir.display()
        );
        None
    }
}

/// A header map from (name, value) pairs, appending so that repeated names stay repeated.
pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::try_from(*name).expect("a valid header name"),
            HeaderValue::from_bytes(value.as_bytes()).expect("a valid header value"),
        );
    }
    map
}

/// The four REQUIRED attributes of a binary-mode message, plus `extra`.
pub fn binary_headers(extra: &[(&str, &str)]) -> HeaderMap {
    let mut pairs = vec![
        ("ce-specversion", "1.0"),
        ("ce-id", "1"),
        ("ce-source", "/s"),
        ("ce-type", "t"),
    ];
    pairs.extend_from_slice(extra);
    headers(&pairs)
}

/// The structured-mode headers.
pub fn structured_headers() -> HeaderMap {
    headers(&[("content-type", "application/cloudevents+json")])
}

/// Percent-encodes a `ce-` header value as the binding (§3.1.3.1) says a sender MUST:
/// each character that is a space, `"`, `%` or outside U+0021-U+007E becomes the `%XY`
/// of each of its UTF-8 bytes, in upper-case hex.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if ('\u{21}'..='\u{7e}').contains(&c) && c != '"' && c != '%' {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Whether the JSON format writes data of this media type as a JSON value: `*/json` or
/// `*/*+json` once parameters are dropped, case-insensitively; no type at all counts as
/// `application/json` (JSON format §3.1).
pub fn is_json_type(media_type: Option<&str>) -> bool {
    let Some(media_type) = media_type else {
        return true;
    };
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    let subtype = essence
        .split_once('/')
        .map(|(_, s)| s.to_ascii_lowercase())
        .unwrap_or_default();
    subtype == "json" || subtype.ends_with("+json")
}

/// Decodes a message that must be one event in `mode`.
pub fn decode_event(headers: &HeaderMap, body: impl Into<Bytes>, mode: Mode) -> Event {
    match binding::decode(headers, body.into()) {
        Ok(Message::Event(event, got)) if got == mode => event,
        other => panic!("expected one event in {mode:?} mode, got {other:?}"),
    }
}

/// Decodes a structured-mode body.
pub fn decode_structured(body: &str) -> Result<Event, Error> {
    binding::decode(
        &structured_headers(),
        Bytes::copy_from_slice(body.as_bytes()),
    )
    .map(|message| match message {
        Message::Event(event, Mode::Structured) => event,
        other => panic!("expected one structured event, got {other:?}"),
    })
}

/// Decodes a binary-mode message.
pub fn decode_binary(headers: &HeaderMap, body: &'static [u8]) -> Result<Event, Error> {
    binding::decode(headers, Bytes::from_static(body)).map(|message| match message {
        Message::Event(event, Mode::Binary) => event,
        other => panic!("expected one binary event, got {other:?}"),
    })
}

/// Asserts that `err` answers with `status` as problem+json and that its `detail` names
/// every one of `names` (the attribute or header at fault).
pub fn assert_problem(err: &Error, status: StatusCode, names: &[&str]) {
    let problem = Problem::from(err);
    assert_eq!(problem.status, status.as_u16(), "status of {err:?}");
    assert_eq!(err.status(), status, "Error::status of {err:?}");
    for name in names {
        assert!(
            problem.detail.contains(name),
            "detail {:?} of {err:?} does not name `{name}`",
            problem.detail
        );
    }
    if let Some(attribute) = err.attribute() {
        assert_eq!(
            problem.extensions.get("attribute"),
            Some(&serde_json::Value::from(attribute)),
            "problem of {err:?} carries the attribute at fault"
        );
    }
}

/// Asserts that `err` is a 400 whose `attribute()` is `name` and whose detail names it.
pub fn assert_rejects_attribute(err: &Error, name: &str) {
    assert_eq!(err.attribute(), Some(name), "attribute of {err:?}");
    assert_problem(err, StatusCode::BAD_REQUEST, &[name]);
}
