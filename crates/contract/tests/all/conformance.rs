//! Every event of cloudevents/conformance (`yaml/**` and `pkg/diff/testdata/**`), sent as
//! its `invoke` command would send it, decoded, checked attribute by attribute, and
//! round-tripped through both modes.
//!
//! The YAML schema is that of the conformance tool (contracts.md §4): multi-document
//! files whose documents hold `Mode` (binary | structured, default binary),
//! `ContextAttributes` (core attributes and an `Extensions` map), `TransportExtensions`
//! (extra HTTP headers) and `Data` (the body as text). The requests are built here by
//! hand from the binding's text, not with the crate's encoder.
//!
//! What the data holds, and what each kind of document must give:
//! - a valid 1.0 event: decoded with every attribute, extension and byte of data as
//!   written, then re-encoded by the crate in both modes and decoded to the same event;
//! - an incomplete event (the `diff` fixtures that hold a `type` only, or no `source`):
//!   rejected, the error naming the missing attribute or headers;
//! - an event whose values break the type system: rejected, naming the attribute. Most
//!   extension values of the data are YAML literal blocks (`|`), which keep a final line
//!   break, and a line break is a control character that a CloudEvents String must not
//!   hold (spec §3.3); so each such event is also run with the break chomped (as `|-`
//!   would read it), which is the event its author meant, and must then decode;
//! - a 0.3 event: rejected with `UnsupportedSpecVersion`, attribute `specversion`.
//!
//! Each event is sent in its own `Mode`, as the tool sends it, and in the other mode too.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use motif_contract::http::{self as binding, Message, Mode};
use motif_contract::{Error, Event, ExtensionValue};
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{self, assert_problem, decode_event, is_json_type, percent_encode};

/// The core attributes of 1.0 in the order the crate reports missing ones.
const REQUIRED: [&str; 4] = ["id", "source", "specversion", "type"];

/// One YAML document of the conformance data.
#[derive(Clone)]
struct Case {
    origin: String,
    mode: Mode,
    /// Core attributes as (name, canonical string), `specversion` included.
    attributes: Vec<(String, String)>,
    extensions: Vec<(String, Ext)>,
    transport: Vec<(String, String)>,
    data: Option<String>,
}

/// An extension value as the YAML gives it.
#[derive(Clone, Debug, PartialEq)]
enum Ext {
    String(String),
    Boolean(bool),
    Integer(i64),
}

impl Ext {
    fn canonical(&self) -> String {
        match self {
            Self::String(s) => s.clone(),
            Self::Boolean(b) => b.to_string(),
            Self::Integer(i) => i.to_string(),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Self::String(s) => s.as_str().into(),
            Self::Boolean(b) => (*b).into(),
            Self::Integer(i) => (*i).into(),
        }
    }

    /// The value the crate must hold after decoding it in `mode`: the binary mode carries
    /// strings only.
    fn decoded(&self, mode: Mode) -> ExtensionValue {
        match (self, mode) {
            (Self::Boolean(b), Mode::Structured) => ExtensionValue::Boolean(*b),
            (Self::Integer(i), Mode::Structured) => {
                ExtensionValue::Integer(i32::try_from(*i).expect("checked as a fault"))
            }
            _ => ExtensionValue::String(self.canonical()),
        }
    }
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)
    }
}

/// Why the crate must reject a case.
#[derive(Debug, PartialEq)]
enum Fault {
    Missing(&'static str),
    UnsupportedSpecVersion(String),
    Invalid(String),
}

impl Case {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn specversion(&self) -> Option<&str> {
        self.attribute("specversion")
    }

    fn datacontenttype(&self) -> Option<&str> {
        self.attribute("datacontenttype")
    }

    /// Every rule of CloudEvents 1.0.2 the case breaks, as far as its data can: the
    /// conformance events' sources, times and media types are all well formed, so the
    /// checks here are those their values come near.
    fn faults(&self) -> Vec<Fault> {
        let mut faults: Vec<Fault> = REQUIRED
            .iter()
            .filter(|name| self.attribute(name).is_none())
            .map(|&name| Fault::Missing(name))
            .collect();
        if let Some(v) = self.specversion().filter(|v| *v != "1.0") {
            faults.push(Fault::UnsupportedSpecVersion(v.to_owned()));
        }
        for (name, value) in &self.attributes {
            if name != "specversion" && (value.is_empty() || !is_string(value)) {
                faults.push(Fault::Invalid(name.clone()));
            }
        }
        for (name, value) in &self.extensions {
            let bad_name = name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            let bad_value = match value {
                Ext::String(s) => !is_string(s),
                Ext::Integer(i) => i32::try_from(*i).is_err(),
                Ext::Boolean(_) => false,
            };
            if bad_name || bad_value {
                faults.push(Fault::Invalid(name.clone()));
            }
        }
        faults
    }

