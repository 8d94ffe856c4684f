//! The function's answer as `motif invoke` shows it: decoded as a CloudEvent or an
//! RFC 9457 problem where it is one, printed as text or as one JSON/YAML document.

use std::collections::BTreeMap;
use std::io::{self, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderMap};
use motif_contract::http::{Message, Mode};
use motif_contract::{Event, ExtensionValue, media};
use serde::Serialize;
use serde_json::Value;

use crate::output;

/// The answer, read whole.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    headers: HeaderMap,
    content: Content,
}

/// What the body turned out to be.
#[derive(Debug)]
enum Content {
    /// One CloudEvent, in the mode it came in.
    Event(Event, Mode),
    /// A CloudEvents batch.
    Batch(Vec<Event>),
    /// An `application/problem+json` object.
    Problem(serde_json::Map<String, Value>),
    /// Anything else.
    Plain(Bytes),
}

/// The `-o json|yaml` document; its fields are listed on [`super::InvokeArgs`].
#[derive(Debug, Serialize)]
pub struct Document {
    status: u16,
    headers: BTreeMap<String, String>,
    cloudevent: Option<BTreeMap<String, Value>>,
    mode: Option<&'static str>,
    body: Value,
}

/// Headers that describe the connection rather than the answer (and `date`, which
/// changes on every call), left out of the text output.
const NOT_SHOWN: [&str; 10] = [
    "connection",
    "date",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// `422 Unprocessable Entity`.
pub fn status_line(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

impl Reply {
    /// Reads an answer: a CloudEvent when it carries `ce-specversion` or a CloudEvents
    /// content type, a problem when it is `application/problem+json`.
    pub fn read(status: StatusCode, headers: HeaderMap, body: Bytes) -> Reply {
        let mode = motif_contract::http::mode(&headers);
        let content = if headers.contains_key("ce-specversion") || mode != Mode::Binary {
            match motif_contract::http::decode(&headers, body.clone()) {
                Ok(Message::Event(event, mode)) => Content::Event(event, mode),
                Ok(Message::Batch(events)) => Content::Batch(events),
                Err(e) => {
                    output::status(format!(
                        "warning: the answer looks like a CloudEvent but is not a valid one: {e}"
                    ));
                    Content::Plain(body)
                }
            }
        } else if is_problem(&headers) {
            match serde_json::from_slice(&body) {
                Ok(Value::Object(problem)) => Content::Problem(problem),
                _ => Content::Plain(body),
            }
        } else {
            Content::Plain(body)
        };
        Reply {
            status,
            headers,
            content,
        }
    }

    /// A hint for a failed answer, when there is one to give.
    pub fn hint(&self, sent_cloudevent: bool) -> Option<&'static str> {
        let Content::Problem(problem) = &self.content else {
            return None;
        };
        let ty = problem
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        (!sent_cloudevent && ty.ends_with("/not-a-cloudevent")).then_some(
            "the function takes CloudEvents: add --cloudevent, or set kind = \"cloudevent\" \
             in its motif.toml",
        )
    }

    /// The `-o json|yaml` document.
    pub fn document(&self) -> Document {
        let mut headers = BTreeMap::<String, String>::new();
        for (name, value) in &self.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|joined| {
                    joined.push_str(", ");
                    joined.push_str(&value);
                })
                .or_insert_with(|| value.into_owned());
        }
        let (cloudevent, mode, body) = match &self.content {
            Content::Event(event, mode) => (
                Some(attributes(event)),
                Some(mode_name(*mode)),
                event_data_value(event),
            ),
            Content::Batch(events) => (None, Some(mode_name(Mode::Batch)), batch_value(events)),
            Content::Problem(problem) => (None, None, Value::Object(problem.clone())),
            Content::Plain(body) => {
                let content_type = self.content_type();
                let json = content_type.is_some_and(media::is_json);
                (None, None, body_value(json, body))
            }
        };
        Document {
            status: self.status.as_u16(),
            headers,
            cloudevent,
            mode,
            body,
        }
    }

    /// The answer as text: the status line, then the headers and body, the event, or
    /// the problem.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", status_line(self.status))?;
        match &self.content {
            Content::Event(event, mode) => write_event(out, event, *mode),
            Content::Batch(events) => {
                let plural = if events.len() == 1 { "" } else { "s" };
                writeln!(out, "CloudEvents batch ({} event{plural})", events.len())?;
                for event in events {
                    writeln!(out)?;
                    write_event(out, event, Mode::Batch)?;
                }
                Ok(())
            }
            Content::Problem(problem) => {
                self.write_headers(out)?;
                writeln!(out)?;
                write_problem(out, problem)
            }
            Content::Plain(body) => {
                self.write_headers(out)?;
                if body.is_empty() {
                    return Ok(());
                }
                writeln!(out)?;
                let content_type = self.content_type();
                write_data(
                    out,
                    content_type,
                    content_type.is_some_and(media::is_json),
                    body,
                )
            }
        }
    }

    /// The headers, sorted by name, one value a line.
    fn write_headers(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut names: Vec<_> = self
            .headers
            .keys()
            .filter(|name| !NOT_SHOWN.contains(&name.as_str()))
            .collect();
        names.sort_by_key(|name| name.as_str());
        for name in names {
            for value in self.headers.get_all(name) {
                writeln!(out, "{name}: {}", String::from_utf8_lossy(value.as_bytes()))?;
            }
        }
        Ok(())
    }

    fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| media::essence(ct).eq_ignore_ascii_case(media::PROBLEM_JSON))
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Binary => "binary",
        Mode::Structured => "structured",
        Mode::Batch => "batch",
    }
}

