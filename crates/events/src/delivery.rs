//! Delivering one event to one subscriber, as Knative's broker does: POST in binary
//! mode with `Prefer: reply`, retries with backoff on the codes worth retrying, a reply
//! event taken from a 200, and the dead-letter sink for what could not be delivered.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use motif_api::{BackoffPolicy, Delivery, Destination, duration::parse_iso8601};
use motif_contract::Event;
use motif_contract::http::{self as binding, Message};

/// Where events are sent: a function of this serving layer, by name, or a URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A function, reached through its route (traffic split and all).
    Function(String),
    /// An absolute http(s) URL.
    Url(String),
}

impl Target {
    /// The target a Knative Destination names, if it names exactly one.
    pub fn from_destination(destination: &Destination) -> Option<Target> {
        match (&destination.function, &destination.uri) {
            (Some(name), None) => Some(Target::Function(name.clone())),
            (None, Some(uri)) => Some(Target::Url(uri.clone())),
            _ => None,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Function(name) => write!(f, "function `{name}`"),
            Target::Url(url) => f.write_str(url),
        }
    }
}

/// A boxed, sendable future: what [`Dispatch::send`] returns.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Sends HTTP requests to targets: the serving layer's gateway for functions, an HTTP
/// client for URLs. The broker never opens sockets of its own.
pub trait Dispatch: Send + Sync + 'static {
    /// Sends `request` to `target`; `Err` is a failure to get any response (connection
    /// refused, reset, no such function), which is retried like a 5xx.
    fn send(
        &self,
        target: &Target,
        request: Request<Bytes>,
    ) -> BoxFuture<Result<Response<Bytes>, String>>;
}

/// The delivery options of one trigger, resolved from Knative's DeliverySpec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Retries after the first attempt before the event goes to the dead-letter sink.
    pub retry: u32,
    /// How retries are spaced.
    pub backoff: BackoffPolicy,
    /// The base delay of the backoff.
    pub delay: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Where undeliverable events go, if anywhere.
    pub dead_letter: Option<Target>,
}

/// Without a `delivery` block: a few retries, so that a cold start or a redeploy does
/// not lose events (Knative's default broker configuration is the operator's choice).
impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            retry: 3,
            backoff: BackoffPolicy::Exponential,
            delay: Duration::from_millis(200),
            timeout: Duration::from_secs(60),
            dead_letter: None,
        }
    }
}

impl DeliveryPolicy {
    /// The policy of a subscription's `delivery`; the options it leaves out keep the
    /// defaults above (there is no broker-wide delivery to fall back on).
    pub fn from_spec(delivery: Option<&Delivery>) -> Result<DeliveryPolicy, String> {
        let mut policy = DeliveryPolicy::default();
        let Some(delivery) = delivery else {
            return Ok(policy);
        };
        if let Some(retry) = delivery.retry {
            policy.retry = retry;
        }
        if let Some(backoff) = delivery.backoff_policy {
            policy.backoff = backoff;
        }
        if let Some(delay) = &delivery.backoff_delay {
            policy.delay = parse_iso8601(delay).map_err(|e| format!("backoffDelay: {e}"))?;
        }
        if let Some(timeout) = &delivery.timeout {
            policy.timeout = parse_iso8601(timeout).map_err(|e| format!("timeout: {e}"))?;
        }
        if let Some(sink) = &delivery.dead_letter_sink {
            policy.dead_letter = Some(
                Target::from_destination(sink)
                    .ok_or("deadLetterSink: set exactly one of `function` and `uri`")?,
            );
        }
        Ok(policy)
    }

    /// The wait before retry `n` (1 for the first retry): `delay × n` when linear,
    /// `delay × 2^n` when exponential (Knative's implementation), capped at an hour.
    pub fn backoff(&self, n: u32) -> Duration {
        let factor = match self.backoff {
            BackoffPolicy::Linear => f64::from(n),
            BackoffPolicy::Exponential => 2f64.powi(n.min(30) as i32),
        };
        self.delay.mul_f64(factor).min(Duration::from_secs(3600))
    }
}

/// What one attempt came to.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// Accepted, with the reply event if the subscriber answered one.
    Delivered(Option<Event>),
    /// Not accepted.
    Failed(Failure),
}

/// Why an attempt failed.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The status code, if there was a response.
    pub(crate) code: Option<StatusCode>,
    /// The response's body, for the dead-letter extensions.
    pub(crate) body: Bytes,
    /// Whether another attempt may succeed.
    pub(crate) retryable: bool,
    /// For the log.
    pub(crate) reason: String,
}

/// Knative's data-plane table: retry on 404, 408, 409, 429 and 5xx (and on no
/// response at all), not on other 4xx; codes outside the table are retried.
pub fn retryable(code: StatusCode) -> bool {
    match code.as_u16() {
        404 | 408 | 409 | 429 => true,
        400..=499 => false,
        _ => true,
    }
}

/// The request that carries `event` to a subscriber: binary mode, `Prefer: reply`.
pub(crate) fn request(event: &Event) -> Request<Bytes> {
    let (headers, body) = binding::encode_binary(event);
    let mut request = Request::new(body);
    *request.method_mut() = Method::POST;
    *request.headers_mut() = headers;
    request
        .headers_mut()
        .insert("prefer", HeaderValue::from_static("reply"));
    request
}

