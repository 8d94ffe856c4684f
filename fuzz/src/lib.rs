//! Shared pieces of the motif-contract fuzz targets: the structured input of
//! `http_decode`, and what a round trip through each mode is expected to give.
//!
//! This crate is built only by `cargo +nightly fuzz` (see `README.md`); it is not a
//! member of the main workspace.

use std::fmt;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use motif_contract::http::{self as binding, Message, Mode};
use motif_contract::{Event, ExtensionValue, media};
use serde_json::value::RawValue;

// ---------------------------------------------------------------------------------------
// Input of `http_decode`
// ---------------------------------------------------------------------------------------

/// Header names the fuzzer should hit often; `Name::Known(i)` picks `i % len`.
pub const NAMES: [&str; 11] = [
    "content-type",
    "ce-id",
    "ce-source",
    "ce-specversion",
    "ce-type",
    "ce-time",
    "ce-dataschema",
    "ce-subject",
    "ce-datacontenttype",
    "ce-myext",
    "accept",
];

/// Header values that get a binary-mode event past the first checks, plus a few that
/// exercise quoting, percent-decoding and content types; `Value::Known(i)` picks
/// `i % len`.
pub const VALUES: [&str; 17] = [
    "1.0",
    "0.3",
    "42",
    "/orders",
    "https://example.com/schemas/order.json",
    "com.example.order.placed",
    "2018-04-05T17:31:00Z",
    "Euro%20%E2%82%AC%20%F0%9F%98%80",
    r#""quoted \"string\" %25""#,
    "%C0%A0",
    "true",
    "application/json",
    "text/json",
    "text/plain; charset=utf-8",
    "*/*;q=0.5, application/cloudevents+json, text/*;q=0",
    "",
    "urn:event:from:myapi/resource/123",
];

/// The `Content-Type` choices; the last entry stands for "no header".
pub const CONTENT_TYPES: [Option<&str>; 7] = [
    Some("application/cloudevents+json"),
    Some("application/cloudevents-batch+json"),
    Some("Application/CloudEvents+JSON; charset=utf-8"),
    Some("application/json"),
    Some("text/plain"),
    Some("application/cloudevents+avro"),
    None,
];

/// A byte string.
///
/// A newtype over `Vec<u8>` rather than `Vec<u8>` itself: `arbitrary` builds a `Vec<u8>`
/// element by element with a "one more?" byte before each, which interleaves the bytes
/// with noise, so that dictionary tokens and the values libFuzzer lifts from comparisons
/// never land intact. This reads a length and then contiguous bytes (all the rest, as the
/// last field), so a body in the input file is the body verbatim.
#[derive(Clone, PartialEq, Eq)]
pub struct RawBytes(pub Vec<u8>);

impl<'a> Arbitrary<'a> for RawBytes {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(<&'a [u8]>::arbitrary(u)?.to_vec()))
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(u.take_rest().to_vec()))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (0, None)
    }
}

impl fmt::Debug for RawBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// A header name: one of [`NAMES`], or any bytes (skipped unless a valid name).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub enum Name {
    /// `NAMES[i % NAMES.len()]`.
    Known(u8),
    /// Raw bytes.
    Raw(RawBytes),
}

/// A header value: one of [`VALUES`], or any bytes (skipped unless a valid value).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub enum Value {
    /// `VALUES[i % VALUES.len()]`.
    Known(u8),
    /// Raw bytes.
    Raw(RawBytes),
}

/// The `Content-Type` header.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub enum ContentType {
    /// `CONTENT_TYPES[i % CONTENT_TYPES.len()]` (the last is none).
    Known(u8),
    /// Raw bytes (no header unless a valid value).
    Raw(RawBytes),
}

/// One HTTP request as `http_decode` sees it.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub struct HttpInput {
    /// Headers appended after `Content-Type`, in order (so repeats are kept).
    pub headers: Vec<(Name, Value)>,
    /// The `Content-Type` header, inserted first.
    pub content_type: ContentType,
    /// The body: every byte left.
    pub body: RawBytes,
}

impl Name {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Known(i) => NAMES[usize::from(*i) % NAMES.len()].as_bytes(),
            Self::Raw(b) => &b.0,
        }
    }
}

