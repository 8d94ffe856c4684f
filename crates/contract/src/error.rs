//! Why an event or a request could not be decoded, and the HTTP status that says so.

use http::StatusCode;

/// An event that breaks a rule of CloudEvents 1.0.2, or a request that carries none.
///
/// Every variant names the attribute or header at fault so that the caller can fix it;
/// [`Error::status`] gives the status the contract answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A REQUIRED attribute is absent.
    #[error("missing required attribute `{name}`")]
    MissingAttribute {
        /// The attribute's name.
        name: &'static str,
    },
    /// An attribute's value breaks its type's rules.
    #[error("attribute `{name}` {reason}")]
    InvalidAttribute {
        /// The attribute's name.
        name: String,
        /// What is wrong, as a fragment that follows the name.
        reason: String,
    },
    /// An attribute name outside `[a-z0-9]+`.
    #[error("attribute name `{name}` is invalid: names are one or more of a-z and 0-9")]
    InvalidName {
        /// The name as received.
        name: String,
    },
    /// The same attribute given twice.
    #[error("attribute `{name}` appears more than once")]
    DuplicateAttribute {
        /// The attribute's name.
        name: String,
    },
    /// A `specversion` other than `1.0`.
    #[error("specversion `{found}` is not supported: motif speaks CloudEvents 1.0")]
    UnsupportedSpecVersion {
        /// The version received.
        found: String,
    },
    /// A binary-mode request with a `ce-datacontenttype` header.
    #[error(
        "header `ce-datacontenttype` is not allowed in binary mode: send the data's type as `Content-Type`"
    )]
    DataContentTypeHeader,
    /// A JSON event with both `data` and `data_base64`.
    #[error("event has both `data` and `data_base64`: they are mutually exclusive")]
    DataConflict,
    /// A JSON event whose `data` or `data_base64` member cannot be read.
    #[error("{reason}")]
    InvalidData {
        /// What is wrong, naming the member.
        reason: String,
    },
    /// A body that is not the JSON it claims to be.
    #[error("body is not a valid JSON event: {reason}")]
    InvalidJson {
        /// The parser's message.
        reason: String,
    },
    /// A binary-mode request to a cloudevent function without the required headers.
    #[error("request is not a CloudEvent: missing header{} {}", plural(.missing), list(.missing))]
    NotACloudEvent {
        /// The missing `ce-` headers.
        missing: Vec<&'static str>,
    },
    /// A structured or batch format other than JSON.
    #[error("event format `{media_type}` is not supported: use application/cloudevents+json")]
    UnsupportedFormat {
        /// The media type received.
        media_type: String,
    },
    /// A batch of events where one event was expected, or the reverse.
    #[error("{0}")]
    UnexpectedMode(&'static str),
}

fn plural(v: &[&str]) -> &'static str {
    if v.len() == 1 { "" } else { "s" }
}

fn list(v: &[&str]) -> String {
    v.iter()
        .map(|h| format!("`{h}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> Self {
        Self::InvalidAttribute {
            name: name.to_owned(),
            reason: reason.into(),
        }
    }

    /// The HTTP status the contract answers this error with: 415 for an unsupported
    /// format, 400 for everything else.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnsupportedFormat { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The attribute at fault, when there is one.
    pub fn attribute(&self) -> Option<&str> {
        match self {
            Self::MissingAttribute { name } => Some(name),
            Self::InvalidAttribute { name, .. }
            | Self::InvalidName { name }
            | Self::DuplicateAttribute { name } => Some(name),
            Self::UnsupportedSpecVersion { .. } => Some("specversion"),
            Self::DataContentTypeHeader => Some("datacontenttype"),
            _ => None,
        }
    }
}
