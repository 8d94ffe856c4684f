//! The CloudEvent: context attributes and data, valid by construction.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;

use crate::{Error, validate};

/// The only `specversion` motif produces and accepts.
pub const SPEC_VERSION: &str = "1.0";

/// A CloudEvents 1.0.2 event.
///
/// Every `Event` is valid: the decoders and [`EventBuilder::build`] check each attribute
/// against its type, so an event that exists can always be encoded.
///
/// Data is kept as the bytes it arrived as, together with `datacontenttype`; the JSON
/// format decides between `data` and `data_base64` from the content type when it encodes
/// (see [`crate::json`]). This keeps a binary-mode echo free of any JSON parsing.
#[derive(Clone, PartialEq, Eq)]
pub struct Event {
    pub(crate) id: String,
    pub(crate) source: String,
    pub(crate) ty: String,
    pub(crate) datacontenttype: Option<String>,
    pub(crate) dataschema: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) time: Option<String>,
    pub(crate) extensions: BTreeMap<String, ExtensionValue>,
    pub(crate) data: Option<Bytes>,
}

/// The value of an extension attribute.
///
/// The HTTP binary mode carries every value as a string, so an Integer or Boolean
/// extension decoded from headers is a [`ExtensionValue::String`]; only the JSON format
/// keeps the type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionValue {
    /// A String (also URI, URI-reference, Timestamp and Binary in canonical form).
    String(String),
    /// A Boolean.
    Boolean(bool),
    /// A signed 32-bit Integer.
    Integer(i32),
}

impl ExtensionValue {
    /// The canonical string form (CloudEvents 1.0.2 §3.3).
    pub fn to_canonical(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Self::String(s) => s.as_str().into(),
            Self::Boolean(b) => if *b { "true" } else { "false" }.into(),
            Self::Integer(i) => i.to_string().into(),
        }
    }
}

impl From<&str> for ExtensionValue {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}
impl From<String> for ExtensionValue {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}
impl From<bool> for ExtensionValue {
    fn from(v: bool) -> Self {
        Self::Boolean(v)
    }
}
impl From<i32> for ExtensionValue {
    fn from(v: i32) -> Self {
        Self::Integer(v)
    }
}

/// The names of the attributes the core specification defines.
pub(crate) const CORE_ATTRIBUTES: [&str; 8] = [
    "id",
    "source",
    "specversion",
    "type",
    "datacontenttype",
    "dataschema",
    "subject",
    "time",
];

impl Event {
    /// Starts an event with its three caller-chosen REQUIRED attributes.
    pub fn builder(
        id: impl Into<String>,
        source: impl Into<String>,
        ty: impl Into<String>,
    ) -> EventBuilder {
        EventBuilder {
            event: Event {
                id: id.into(),
                source: source.into(),
                ty: ty.into(),
                datacontenttype: None,
                dataschema: None,
                subject: None,
                time: None,
                extensions: BTreeMap::new(),
                data: None,
            },
        }
    }

    /// Turns the event back into a builder, to change it and validate again.
    pub fn into_builder(self) -> EventBuilder {
        EventBuilder { event: self }
    }

