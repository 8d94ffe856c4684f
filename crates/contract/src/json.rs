//! The JSON event format 1.0.2 (`application/cloudevents+json`) and its batch format
//! (`application/cloudevents-batch+json`).
//!
//! Decoding walks the object once with a serde visitor: duplicate members are rejected,
//! `null` means unset, extensions are top-level members, and `data` is kept as the raw
//! JSON text it arrived as (so a JSON string is never parsed a second time).
//!
//! Encoding chooses where the data goes from `datacontenttype`:
//! - a JSON type (`*/json`, `*/*+json`, or none) and bytes that are JSON: `data`, as a
//!   JSON value written verbatim;
//! - a textual type (`text/*`, `*/xml`, `*/*+xml`) that is not a JSON type, and bytes
//!   that are UTF-8: `data`, as a JSON string (for `text/json` a string would be read
//!   back as the JSON value, quotes and all);
//! - anything else: `data_base64`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::event::{Event, ExtensionValue, SPEC_VERSION};
use crate::{Error, media};

/// Decodes one event in the JSON format.
pub fn from_slice(body: &[u8]) -> Result<Event, Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let event = EventSeed.deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(json_error)?;
    event
}

/// Decodes a batch: a JSON array of events in the JSON format (possibly empty).
pub fn batch_from_slice(body: &[u8]) -> Result<Vec<Event>, Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let events = de.deserialize_seq(BatchVisitor).map_err(json_error)?;
    de.end().map_err(json_error)?;
    events
}

/// Encodes one event in the JSON format.
pub fn to_vec(event: &Event) -> Vec<u8> {
    serde_json::to_vec(&Encode(event)).expect("an event always serializes")
}

/// Encodes a batch of events.
pub fn batch_to_vec(events: &[Event]) -> Vec<u8> {
    serde_json::to_vec(&EncodeBatch(events)).expect("events always serialize")
}

/// A serde error that is really a rule of the spec carries our [`Error`] inside its
/// message; everything else is malformed JSON.
fn json_error(e: serde_json::Error) -> Error {
    Error::InvalidJson {
        reason: e.to_string(),
    }
}

struct EventSeed;

impl<'de> DeserializeSeed<'de> for EventSeed {
    /// The outer `Result` is serde's (malformed JSON); the inner one is ours (a
    /// well-formed object that breaks a CloudEvents rule), kept apart so that the caller
    /// gets the typed [`Error`] rather than a string.
    type Value = Result<Event, Error>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Result<Event, Error>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudEvent as a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Fields::default();
        let mut failure = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let result = match key.as_ref() {
                "data" => {
                    let raw: &RawValue = map.next_value()?;
                    set_once(&mut fields.data, "data", Some(raw))
                }
                "data_base64" => {
                    let v: Option<Cow<'de, str>> = map.next_value()?;
                    set_once(
                        &mut fields.data_base64,
                        "data_base64",
                        v.map(Cow::into_owned),
                    )
                }
                _ => {
                    let value: serde_json::Value = map.next_value()?;
                    fields.attribute(key.into_owned(), value)
                }
            };
            // Keep reading so that malformed JSON later in the body is still reported as
            // malformed JSON, but remember the first rule broken.
            if let (Err(e), None) = (result, &failure) {
                failure = Some(e);
            }
        }
        Ok(match failure {
            Some(e) => Err(e),
            None => fields.into_event(),
        })
    }
}

struct BatchVisitor;

impl<'de> Visitor<'de> for BatchVisitor {
    type Value = Result<Vec<Event>, Error>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of CloudEvents")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut events = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        let mut failure = None;
        while let Some(event) = seq.next_element_seed(EventSeed)? {
            match event {
                Ok(e) => events.push(e),
                Err(e) if failure.is_none() => failure = Some(e),
                Err(_) => {}
            }
        }
        Ok(match failure {
            Some(e) => Err(e),
            None => Ok(events),
        })
    }
}

