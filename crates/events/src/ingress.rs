//! The broker's HTTP ingress, as Knative's: POST a CloudEvent (binary, structured or
//! batch mode) and get 202 once it is durably appended; 400 (problem+json) for what is
//! not a valid event, 405 for other methods, 200 with the webhook headers for OPTIONS.
//!
//! It is plain `http` types in and out, so that any server can mount it: `motif serve`
//! does at `http://broker.localhost:PORT/[BROKER]`.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};
use motif_contract::Problem;
use motif_contract::http::{self as binding, Message};

use crate::broker::{Broker, PublishError};

/// The largest request body the ingress reads (Knative's default limit is similar):
/// callers should refuse longer bodies with 413 before reading them.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// Answers one request to broker `name`.
pub async fn ingress(
    broker: &Broker,
    name: &str,
    method: &Method,
    headers: &HeaderMap,
    body: Bytes,
) -> Response<Bytes> {
    if method == Method::OPTIONS {
        // The CloudEvents webhook handshake, and the data plane's probe.
        let mut response = Response::new(Bytes::new());
        let h = response.headers_mut();
        h.insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
        h.insert("webhook-allowed-origin", HeaderValue::from_static("*"));
        h.insert("webhook-allowed-rate", HeaderValue::from_static("*"));
        return response;
    }
    if method != Method::POST {
        let mut response = problem(&Problem::method_not_allowed(
            "a broker takes events by POST (binary, structured or batch mode)",
        ));
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
        return response;
    }
    if let Err(message) = motif_api::validate_name(name) {
        return problem(&Problem::not_found(format!(
            "`{name}` is not a broker name: {message}"
        )));
    }
    let events = match binding::decode(headers, body) {
        Ok(Message::Event(event, _)) => vec![event],
        Ok(Message::Batch(events)) => events,
        Err(e) => {
            let hint = if binding::mode(headers) == binding::Mode::Binary
                && !binding::has_ce_headers(headers)
            {
                " (a binary-mode event needs ce-specversion, ce-id, ce-source and ce-type \
                 headers; a structured one the content type application/cloudevents+json)"
            } else {
                ""
            };
            return problem(&Problem::bad_request(format!(
                "not a valid CloudEvent: {e}{hint}"
            )));
        }
    };
    match broker.publish(name, events).await {
        Ok(_) => {
            let mut response = Response::new(Bytes::new());
            *response.status_mut() = StatusCode::ACCEPTED;
            response
        }
        Err(PublishError::Invalid(message)) => problem(&Problem::bad_request(message)),
        Err(e @ PublishError::Log(_)) => {
            tracing::error!(
                "an event was refused: {e}: {:?}",
                std::error::Error::source(&e)
            );
            let mut response = problem(&Problem::unavailable(
                "the broker cannot store events right now; nothing was accepted, send again",
            ));
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

fn problem(problem: &Problem) -> Response<Bytes> {
    problem.to_response()
}