    /// The case with one final line break taken off every attribute value (YAML's `|-`
    /// rather than `|`), or `None` when no value ends with one.
    fn chomped(&self) -> Option<Case> {
        let chomp = |s: &String| s.strip_suffix('\n').map(str::to_owned);
        let mut changed = false;
        let mut case = self.clone();
        for (_, value) in &mut case.attributes {
            if let Some(v) = chomp(value) {
                *value = v;
                changed = true;
            }
        }
        for (_, value) in &mut case.extensions {
            if let Ext::String(s) = value
                && let Some(v) = chomp(s)
            {
                *s = v;
                changed = true;
            }
        }
        case.origin.push_str(" (final line breaks chomped)");
        changed.then_some(case)
    }

    fn in_mode(&self, mode: Mode) -> Case {
        let mut case = self.clone();
        if mode != self.mode {
            case.origin.push_str(&format!(" (sent in {mode:?} mode)"));
        }
        case.mode = mode;
        case
    }

    /// The request the conformance tool sends for this case.
    fn request(&self) -> (HeaderMap, Bytes) {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let body = match self.mode {
            Mode::Binary => {
                for (name, value) in &self.attributes {
                    if name == "datacontenttype" {
                        pairs.push(("content-type".into(), value.clone()));
                    } else {
                        pairs.push((format!("ce-{name}"), percent_encode(value)));
                    }
                }
                for (name, value) in &self.extensions {
                    pairs.push((format!("ce-{name}"), percent_encode(&value.canonical())));
                }
                Bytes::from(self.data.clone().unwrap_or_default())
            }
            Mode::Structured => {
                pairs.push(("content-type".into(), "application/cloudevents+json".into()));
                Bytes::from(self.envelope())
            }
            Mode::Batch => unreachable!("the conformance data has no batches"),
        };
        pairs.extend(self.transport.iter().cloned());
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        (support::headers(&pairs), body)
    }