#[derive(Default)]
struct Fields<'de> {
    seen: std::collections::BTreeSet<String>,
    id: Option<String>,
    source: Option<String>,
    specversion: Option<String>,
    ty: Option<String>,
    datacontenttype: Option<String>,
    dataschema: Option<String>,
    subject: Option<String>,
    time: Option<String>,
    extensions: BTreeMap<String, ExtensionValue>,
    data: Option<Option<&'de RawValue>>,
    data_base64: Option<Option<String>>,
}

fn set_once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), Error> {
    if slot.is_some() {
        return Err(Error::DuplicateAttribute {
            name: name.to_owned(),
        });
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Fields<'de> {
    fn attribute(&mut self, name: String, value: serde_json::Value) -> Result<(), Error> {
        use serde_json::Value;
        if !self.seen.insert(name.clone()) {
            return Err(Error::DuplicateAttribute { name });
        }
        crate::validate::name(&name)?;
        let core = match name.as_str() {
            "id" => Some(&mut self.id),
            "source" => Some(&mut self.source),
            "specversion" => Some(&mut self.specversion),
            "type" => Some(&mut self.ty),
            "datacontenttype" => Some(&mut self.datacontenttype),
            "dataschema" => Some(&mut self.dataschema),
            "subject" => Some(&mut self.subject),
            "time" => Some(&mut self.time),
            _ => None,
        };
        match (core, value) {
            // `null` means unset (JSON format §2.4).
            (_, Value::Null) => Ok(()),
            (Some(slot), Value::String(s)) => {
                *slot = Some(s);
                Ok(())
            }
            (Some(_), other) => Err(Error::invalid(
                &name,
                format!("must be a JSON string, not {}", kind(&other)),
            )),
            (None, Value::String(s)) => {
                self.extensions.insert(name, ExtensionValue::String(s));
                Ok(())
            }
            (None, Value::Bool(b)) => {
                self.extensions.insert(name, ExtensionValue::Boolean(b));
                Ok(())
            }
            (None, Value::Number(n)) => {
                let i = n
                    .as_i64()
                    .and_then(|i| i32::try_from(i).ok())
                    .ok_or_else(|| {
                        Error::invalid(
                            &name,
                            "must be an Integer: a whole number in the int32 range",
                        )
                    })?;
                self.extensions.insert(name, ExtensionValue::Integer(i));
                Ok(())
            }
            (None, other) => Err(Error::invalid(
                &name,
                format!("must be a string, boolean or integer, not {}", kind(&other)),
            )),
        }
    }

    fn into_event(self) -> Result<Event, Error> {
        let specversion = self.specversion.ok_or(Error::MissingAttribute {
            name: "specversion",
        })?;
        if specversion != SPEC_VERSION {
            return Err(Error::UnsupportedSpecVersion { found: specversion });
        }
        let data = match (self.data, self.data_base64) {
            (Some(Some(_)), Some(Some(_))) => return Err(Error::DataConflict),
            (_, Some(Some(b64))) => {
                Some(Bytes::from(BASE64.decode(b64.as_bytes()).map_err(|e| {
                    Error::InvalidData {
                        reason: format!("`data_base64` is not valid base64: {e}"),
                    }
                })?))
            }
            (Some(Some(raw)), _) => data_bytes(raw, self.datacontenttype.as_deref())?,
            _ => None,
        };
        let event = Event {
            id: self.id.ok_or(Error::MissingAttribute { name: "id" })?,
            source: self
                .source
                .ok_or(Error::MissingAttribute { name: "source" })?,
            ty: self.ty.ok_or(Error::MissingAttribute { name: "type" })?,
            datacontenttype: self.datacontenttype,
            dataschema: self.dataschema,
            subject: self.subject,
            time: self.time,
            extensions: self.extensions,
            data,
        };
        event.validate()?;
        Ok(event)
    }
}

/// The bytes of a `data` member: the JSON text itself for a JSON content type, the
/// string's contents for any other.
fn data_bytes(raw: &RawValue, datacontenttype: Option<&str>) -> Result<Option<Bytes>, Error> {
    if datacontenttype.is_none_or(media::is_json) {
        return Ok(Some(Bytes::copy_from_slice(raw.get().as_bytes())));
    }
    match serde_json::from_str::<Option<String>>(raw.get()) {
        Ok(Some(s)) => Ok(Some(Bytes::from(s))),
        Ok(None) => Ok(None),
        Err(_) => Err(Error::InvalidData {
            reason: format!(
                "`data` must be a JSON string when datacontenttype is `{}`; send binary data as `data_base64`",
                datacontenttype.unwrap_or_default()
            ),
        }),
    }
}

fn kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

struct Encode<'a>(&'a Event);

