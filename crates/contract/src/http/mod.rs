//! The CloudEvents HTTP protocol binding 1.0.2: binary, structured and batched modes,
//! in both directions.
//!
//! The functions here work on [`http::HeaderMap`] and [`Bytes`], so they serve a server
//! (decoding requests, encoding replies) and a client (the reverse) alike.

mod percent;

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};

use crate::event::{Event, ExtensionValue, SPEC_VERSION};
use crate::media::{self, CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON};
use crate::{Error, json, validate};

/// How an event travels in an HTTP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Attributes in `ce-` headers, data as the body.
    Binary,
    /// The whole event in the body, in an event format.
    Structured,
    /// Several events in the body, in a batch format.
    Batch,
}

/// A decoded CloudEvents HTTP message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one event is the common case, and a message is moved, not stored: boxing would add an allocation per request"
)]
pub enum Message {
    /// One event, and the mode it came in.
    Event(Event, Mode),
    /// A batch of events (possibly empty).
    Batch(Vec<Event>),
}

/// The mode of a message, from its `Content-Type` (binding §3): the batch prefix is
/// checked first, case-insensitively, parameters ignored; anything else is binary.
pub fn mode(headers: &HeaderMap) -> Mode {
    let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return Mode::Binary;
    };
    let ct = ct.trim_start();
    if media::starts_with_ignore_case(ct, "application/cloudevents-batch") {
        Mode::Batch
    } else if media::starts_with_ignore_case(ct, "application/cloudevents") {
        Mode::Structured
    } else {
        Mode::Binary
    }
}

/// Whether a binary-mode message carries any `ce-` header at all.
pub fn has_ce_headers(headers: &HeaderMap) -> bool {
    headers.keys().any(|k| k.as_str().starts_with("ce-"))
}

/// Decodes a message in whichever mode its `Content-Type` says.
pub fn decode(headers: &HeaderMap, body: Bytes) -> Result<Message, Error> {
    match mode(headers) {
        Mode::Binary => decode_binary(headers, body).map(|e| Message::Event(e, Mode::Binary)),
        Mode::Structured => {
            require_format(headers, CLOUDEVENTS_JSON)?;
            json::from_slice(&body).map(|e| Message::Event(e, Mode::Structured))
        }
        Mode::Batch => {
            require_format(headers, CLOUDEVENTS_BATCH_JSON)?;
            json::batch_from_slice(&body).map(Message::Batch)
        }
    }
}

fn require_format(headers: &HeaderMap, expected: &str) -> Result<(), Error> {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if media::essence(ct).eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(Error::UnsupportedFormat {
            media_type: media::essence(ct).to_owned(),
        })
    }
}

/// The headers a binary-mode message must carry.
const REQUIRED_HEADERS: [(&str, &str); 4] = [
    ("id", "ce-id"),
    ("source", "ce-source"),
    ("specversion", "ce-specversion"),
    ("type", "ce-type"),
];

/// Decodes a binary-mode message: attributes from `ce-` headers (unquoted, then
/// percent-decoded exactly once), `datacontenttype` from `Content-Type`, data from the
/// body. An empty body is no data.
pub fn decode_binary(headers: &HeaderMap, body: Bytes) -> Result<Event, Error> {
    let mut event = Event {
        id: String::new(),
        source: String::new(),
        ty: String::new(),
        datacontenttype: None,
        dataschema: None,
        subject: None,
        time: None,
        extensions: Default::default(),
        data: (!body.is_empty()).then_some(body),
    };
    let mut specversion = None;
    let mut seen = [false; 4];
    // `HeaderMap::iter` yields every value of a name in a row, so a repeated attribute
    // is the same name twice in succession.
    let mut previous: Option<&HeaderName> = None;
    for (name, raw) in headers {
        let Some(attr) = name.as_str().strip_prefix("ce-") else {
            continue;
        };
        if previous == Some(name) {
            return Err(Error::DuplicateAttribute {
                name: attr.to_owned(),
            });
        }
        previous = Some(name);
        validate::name(attr)?;
        let value =
            percent::decode(raw.as_bytes()).map_err(|f| Error::invalid(attr, f.describe()))?;
        if let Some(i) = REQUIRED_HEADERS.iter().position(|(a, _)| *a == attr) {
            seen[i] = true;
        }
        match attr {
            "id" => event.id = value.into_owned(),
            "source" => event.source = value.into_owned(),
            "type" => event.ty = value.into_owned(),
            "specversion" => specversion = Some(value),
            "datacontenttype" => return Err(Error::DataContentTypeHeader),
            "dataschema" => event.dataschema = Some(value.into_owned()),
            "subject" => event.subject = Some(value.into_owned()),
            "time" => event.time = Some(value.into_owned()),
            _ => {
                let value = ExtensionValue::String(value.into_owned());
                event.extensions.insert(attr.to_owned(), value);
            }
        }
    }
    let missing: Vec<&'static str> = REQUIRED_HEADERS
        .iter()
        .zip(seen)
        .filter(|(_, seen)| !seen)
        .map(|((_, header), _)| *header)
        .collect();
    if !missing.is_empty() {
        return Err(Error::NotACloudEvent { missing });
    }
    let specversion = specversion.expect("checked above");
    if specversion != SPEC_VERSION {
        return Err(Error::UnsupportedSpecVersion {
            found: specversion.into_owned(),
        });
    }
    if let Some(ct) = headers.get(CONTENT_TYPE) {
        let ct = ct.to_str().map_err(|_| {
            Error::invalid("datacontenttype", "(Content-Type) is not visible ASCII")
        })?;
        event.datacontenttype = Some(ct.to_owned());
    }
    event.validate()?;
    Ok(event)
}