/// Every attribute of `event`, extensions with their JSON type.
fn attributes(event: &Event) -> BTreeMap<String, Value> {
    let mut attributes: BTreeMap<String, Value> = event
        .attributes()
        .map(|(name, value)| (name.to_owned(), Value::String(value.into_owned())))
        .collect();
    for (name, value) in event.extensions() {
        let value = match value {
            ExtensionValue::String(s) => Value::String(s.clone()),
            ExtensionValue::Boolean(b) => Value::Bool(*b),
            ExtensionValue::Integer(i) => Value::from(*i),
        };
        attributes.insert(name.to_owned(), value);
    }
    attributes
}

/// Data without a `datacontenttype` is JSON in the JSON event format, and is read as
/// JSON here too when it parses.
fn data_is_json(event: &Event) -> bool {
    event.datacontenttype().is_none_or(media::is_json)
}

fn event_data_value(event: &Event) -> Value {
    match event.data() {
        Some(data) => body_value(data_is_json(event), data),
        None => Value::Null,
    }
}

/// A batch as its events: attributes beside `data`, as the JSON event format has it.
fn batch_value(events: &[Event]) -> Value {
    Value::Array(
        events
            .iter()
            .map(|event| {
                let mut object: serde_json::Map<String, Value> =
                    attributes(event).into_iter().collect();
                object.insert("data".to_owned(), event_data_value(event));
                Value::Object(object)
            })
            .collect(),
    )
}

/// A body as data: JSON when it is JSON, else a string, else base64; `null` when empty.
fn body_value(json: bool, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    if json && let Ok(value) = serde_json::from_slice(body) {
        return value;
    }
    match std::str::from_utf8(body) {
        Ok(text) => Value::String(text.to_owned()),
        Err(_) => serde_json::json!({ "base64": BASE64.encode(body) }),
    }
}

fn write_event(out: &mut dyn Write, event: &Event, mode: Mode) -> io::Result<()> {
    match mode {
        Mode::Batch => writeln!(out, "CloudEvent")?,
        mode => writeln!(out, "CloudEvent ({} mode)", mode_name(mode))?,
    }
    for (name, value) in event.attributes() {
        // Always 1.0: motif decodes no other version.
        if name != "specversion" {
            writeln!(out, "  {name}: {value}")?;
        }
    }
    match event.data() {
        Some(data) if !data.is_empty() => {
            writeln!(out)?;
            write_data(out, event.datacontenttype(), data_is_json(event), data)
        }
        _ => Ok(()),
    }
}

/// Title and detail first, then the standard members, then the extensions.
fn write_problem(out: &mut dyn Write, problem: &serde_json::Map<String, Value>) -> io::Result<()> {
    const FIRST: [&str; 5] = ["title", "detail", "type", "status", "instance"];
    writeln!(out, "Problem")?;
    let first = FIRST
        .iter()
        .filter_map(|name| problem.get(*name).map(|value| (*name, value)));
    let rest = problem
        .iter()
        .filter(|(name, _)| !FIRST.contains(&name.as_str()))
        .map(|(name, value)| (name.as_str(), value));
    for (name, value) in first.chain(rest) {
        match value {
            Value::String(s) => writeln!(out, "  {name}: {s}")?,
            other => writeln!(out, "  {name}: {other}")?,
        }
    }
    Ok(())
}

/// Data as text: pretty JSON, UTF-8 text, or a note of its size and type.
fn write_data(
    out: &mut dyn Write,
    content_type: Option<&str>,
    json: bool,
    data: &[u8],
) -> io::Result<()> {
    if json && let Ok(value) = serde_json::from_slice::<Value>(data) {
        let pretty = serde_json::to_string_pretty(&value).expect("a JSON value serializes");
        return writeln!(out, "{pretty}");
    }
    match std::str::from_utf8(data) {
        Ok(text) if text.ends_with('\n') => write!(out, "{text}"),
        Ok(text) => writeln!(out, "{text}"),
        Err(_) => writeln!(
            out,
            "<{} bytes of {}>",
            data.len(),
            content_type.unwrap_or(media::OCTET_STREAM)
        ),
    }
}