impl Serialize for Encode<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("specversion", SPEC_VERSION)?;
        map.serialize_entry("id", &e.id)?;
        map.serialize_entry("source", &e.source)?;
        map.serialize_entry("type", &e.ty)?;
        for (name, value) in [
            ("datacontenttype", &e.datacontenttype),
            ("dataschema", &e.dataschema),
            ("subject", &e.subject),
            ("time", &e.time),
        ] {
            if let Some(v) = value {
                map.serialize_entry(name, v)?;
            }
        }
        for (name, value) in &e.extensions {
            match value {
                ExtensionValue::String(v) => map.serialize_entry(name, v)?,
                ExtensionValue::Boolean(v) => map.serialize_entry(name, v)?,
                ExtensionValue::Integer(v) => map.serialize_entry(name, v)?,
            }
        }
        if let Some(data) = &e.data {
            let ct = e.datacontenttype.as_deref();
            let json = ct
                .is_none_or(media::is_json)
                .then(|| serde_json::from_slice::<&RawValue>(data).ok())
                .flatten();
            let text = || {
                // Not for a JSON type (`text/json`): decoding reads its `data` as JSON.
                ct.is_some_and(|ct| media::is_textual(ct) && !media::is_json(ct))
                    .then(|| std::str::from_utf8(data).ok())
                    .flatten()
            };
            if let Some(raw) = json {
                map.serialize_entry("data", raw)?;
            } else if let Some(text) = text() {
                map.serialize_entry("data", text)?;
            } else {
                map.serialize_entry("data_base64", &BASE64.encode(data))?;
            }
        }
        map.end()
    }
}

struct EncodeBatch<'a>(&'a [Event]);

impl Serialize for EncodeBatch<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for e in self.0 {
            seq.serialize_element(&Encode(e))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> Result<Event, Error> {
        from_slice(s.as_bytes())
    }

    const MIN: &str = r#""specversion":"1.0","id":"1","source":"/s","type":"t""#;

