//! RFC 9457 problem details: the body of every error a motif function answers with.

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;

use crate::Error;
use crate::media::PROBLEM_JSON;

/// An RFC 9457 problem: `type`, `title`, `status`, `detail`, and extension members.
///
/// `type` is a URI under `https://motif.dev/problems/` that names the kind of problem, so
/// a client can branch on it; `detail` explains this occurrence to a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, and what to do.
    pub detail: String,
    /// Extension members (for example `attribute`, the CloudEvents attribute at fault).
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

const TYPE_BASE: &str = "https://motif.dev/problems/";

impl Problem {
    /// A problem of kind `slug` (the last segment of its type URI).
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("{TYPE_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            extensions: Default::default(),
        }
    }

    /// Adds an extension member.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    /// 400: the request could not be decoded.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }
    /// 404: no such path.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }
    /// 405: the path exists, the method does not.
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            detail,
        )
    }
    /// 406: no representation the request's `Accept` allows.
    pub fn not_acceptable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-acceptable",
            "Not acceptable",
            detail,
        )
    }
    /// 413: the body is over `MOTIF_MAX_BODY`.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            format!("request body is over the limit of {limit} bytes (MOTIF_MAX_BODY)"),
        )
        .with("limit", limit)
    }
    /// 415: the body's media type is not one the function takes.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }
    /// 429: over the concurrency limit and its queue.
    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests",
            detail,
        )
    }
    /// 500: the handler failed; `detail` is the handler's own message.
    pub fn handler_failed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "handler-failed",
            "Function failed",
            detail,
        )
    }
    /// 503: the function is not ready, or is draining.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }
    /// 504: the handler ran past `MOTIF_TIMEOUT`.
    pub fn timeout(seconds: f64) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            "Function timed out",
            format!("function ran past its timeout of {seconds}s (MOTIF_TIMEOUT)"),
        )
        .with("timeoutSeconds", seconds)
    }

    /// The problem a function's own failure with `status` becomes: the contract's problem
    /// for that status where it has one, else a `function-error`.
    pub fn for_status(status: StatusCode, detail: impl Into<String>) -> Self {
        match status {
            StatusCode::INTERNAL_SERVER_ERROR => Self::handler_failed(detail),
            StatusCode::BAD_REQUEST => Self::bad_request(detail),
            StatusCode::NOT_FOUND => Self::not_found(detail),
            StatusCode::METHOD_NOT_ALLOWED => Self::method_not_allowed(detail),
            StatusCode::NOT_ACCEPTABLE => Self::not_acceptable(detail),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::unsupported_media_type(detail),
            StatusCode::SERVICE_UNAVAILABLE => Self::unavailable(detail),
            status => Self::new(status, "function-error", "Function error", detail),
        }
    }

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body.
    pub fn to_json(&self) -> Bytes {
        serde_json::to_vec(self)
            .expect("a problem always serializes")
            .into()
    }

    /// An HTTP response carrying this problem as `application/problem+json`.
    pub fn to_response(&self) -> http::Response<Bytes> {
        let mut res = http::Response::new(self.to_json());
        *res.status_mut() = self.status_code();
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }
}

impl From<&Error> for Problem {
    fn from(e: &Error) -> Self {
        let p = match e {
            Error::UnsupportedFormat { .. } => Self::unsupported_media_type(e.to_string()),
            Error::NotACloudEvent { missing } => Self::new(
                StatusCode::BAD_REQUEST,
                "not-a-cloudevent",
                "Not a CloudEvent",
                format!(
                    "{e}; send a CloudEvent in binary mode (ce- headers) or structured mode (Content-Type: application/cloudevents+json)"
                ),
            )
            .with("missing", missing.clone()),
            _ => Self::new(e.status(), "invalid-event", "Invalid CloudEvent", e.to_string()),
        };
        match e.attribute() {
            Some(a) => p.with("attribute", a),
            None => p,
        }
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        Self::from(&e)
    }
}