impl Value {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Known(i) => VALUES[usize::from(*i) % VALUES.len()].as_bytes(),
            Self::Raw(b) => &b.0,
        }
    }
}

impl HttpInput {
    /// The request's headers: `Content-Type` first, then every pair that is a valid
    /// header name and value, appended.
    pub fn header_map(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let ct = match &self.content_type {
            ContentType::Known(i) => {
                CONTENT_TYPES[usize::from(*i) % CONTENT_TYPES.len()].map(HeaderValue::from_static)
            }
            ContentType::Raw(b) => HeaderValue::from_bytes(&b.0).ok(),
        };
        if let Some(ct) = ct {
            headers.insert(CONTENT_TYPE, ct);
        }
        for (name, value) in &self.headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.bytes()),
                HeaderValue::from_bytes(value.bytes()),
            ) else {
                continue;
            };
            headers.append(name, value);
        }
        headers
    }

    /// The libFuzzer input that `arbitrary` (1.x) reads back as this value, for seeding
    /// the corpus. Only `Known` names, values and content types can be written (a `Raw`
    /// one needs a length taken from the end of the input); the body can be anything.
    ///
    /// # Panics
    /// On a `Raw` name, value or content type, or if the bytes do not read back as
    /// `self` (which would mean `arbitrary`'s format changed).
    pub fn to_fuzz_input(&self) -> Vec<u8> {
        fn variant(out: &mut Vec<u8>, index: u64, count: u64) {
            // The derive picks variant `(u32 * count) >> 32`, the u32 little-endian.
            let x = (index << 32).div_ceil(count);
            out.extend_from_slice(&u32::try_from(x).expect("in range").to_le_bytes());
        }
        let mut out = Vec::new();
        for (name, value) in &self.headers {
            out.push(1); // one more element
            let (Name::Known(n), Value::Known(v)) = (name, value) else {
                panic!("only Known names and values can be written");
            };
            variant(&mut out, 0, 2);
            out.push(*n);
            variant(&mut out, 0, 2);
            out.push(*v);
        }
        out.push(0); // end of the list
        let ContentType::Known(ct) = self.content_type else {
            panic!("only a Known content type can be written");
        };
        variant(&mut out, 0, 2);
        out.push(ct);
        out.extend_from_slice(&self.body.0);
        let back = HttpInput::arbitrary_take_rest(Unstructured::new(&out))
            .expect("the written input reads back");
        assert_eq!(&back, self, "the written input reads back as itself");
        out
    }
}

/// `Name::Known` for a name in [`NAMES`].
///
/// # Panics
/// When `name` is not in [`NAMES`].
pub fn known_name(name: &str) -> Name {
    Name::Known(index_of(&NAMES, name))
}

/// `Value::Known` for a value in [`VALUES`].
///
/// # Panics
/// When `value` is not in [`VALUES`].
pub fn known_value(value: &str) -> Value {
    Value::Known(index_of(&VALUES, value))
}

fn index_of(list: &[&str], item: &str) -> u8 {
    let i = list
        .iter()
        .position(|s| *s == item)
        .unwrap_or_else(|| panic!("{item:?} is not in the list"));
    u8::try_from(i).expect("short list")
}

// ---------------------------------------------------------------------------------------
// Round-trip expectations
// ---------------------------------------------------------------------------------------

/// RFC 8259's insignificant whitespace.
const JSON_WHITESPACE: &[u8] = b" \t\n\r";

fn trim_json_whitespace(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !JSON_WHITESPACE.contains(c))
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !JSON_WHITESPACE.contains(c))
        .map_or(start, |i| i + 1);
    &b[start..end]
}

/// The event as the JSON format carries it: data of a JSON content type (or none) that
/// is a JSON value goes as that value, so whitespace around the value is not part of it
/// (the crate's own conformance test, `assert_round_trips`, says the same). Nothing else
/// changes.
pub fn as_structured(event: &Event) -> Event {
    let Some(data) = event.data() else {
        return event.clone();
    };
    let ct = event.datacontenttype();
    if !ct.is_none_or(media::is_json) || serde_json::from_slice::<&RawValue>(data).is_err() {
        return event.clone();
    }
    let trimmed = trim_json_whitespace(data);
    if trimmed.len() == data.len() {
        return event.clone();
    }
    let data = data.slice_ref(trimmed);
    let mut out = event.clone();
    out.set_data(ct, data)
        .expect("the content type was valid before");
    out
}