    #[test]
    fn a_json_string_is_data_as_it_stands() {
        let e = decode(&format!(r#"{{{MIN},"data":"I'm just a string"}}"#)).unwrap();
        assert_eq!(e.data().unwrap().as_ref(), br#""I'm just a string""#);
        let e = decode(&format!(
            r#"{{{MIN},"datacontenttype":"application/json","data":"{{\"a\":1}}"}}"#
        ))
        .unwrap();
        assert_eq!(e.data().unwrap().as_ref(), br#""{\"a\":1}""#);
    }

    #[test]
    fn null_attributes_are_unset_and_null_data_is_kept() {
        let e = decode(&format!(
            r#"{{{MIN},"subject":null,"myext":null,"data":null}}"#
        ))
        .unwrap();
        assert_eq!(e.subject(), None);
        assert_eq!(e.extension("myext"), None);
        assert_eq!(e.data().unwrap().as_ref(), b"null");
    }

    #[test]
    fn data_and_data_base64_together_are_rejected() {
        let err = decode(&format!(r#"{{{MIN},"data":1,"data_base64":"AQ=="}}"#)).unwrap_err();
        assert_eq!(err, Error::DataConflict);
    }

    #[test]
    fn duplicate_members_are_rejected() {
        let err = decode(&format!(r#"{{{MIN},"id":"2"}}"#)).unwrap_err();
        assert_eq!(err, Error::DuplicateAttribute { name: "id".into() });
    }

    #[test]
    fn extensions_keep_their_json_types() {
        let e = decode(&format!(r#"{{{MIN},"b":true,"i":-5,"s":"x"}}"#)).unwrap();
        assert_eq!(e.extension("b"), Some(&ExtensionValue::Boolean(true)));
        assert_eq!(e.extension("i"), Some(&ExtensionValue::Integer(-5)));
        let out = String::from_utf8(to_vec(&e)).unwrap();
        assert!(
            out.contains(r#""b":true"#) && out.contains(r#""i":-5"#),
            "{out}"
        );
    }

    #[test]
    fn extensions_outside_the_type_system_are_rejected() {
        for bad in [r#""i":3000000000"#, r#""i":1.5"#, r#""o":{}"#, r#""a":[]"#] {
            assert!(decode(&format!("{{{MIN},{bad}}}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn binary_data_is_written_as_data_base64() {
        let e = Event::builder("1", "/s", "t")
            .data("application/octet-stream", &b"\x00\x01"[..])
            .build()
            .unwrap();
        let out = String::from_utf8(to_vec(&e)).unwrap();
        assert!(out.contains(r#""data_base64":"AAE=""#), "{out}");
        assert_eq!(from_slice(out.as_bytes()).unwrap(), e);
    }

    #[test]
    fn text_data_is_written_as_a_string() {
        let e = Event::builder("1", "/s", "t")
            .data("application/xml", "<much wow=\"xml\"/>")
            .build()
            .unwrap();
        let out = String::from_utf8(to_vec(&e)).unwrap();
        assert!(out.contains(r#""data":"<much wow=\"xml\"/>""#), "{out}");
        assert_eq!(from_slice(out.as_bytes()).unwrap(), e);
    }

    #[test]
    fn json_data_that_is_not_json_falls_back_to_base64() {
        let e = Event::builder("1", "/s", "t")
            .data("application/json", "not json")
            .build()
            .unwrap();
        let out = String::from_utf8(to_vec(&e)).unwrap();
        assert!(out.contains("data_base64"), "{out}");
        assert_eq!(from_slice(out.as_bytes()).unwrap(), e);
    }

    #[test]
    fn text_json_data_that_is_not_json_is_written_as_base64() {
        // `text/json` is textual and JSON; found by fuzz/http_decode: the data went out
        // as a JSON string and came back as that string's JSON text, quotes included.
        let e = Event::builder("1", "/s", "t")
            .data("text/json", "d")
            .build()
            .unwrap();
        let out = String::from_utf8(to_vec(&e)).unwrap();
        assert!(out.contains(r#""data_base64":"ZA==""#), "{out}");
        assert_eq!(from_slice(out.as_bytes()).unwrap(), e);
    }

    #[test]
    fn non_string_data_needs_a_json_content_type() {
        let err = decode(&format!(
            r#"{{{MIN},"datacontenttype":"text/plain","data":{{}}}}"#
        ))
        .unwrap_err();
        assert!(matches!(err, Error::InvalidData { .. }), "{err}");
    }

    #[test]
    fn batches_are_arrays_of_events() {
        assert_eq!(batch_from_slice(b"[]").unwrap(), vec![]);
        let two = batch_from_slice(format!("[{{{MIN}}},{{{MIN}}}]").as_bytes()).unwrap();
        assert_eq!(two.len(), 2);
        assert!(batch_from_slice(b"{}").is_err());
        assert!(batch_from_slice(format!(r#"[{{{MIN}}},{{"id":"x"}}]"#).as_bytes()).is_err());
    }
}