    /// The JSON-format envelope: attributes and extensions as members, and the data as a
    /// JSON value (written as it stands) for a JSON type, as a string for any other type.
    fn envelope(&self) -> String {
        let mut members = serde_json::Map::new();
        for (name, value) in &self.attributes {
            members.insert(name.clone(), value.as_str().into());
        }
        for (name, value) in &self.extensions {
            members.insert(name.clone(), value.to_json());
        }
        let data = self.data.as_deref().map(|data| {
            if !is_json_type(self.datacontenttype()) {
                format!(r#""data":{}"#, serde_json::Value::from(data))
            } else if serde_json::from_str::<serde_json::Value>(data).is_ok() {
                format!(r#""data":{}"#, data.trim_matches(JSON_WHITESPACE))
            } else {
                let b64 = base64::engine::general_purpose::STANDARD.encode(data);
                format!(r#""data_base64":"{b64}""#)
            }
        });
        let mut body = serde_json::Value::Object(members).to_string();
        if let Some(data) = data {
            body.pop(); // the closing brace
            if body.len() > 1 {
                body.push(',');
            }
            body.push_str(&data);
            body.push('}');
        }
        body
    }

    /// The data the decoded event must hold: the body as it stands in binary mode (where an
    /// empty body is no data), the JSON value's text or the string's contents in
    /// structured mode.
    fn expected_data(&self) -> Option<Bytes> {
        let data = self.data.as_deref()?;
        match self.mode {
            Mode::Binary if data.is_empty() => None,
            Mode::Structured
                if is_json_type(self.datacontenttype())
                    && serde_json::from_str::<serde_json::Value>(data).is_ok() =>
            {
                Some(Bytes::copy_from_slice(
                    data.trim_matches(JSON_WHITESPACE).as_bytes(),
                ))
            }
            _ => Some(Bytes::copy_from_slice(data.as_bytes())),
        }
    }
}

/// RFC 8259's insignificant whitespace.
const JSON_WHITESPACE: &[char] = &[' ', '\t', '\n', '\r'];

/// Whether `s` is a CloudEvents String: no control characters (U+0000-U+001F,
/// U+007F-U+009F) and no Unicode noncharacters.
fn is_string(s: &str) -> bool {
    s.chars().all(|c| {
        let n = u32::from(c);
        !(n <= 0x1F
            || (0x7F..=0x9F).contains(&n)
            || (0xFDD0..=0xFDEF).contains(&n)
            || n & 0xFFFE == 0xFFFE)
    })
}

/// A YAML scalar as the text it was written as: yaml-rust2 keeps a float's text
/// (`specversion: 1.0` stays `1.0`) and leaves timestamps as strings.
fn scalar(y: &Yaml, what: &str) -> String {
    match y {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        other => panic!("{what}: expected a scalar, got {other:?}"),
    }
}

fn entries<'a>(y: &'a Yaml, what: &str) -> Vec<(String, &'a Yaml)> {
    match y {
        Yaml::BadValue | Yaml::Null => Vec::new(),
        Yaml::Hash(h) => h.iter().map(|(k, v)| (scalar(k, what), v)).collect(),
        other => panic!("{what}: expected a map, got {other:?}"),
    }
}

/// Reads one YAML document of the conformance tool's schema.
fn case(doc: &Yaml, origin: String) -> Case {
    let mode = match &doc["Mode"] {
        Yaml::BadValue | Yaml::Null => Mode::Binary,
        m => match scalar(m, &origin).as_str() {
            "binary" => Mode::Binary,
            "structured" => Mode::Structured,
            other => panic!("{origin}: unknown Mode `{other}`"),
        },
    };
    for (key, _) in entries(doc, &origin) {
        assert!(
            ["Mode", "ContextAttributes", "TransportExtensions", "Data"].contains(&key.as_str()),
            "{origin}: unknown key `{key}`: the conformance schema has changed"
        );
    }
    let context = &doc["ContextAttributes"];
    let is_v1 = matches!(&context["specversion"], Yaml::Real(v) | Yaml::String(v) if v == "1.0");
    let mut attributes = Vec::new();
    let mut extensions = Vec::new();
    for (key, value) in entries(context, &origin) {
        match key.as_str() {
            "Extensions" => {
                for (name, value) in entries(value, &origin) {
                    let value = match value {
                        Yaml::Boolean(b) => Ext::Boolean(*b),
                        Yaml::Integer(i) => Ext::Integer(*i),
                        other => Ext::String(scalar(other, &origin)),
                    };
                    extensions.push((name, value));
                }
            }
            // 1.0 renamed 0.3's `schemaurl`; the tool reads either.
            "schemaurl" if is_v1 => attributes.push(("dataschema".into(), scalar(value, &key))),
            "specversion"
            | "type"
            | "id"
            | "source"
            | "time"
            | "datacontenttype"
            | "subject"
            | "dataschema"
            | "schemaurl"
            | "datacontentencoding" => {
                attributes.push((key.clone(), scalar(value, &key)));
            }
            other => panic!("{origin}: unknown context attribute `{other}`"),
        }
    }
    let transport = entries(&doc["TransportExtensions"], &origin)
        .into_iter()
        .map(|(name, value)| (name, scalar(value, &origin)))
        .collect();
    let data = match &doc["Data"] {
        Yaml::BadValue | Yaml::Null => None,
        d => Some(scalar(d, &origin)),
    };
    Case {
        origin,
        mode,
        attributes,
        extensions,
        transport,
        data,
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read {
        let path = entry.expect("a readable directory entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
        {
            out.push(path);
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    documents: usize,
    requests: usize,
    decoded: usize,
    rejected: usize,
    unsupported_version: usize,
}

/// Sends one case and checks what the crate makes of it.
fn run(case: &Case, tally: &mut Tally) {
    tally.requests += 1;
    let (headers, body) = case.request();
    let decoded = binding::decode(&headers, body);
    let faults = case.faults();
    if faults.is_empty() {
        let event = match decoded {
            Ok(Message::Event(event, mode)) if mode == case.mode => event,
            other => panic!(
                "{case:?}: expected a {:?}-mode event, got {other:?}",
                case.mode
            ),
        };
        assert_event(case, &event);
        assert_round_trips(case, &event);
        tally.decoded += 1;
        return;
    }
    let err = decoded.expect_err(&format!("{case:?} breaks {faults:?} and must be rejected"));
    assert_rejected_for(case, &err, &faults);
    if case.specversion() == Some("0.3") {
        assert_eq!(
            err,
            Error::UnsupportedSpecVersion {
                found: "0.3".into()
            },
            "{case:?}"
        );
        assert_eq!(err.attribute(), Some("specversion"), "{case:?}");
        tally.unsupported_version += 1;
    } else {
        tally.rejected += 1;
    }
}

/// The decoded event holds every attribute, extension and byte of the case, and nothing
/// else.
fn assert_event(case: &Case, event: &Event) {
    for name in [
        "id",
        "source",
        "specversion",
        "type",
        "datacontenttype",
        "dataschema",
        "subject",
        "time",
    ] {
        assert_eq!(
            event.attribute(name).as_deref(),
            case.attribute(name),
            "{case:?}: attribute `{name}`"
        );
    }
    let extensions: Vec<(&str, &ExtensionValue)> = event.extensions().collect();
    let mut expected: Vec<(&str, ExtensionValue)> = case
        .extensions
        .iter()
        .map(|(name, value)| (name.as_str(), value.decoded(case.mode)))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(b.0));
    let expected: Vec<(&str, &ExtensionValue)> = expected.iter().map(|(n, v)| (*n, v)).collect();
    assert_eq!(extensions, expected, "{case:?}: extensions");
    assert_eq!(
        event.data(),
        case.expected_data().as_ref(),
        "{case:?}: data"
    );
}

/// The crate's own encoding of the event, in either mode, decodes to the same event. A
/// binary body of JSON with whitespace around the value (the YAML's final line break)
/// comes back from the JSON format without it: the format carries the JSON value, and
/// whitespace outside a value is not part of it.
fn assert_round_trips(case: &Case, event: &Event) {
    for mode in [Mode::Binary, Mode::Structured] {
        let (headers, body) = binding::encode(event, mode);
        let back = decode_event(&headers, body, mode);
        assert_eq!(
            back,
            as_carried_by(event, mode),
            "{case:?}: re-encoded in {mode:?} mode"
        );
        let (headers, body) = binding::encode(&back, mode);
        assert_eq!(
            decode_event(&headers, body, mode),
            back,
            "{case:?}: re-encoded twice in {mode:?} mode"
        );
    }
}

fn as_carried_by(event: &Event, mode: Mode) -> Event {
    let ct = event.datacontenttype().map(str::to_owned);
    let Some(data) = event.data() else {
        return event.clone();
    };
    let json =
        is_json_type(ct.as_deref()) && serde_json::from_slice::<serde_json::Value>(data).is_ok();
    if mode != Mode::Structured || !json {
        return event.clone();
    }
    let text = std::str::from_utf8(data).expect("JSON is UTF-8");
    let mut event = event.clone();
    event
        .set_data(ct.as_deref(), text.trim_matches(JSON_WHITESPACE).to_owned())
        .expect("the content type was valid before");
    event
}

/// The error is one the case's faults explain, a 400 whose detail names the attribute.
fn assert_rejected_for(case: &Case, err: &Error, faults: &[Fault]) {
    match err {
        Error::NotACloudEvent { missing } => {
            assert_eq!(case.mode, Mode::Binary, "{case:?}: {err}");
            let expected: Vec<String> = faults
                .iter()
                .filter_map(|f| match f {
                    Fault::Missing(name) => Some(format!("ce-{name}")),
                    _ => None,
                })
                .collect();
            assert_eq!(*missing, expected, "{case:?}: the missing headers");
            let names: Vec<&str> = expected.iter().map(String::as_str).collect();
            assert_problem(err, StatusCode::BAD_REQUEST, &names);
        }
        Error::MissingAttribute { name } => {
            assert!(
                faults.contains(&Fault::Missing(name)),
                "{case:?}: {err} but {faults:?}"
            );
            assert_problem(err, StatusCode::BAD_REQUEST, &[name]);
        }
        Error::UnsupportedSpecVersion { found } => {
            assert!(
                faults.contains(&Fault::UnsupportedSpecVersion(found.clone())),
                "{case:?}: {err} but {faults:?}"
            );
            assert_problem(err, StatusCode::BAD_REQUEST, &["specversion", found]);
        }
        _ => {
            let name = err
                .attribute()
                .unwrap_or_else(|| panic!("{case:?}: {err:?} names no attribute"));
            assert!(
                faults.contains(&Fault::Invalid(name.to_owned())),
                "{case:?}: {err} but {faults:?}"
            );
            assert_problem(err, StatusCode::BAD_REQUEST, &[name]);
        }
    }
}

#[test]
fn every_conformance_event_decodes_as_sent_and_round_trips() {
    let Some(dir) = support::conformance_dir() else {
        return;
    };
    let root = dir.join("cloudevents-conformance");
    let mut files = Vec::new();
    yaml_files(&root.join("yaml"), &mut files);
    yaml_files(&root.join("pkg/diff/testdata"), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no YAML under {}", root.display());

    let mut tally = Tally::default();
    let mut chomped = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable YAML");
        let docs =
            YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (i, doc) in docs.iter().enumerate() {
            let case = case(doc, format!("{name} document {}", i + 1));
            tally.documents += 1;
            let variants = std::iter::once(case.clone()).chain(case.chomped());
            for (n, variant) in variants.enumerate() {
                chomped += usize::from(n > 0);
                let other = match variant.mode {
                    Mode::Binary => Mode::Structured,
                    _ => Mode::Binary,
                };
                run(&variant, &mut tally);
                run(&variant.in_mode(other), &mut tally);
            }
        }
    }
    eprintln!(
        "conformance: {} cases ({} documents in {} files, {} also run with line breaks \
         chomped; each sent in both modes): {} decoded and round-tripped, {} rejected \
         naming the attribute at fault, {} rejected as specversion 0.3",
        tally.requests,
        tally.documents,
        files.len(),
        chomped,
        tally.decoded,
        tally.rejected,
        tally.unsupported_version
    );
    assert!(tally.documents > 0, "no conformance cases found");
    assert!(tally.decoded > 0, "no conformance event decoded: {tally:?}");
}