/// The event as the binary mode carries it: every extension as its canonical string, and
/// an empty body as no data. `datacontenttype` goes as `Content-Type` unchanged (a valid
/// one is ASCII without controls, so always a header value; `encode_binary` panics
/// otherwise).
pub fn as_binary(event: &Event) -> Event {
    let mut out = event.clone();
    let extensions: Vec<(String, String)> = event
        .extensions()
        .map(|(n, v)| (n.to_owned(), v.to_canonical().into_owned()))
        .collect();
    for (name, value) in extensions {
        out.set_extension(&name, ExtensionValue::String(value))
            .expect("a canonical string is a valid String");
    }
    if out.data().is_some_and(Bytes::is_empty) {
        out.take_data();
    }
    out
}

/// Whether `ct` makes an HTTP message structured or batched rather than binary
/// (binding §3: the `application/cloudevents` prefix, case-insensitively).
fn claims_event_format(ct: &str) -> bool {
    let ct = ct.trim_start().as_bytes();
    let prefix = b"application/cloudevents";
    ct.len() >= prefix.len() && ct[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Decodes an encoded single event, panicking with context unless it is one event in
/// `mode`.
fn decode_one(headers: &HeaderMap, body: Bytes, mode: Mode, of: &Event) -> Event {
    match binding::decode(headers, body.clone()) {
        Ok(Message::Event(back, m)) if m == mode => back,
        other => panic!(
            "{of:?} encoded in {mode:?} mode as {headers:?} {:?} decodes as {other:?}",
            lossy(&body)
        ),
    }
}

/// Encodes `event` in structured and in binary mode and checks that each decodes to
/// what that mode carries, and that encoding the result again changes nothing.
pub fn check_round_trips(event: &Event) {
    // Structured.
    let (headers, body) = binding::encode(event, Mode::Structured);
    let back = decode_one(&headers, body.clone(), Mode::Structured, event);
    assert_eq!(
        back,
        as_structured(event),
        "structured round trip via {:?}",
        lossy(&body)
    );
    let (headers, body) = binding::encode(&back, Mode::Structured);
    assert_eq!(
        decode_one(&headers, body, Mode::Structured, &back),
        back,
        "second structured round trip"
    );

    // Binary.
    let (headers, body) = binding::encode(event, Mode::Binary);
    if !binding::binary_carries(event) {
        // A `datacontenttype` of `application/cloudevents...` has no binary form (the
        // Content-Type would say "structured"), so `encode` falls back to structured
        // mode, which must carry the event as the structured round trip does.
        let ct = event.datacontenttype().unwrap_or_default();
        assert!(claims_event_format(ct), "binary_carries refused {ct:?}");
        let back = decode_one(&headers, body, Mode::Structured, event);
        assert_eq!(back, as_structured(event), "structured fallback for binary mode");
        return;
    }
    let back = decode_one(&headers, body.clone(), Mode::Binary, event);
    assert_eq!(
        back,
        as_binary(event),
        "binary round trip via {headers:?} {:?}",
        lossy(&body)
    );
    let (headers, body) = binding::encode(&back, Mode::Binary);
    assert_eq!(
        decode_one(&headers, body, Mode::Binary, &back),
        back,
        "second binary round trip"
    );
}

/// Encodes a batch and checks it decodes to the events as the JSON format carries them.
pub fn check_batch_round_trip(events: &[Event]) {
    let (headers, body) = binding::encode_batch(events);
    match binding::decode(&headers, body.clone()) {
        Ok(Message::Batch(back)) => {
            let expected: Vec<Event> = events.iter().map(as_structured).collect();
            assert_eq!(back, expected, "batch round trip via {:?}", lossy(&body));
        }
        other => panic!("a batch encoded as {:?} decodes as {other:?}", lossy(&body)),
    }
}