/// One attempt: send, wait at most `timeout`, and read the answer.
pub(crate) async fn attempt(
    dispatch: &dyn Dispatch,
    target: &Target,
    event: &Event,
    timeout: Duration,
) -> Attempt {
    let sent = dispatch.send(target, request(event));
    let response = match tokio::time::timeout(timeout, sent).await {
        Ok(Ok(response)) => response,
        Ok(Err(reason)) => return failed(None, Bytes::new(), true, reason),
        Err(_) => {
            return failed(
                Some(StatusCode::REQUEST_TIMEOUT),
                Bytes::new(),
                true,
                format!("no answer within {timeout:?}"),
            );
        }
    };
    let (parts, body) = response.into_parts();
    let status = parts.status;
    if !status.is_success() {
        let reason = format!("the subscriber answered {status}");
        return failed(Some(status), body, retryable(status), reason);
    }
    // A 202 is an acknowledgement, whatever its body looks like.
    if status == StatusCode::ACCEPTED {
        return Attempt::Delivered(None);
    }
    let has_content_type = parts.headers.contains_key(header::CONTENT_TYPE);
    if body.is_empty() && !binding::has_ce_headers(&parts.headers) {
        return Attempt::Delivered(None);
    }
    match binding::decode(&parts.headers, body.clone()) {
        Ok(Message::Event(reply, _)) => Attempt::Delivered(Some(reply)),
        // A reply is one event; a batch is never an answer to a POST.
        Ok(Message::Batch(_)) => failed(
            Some(StatusCode::BAD_GATEWAY),
            body,
            true,
            "the subscriber answered with a batch".into(),
        ),
        Err(e) => failed(
            Some(StatusCode::BAD_GATEWAY),
            body,
            true,
            if has_content_type {
                format!("the subscriber's 2xx body is not a CloudEvent: {e}")
            } else {
                "the subscriber's 2xx body is not a CloudEvent".into()
            },
        ),
    }
}

fn failed(code: Option<StatusCode>, body: Bytes, retryable: bool, reason: String) -> Attempt {
    Attempt::Failed(Failure {
        code,
        body,
        retryable,
        reason,
    })
}

/// The event as the dead-letter sink gets it: Knative's `knativeerrordest`,
/// `knativeerrorcode` and `knativeerrordata` (the response body, Base64, at most
/// 1,024 bytes of it) added.
pub(crate) fn dead_letter_event(event: &Event, destination: &Target, failure: &Failure) -> Event {
    let mut dead = event.clone();
    let destination = match destination {
        Target::Function(name) => name.clone(),
        Target::Url(url) => url.clone(),
    };
    // The values are a URL or name, digits and Base64: valid extension values.
    let _ = dead.set_extension("knativeerrordest", destination);
    if let Some(code) = failure.code {
        let _ = dead.set_extension("knativeerrorcode", code.as_u16().to_string());
    }
    if !failure.body.is_empty() {
        let data = &failure.body[..failure.body.len().min(1024)];
        let _ = dead.set_extension(
            "knativeerrordata",
            base64::engine::general_purpose::STANDARD.encode(data),
        );
    }
    dead
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_knative_retry_table() {
        for code in [404, 408, 409, 429, 500, 502, 503, 504, 599] {
            assert!(retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [400, 401, 403, 405, 410, 413, 415, 422] {
            assert!(!retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }

    #[test]
    fn backoff_is_linear_or_exponential() {
        let mut policy = DeliveryPolicy {
            delay: Duration::from_millis(100),
            backoff: BackoffPolicy::Linear,
            ..DeliveryPolicy::default()
        };
        assert_eq!(policy.backoff(1), Duration::from_millis(100));
        assert_eq!(policy.backoff(3), Duration::from_millis(300));
        policy.backoff = BackoffPolicy::Exponential;
        assert_eq!(policy.backoff(1), Duration::from_millis(200));
        assert_eq!(policy.backoff(3), Duration::from_millis(800));
        assert_eq!(policy.backoff(1000), Duration::from_secs(3600));
    }

    #[test]
    fn a_delivery_spec_resolves() {
        let spec = Delivery {
            retry: Some(5),
            backoff_policy: Some(BackoffPolicy::Linear),
            backoff_delay: Some("PT0.5S".into()),
            timeout: Some("PT2S".into()),
            dead_letter_sink: Some(Destination {
                function: Some("dls".into()),
                uri: None,
            }),
        };
        let policy = DeliveryPolicy::from_spec(Some(&spec)).unwrap();
        assert_eq!(policy.retry, 5);
        assert_eq!(policy.delay, Duration::from_millis(500));
        assert_eq!(policy.timeout, Duration::from_secs(2));
        assert_eq!(policy.dead_letter, Some(Target::Function("dls".into())));
        let bad = Delivery {
            backoff_delay: Some("soon".into()),
            ..Delivery::default()
        };
        assert!(DeliveryPolicy::from_spec(Some(&bad)).is_err());
    }

    #[test]
    fn dead_letters_carry_the_knative_error_extensions() {
        let event = Event::builder("1", "/s", "t").build().unwrap();
        let failure = Failure {
            code: Some(StatusCode::INTERNAL_SERVER_ERROR),
            body: Bytes::from(vec![b'x'; 2000]),
            retryable: true,
            reason: String::new(),
        };
        let dead = dead_letter_event(&event, &Target::Function("f".into()), &failure);
        assert_eq!(dead.attribute("knativeerrordest").unwrap(), "f");
        assert_eq!(dead.attribute("knativeerrorcode").unwrap(), "500");
        let data = dead.attribute("knativeerrordata").unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .unwrap();
        assert_eq!(decoded.len(), 1024);
    }
}