/// Whether binary mode can carry `event`. It cannot when its `datacontenttype` is itself
/// a CloudEvents format (`application/cloudevents…`): that `Content-Type` would make the
/// receiver read the data as the event (binding §3).
pub fn binary_carries(event: &Event) -> bool {
    !event.datacontenttype.as_deref().is_some_and(|ct| {
        media::starts_with_ignore_case(ct.trim_start(), "application/cloudevents")
    })
}

/// Encodes one event as an HTTP message in binary or structured mode. An event that
/// binary mode cannot carry ([`binary_carries`]) goes in structured mode.
///
/// # Panics
/// On [`Mode::Batch`]: use [`encode_batch`].
pub fn encode(event: &Event, mode: Mode) -> (HeaderMap, Bytes) {
    match mode {
        Mode::Binary if binary_carries(event) => encode_binary(event),
        Mode::Binary | Mode::Structured => {
            let mut headers = HeaderMap::with_capacity(1);
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(CLOUDEVENTS_JSON));
            (headers, json::to_vec(event).into())
        }
        Mode::Batch => panic!("encode a batch with `encode_batch`"),
    }
}

/// [`encode`], consuming the event: in binary mode each attribute value moves into its
/// header without a copy (what a server replying with an event wants).
pub fn encode_owned(event: Event, mode: Mode) -> (HeaderMap, Bytes) {
    match mode {
        Mode::Binary if binary_carries(&event) => encode_binary_owned(event),
        _ => encode(&event, mode),
    }
}

/// Encodes events in batched mode.
pub fn encode_batch(events: &[Event]) -> (HeaderMap, Bytes) {
    let mut headers = HeaderMap::with_capacity(1);
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(CLOUDEVENTS_BATCH_JSON),
    );
    (headers, json::batch_to_vec(events).into())
}

/// Encodes one event in binary mode: `ce-` headers percent-encoded, `datacontenttype`
/// as `Content-Type`, data as the body. Check [`binary_carries`] first, or use
/// [`encode`], which does.
pub fn encode_binary(event: &Event) -> (HeaderMap, Bytes) {
    encode_binary_owned(event.clone())
}

/// [`encode_binary`], consuming the event.
pub fn encode_binary_owned(event: Event) -> (HeaderMap, Bytes) {
    let mut headers = HeaderMap::with_capacity(8 + event.extensions.len());
    let mut put = |name: HeaderName, value: String| {
        let value = match percent::encode(&value) {
            std::borrow::Cow::Borrowed(_) => value,
            std::borrow::Cow::Owned(escaped) => escaped,
        };
        // Percent-encoding leaves only visible ASCII, which is always a valid header value.
        let value = HeaderValue::from_maybe_shared(Bytes::from(value))
            .expect("percent-encoded values are visible ASCII");
        headers.insert(name, value);
    };
    put(HeaderName::from_static("ce-id"), event.id);
    put(HeaderName::from_static("ce-source"), event.source);
    put(HeaderName::from_static("ce-type"), event.ty);
    if let Some(v) = event.dataschema {
        put(HeaderName::from_static("ce-dataschema"), v);
    }
    if let Some(v) = event.subject {
        put(HeaderName::from_static("ce-subject"), v);
    }
    if let Some(v) = event.time {
        put(HeaderName::from_static("ce-time"), v);
    }
    for (name, value) in event.extensions {
        let value = match value {
            ExtensionValue::String(s) => s,
            other => other.to_canonical().into_owned(),
        };
        put(extension_header(&name), value);
    }
    headers.insert(
        HeaderName::from_static("ce-specversion"),
        HeaderValue::from_static(SPEC_VERSION),
    );
    if let Some(ct) = event.datacontenttype {
        // Every event is validated, and a valid datacontenttype is ASCII without control
        // characters: always a valid header value.
        let ct = HeaderValue::from_maybe_shared(Bytes::from(ct))
            .expect("a validated datacontenttype is a header value");
        headers.insert(CONTENT_TYPE, ct);
    }
    (headers, event.data.unwrap_or_default())
}

/// `ce-<name>`; the distributed-tracing extension, on most replies, without allocating.
fn extension_header(name: &str) -> HeaderName {
    match name {
        "traceparent" => HeaderName::from_static("ce-traceparent"),
        "tracestate" => HeaderName::from_static("ce-tracestate"),
        _ => HeaderName::try_from(format!("ce-{name}"))
            .expect("extension names are valid header names"),
    }
}

#[cfg(test)]
mod tests;