    /// `id`: identifies the event; `source` + `id` is unique per distinct event.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// `source`: a URI-reference naming the context in which the event happened.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// `specversion`: always `1.0`.
    pub fn specversion(&self) -> &'static str {
        SPEC_VERSION
    }
    /// `type`: what happened, e.g. `com.example.order.placed`.
    pub fn ty(&self) -> &str {
        &self.ty
    }
    /// `datacontenttype`: the media type of the data, if set.
    pub fn datacontenttype(&self) -> Option<&str> {
        self.datacontenttype.as_deref()
    }
    /// `dataschema`: an absolute URI of the data's schema, if set.
    pub fn dataschema(&self) -> Option<&str> {
        self.dataschema.as_deref()
    }
    /// `subject`: the subject of the event within its source, if set.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }
    /// `time`: when it happened, RFC 3339 exactly as produced, if set.
    pub fn time(&self) -> Option<&str> {
        self.time.as_deref()
    }
    /// One extension attribute.
    pub fn extension(&self, name: &str) -> Option<&ExtensionValue> {
        self.extensions.get(name)
    }
    /// Every extension attribute, in name order.
    pub fn extensions(&self) -> impl Iterator<Item = (&str, &ExtensionValue)> {
        self.extensions.iter().map(|(k, v)| (k.as_str(), v))
    }
    /// The data, if any.
    pub fn data(&self) -> Option<&Bytes> {
        self.data.as_ref()
    }
    /// Takes the data out of the event.
    pub fn take_data(&mut self) -> Option<Bytes> {
        self.data.take()
    }

    /// Any attribute, core or extension, in its canonical string form.
    pub fn attribute(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        match name {
            "id" => Some(self.id.as_str().into()),
            "source" => Some(self.source.as_str().into()),
            "specversion" => Some(SPEC_VERSION.into()),
            "type" => Some(self.ty.as_str().into()),
            "datacontenttype" => self.datacontenttype.as_deref().map(Into::into),
            "dataschema" => self.dataschema.as_deref().map(Into::into),
            "subject" => self.subject.as_deref().map(Into::into),
            "time" => self.time.as_deref().map(Into::into),
            _ => self.extensions.get(name).map(ExtensionValue::to_canonical),
        }
    }

    /// Every attribute that is set, core ones first, as (name, canonical string).
    pub fn attributes(&self) -> impl Iterator<Item = (&str, std::borrow::Cow<'_, str>)> {
        CORE_ATTRIBUTES
            .iter()
            .filter_map(|&name| self.attribute(name).map(|v| (name, v)))
            .chain(self.extensions().map(|(k, v)| (k, v.to_canonical())))
    }

    /// Sets an extension attribute, checking its name and value.
    pub fn set_extension(
        &mut self,
        name: &str,
        value: impl Into<ExtensionValue>,
    ) -> Result<(), Error> {
        let value = value.into();
        check_extension(name, &value)?;
        self.extensions.insert(name.to_owned(), value);
        Ok(())
    }

    /// Replaces the data and its content type.
    pub fn set_data(
        &mut self,
        datacontenttype: Option<&str>,
        data: impl Into<Bytes>,
    ) -> Result<(), Error> {
        if let Some(ct) = datacontenttype {
            validate::media_type("datacontenttype", ct)?;
        }
        self.datacontenttype = datacontenttype.map(str::to_owned);
        self.data = Some(data.into());
        Ok(())
    }

    /// Checks every attribute against CloudEvents 1.0.2.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("id", &self.id)?;
        validate::uri_reference("source", &self.source)?;
        validate::required("type", &self.ty)?;
        if let Some(ct) = &self.datacontenttype {
            validate::media_type("datacontenttype", ct)?;
        }
        if let Some(s) = &self.dataschema {
            validate::uri("dataschema", s)?;
        }
        if let Some(s) = &self.subject {
            validate::required("subject", s)?;
        }
        if let Some(t) = &self.time {
            validate::timestamp("time", t)?;
        }
        for (name, value) in &self.extensions {
            check_extension(name, value)?;
        }
        Ok(())
    }
}

fn check_extension(name: &str, value: &ExtensionValue) -> Result<(), Error> {
    validate::name(name)?;
    if CORE_ATTRIBUTES.contains(&name) || name == "data" {
        return Err(Error::invalid(
            name,
            "is a core attribute, not an extension",
        ));
    }
    match value {
        ExtensionValue::String(s) => validate::string(name, s),
        _ => Ok(()),
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Event");
        for (name, value) in self.attributes() {
            d.field(name, &value);
        }
        match &self.data {
            Some(b) => d.field("data", &String::from_utf8_lossy(b)),
            None => d.field("data", &None::<()>),
        };
        d.finish()
    }
}

/// Builds an [`Event`], validating it in [`EventBuilder::build`].
#[derive(Debug, Clone)]
#[must_use]
pub struct EventBuilder {
    event: Event,
}

impl EventBuilder {
    /// Sets `id`.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.event.id = id.into();
        self
    }
    /// Sets `source`.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.event.source = source.into();
        self
    }
    /// Sets `type`.
    pub fn ty(mut self, ty: impl Into<String>) -> Self {
        self.event.ty = ty.into();
        self
    }
    /// Sets `subject`.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.event.subject = Some(subject.into());
        self
    }
    /// Sets `time` (RFC 3339).
    pub fn time(mut self, time: impl Into<String>) -> Self {
        self.event.time = Some(time.into());
        self
    }
    /// Sets `dataschema` (an absolute URI).
    pub fn dataschema(mut self, uri: impl Into<String>) -> Self {
        self.event.dataschema = Some(uri.into());
        self
    }
    /// Sets an extension attribute.
    pub fn extension(mut self, name: impl Into<String>, value: impl Into<ExtensionValue>) -> Self {
        self.event.extensions.insert(name.into(), value.into());
        self
    }
    /// Sets the data and its `datacontenttype`.
    pub fn data(mut self, datacontenttype: impl Into<String>, data: impl Into<Bytes>) -> Self {
        self.event.datacontenttype = Some(datacontenttype.into());
        self.event.data = Some(data.into());
        self
    }
    /// Sets the data with no `datacontenttype` (which JSON reads as `application/json`).
    pub fn data_untyped(mut self, data: impl Into<Bytes>) -> Self {
        self.event.datacontenttype = None;
        self.event.data = Some(data.into());
        self
    }
    /// Sets a JSON value as the data, with `datacontenttype: application/json`.
    pub fn json_data(self, value: &serde_json::Value) -> Self {
        let bytes = serde_json::to_vec(value).expect("a serde_json::Value always serializes");
        self.data("application/json", bytes)
    }
    /// Validates every attribute and returns the event.
    pub fn build(self) -> Result<Event, Error> {
        self.event.validate()?;
        Ok(self.event)
    }
}
