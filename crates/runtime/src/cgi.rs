//! The command contract (CONTRACT.md §8) apart from processes: the CGI environment a
//! request becomes, and what a command's output becomes. Shared by [`crate::Command`]
//! (an executable) and the wasm host's WASI preview 1 commands.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use motif_contract::media::{self, Accept, CLOUDEVENTS_JSON};
use motif_contract::{Event, json};

use crate::handler::{Context, HandlerError, HttpRequest, HttpResponse};

/// Something that runs a command once: an executable ([`crate::Command`]) or a wasm
/// module. [`handle_http`] and [`handle_event`] do the rest of the contract around it.
pub trait Run: Send + Sync {
    /// What stdout is.
    fn output(&self) -> &Output;

    /// Runs the command with `env` and `stdin`; its stdout when it exits 0, else the
    /// failure (with the command's last stderr line).
    fn run(
        &self,
        env: Vec<(OsString, OsString)>,
        stdin: Bytes,
        cx: &Context,
    ) -> impl std::future::Future<Output = Result<Vec<u8>, HandlerError>> + Send;
}

/// An `http` request to a command: 406 unless `Accept` allows the response type, else
/// the CGI environment and the body in, 200 with stdout out.
pub async fn handle_http(
    command: &impl Run,
    request: HttpRequest,
    cx: Context,
) -> Result<HttpResponse, HandlerError> {
    command.output().check_accept(request.headers())?;
    let (parts, body) = request.into_parts();
    let env = request_env(
        parts.method.as_str(),
        &parts.uri,
        &parts.headers,
        body.len(),
    );
    let stdout = command.run(env, body, &cx).await?;
    Ok(command.output().http_response(stdout))
}

/// A CloudEvent to a command: its data in, `CE_*` in the environment, the reply out.
pub async fn handle_event(
    command: &impl Run,
    mut event: Event,
    cx: Context,
) -> Result<Option<Event>, HandlerError> {
    let data = event.take_data().unwrap_or_default();
    let env = event_env(&event, data.len());
    let stdout = command.run(env, data, &cx).await?;
    command.output().reply(&event, &cx.function.name, stdout)
}

/// The CGI meta-variables of a request (RFC 3875 §4.1), and its headers as `HTTP_*`.
///
/// The `Proxy` header never becomes `HTTP_PROXY` (the "httpoxy" hole: many programs read
/// `HTTP_PROXY` as their outbound proxy).
pub fn request_env(
    method: &str,
    uri: &http::Uri,
    headers: &HeaderMap,
    body_len: usize,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vec![
        ("GATEWAY_INTERFACE".into(), "CGI/1.1".into()),
        ("SERVER_PROTOCOL".into(), "HTTP/1.1".into()),
        ("REQUEST_METHOD".into(), method.into()),
        ("PATH_INFO".into(), uri.path().into()),
        ("SCRIPT_NAME".into(), "".into()),
        (
            "QUERY_STRING".into(),
            uri.query().unwrap_or_default().into(),
        ),
        (
            "REQUEST_URI".into(),
            uri.path_and_query().map_or("/", |p| p.as_str()).into(),
        ),
        ("CONTENT_LENGTH".into(), body_len.to_string().into()),
    ];
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        env.push((
            "CONTENT_TYPE".into(),
            OsStr::from_bytes(ct.as_bytes()).into(),
        ));
    }
    for name in headers.keys() {
        if name == header::CONTENT_TYPE || name == header::CONTENT_LENGTH || name == "proxy" {
            continue;
        }
        let var = format!(
            "HTTP_{}",
            name.as_str().to_ascii_uppercase().replace('-', "_")
        );
        let mut value = Vec::new();
        for (i, v) in headers.get_all(name).iter().enumerate() {
            if i > 0 {
                value.extend_from_slice(b", ");
            }
            value.extend_from_slice(v.as_bytes());
        }
        env.push((var.into(), OsStr::from_bytes(&value).into()));
    }
    env
}

/// The environment of a CloudEvent: a CGI `POST /` of its data, and every attribute as
/// `CE_<NAME>` (upper-case; extensions too).
pub fn event_env(event: &Event, data_len: usize) -> Vec<(OsString, OsString)> {
    let mut env = request_env(
        "POST",
        &http::Uri::from_static("/"),
        &HeaderMap::new(),
        data_len,
    );
    if let Some(ct) = event.datacontenttype() {
        env.push(("CONTENT_TYPE".into(), ct.into()));
    }
    for (name, value) in event.attributes() {
        env.push((
            format!("CE_{}", name.to_ascii_uppercase()).into(),
            value.as_ref().into(),
        ));
    }
    env
}

/// What a command's stdout is: `MOTIF_RESPONSE_TYPE` and `MOTIF_REPLY_TYPE`.
#[derive(Debug, Clone)]
pub struct Output {
    /// The `Content-Type` of stdout, or for a cloudevent function the reply's
    /// `datacontenttype` (`application/cloudevents+json`: stdout is the whole reply).
    pub response_type: String,
    /// The reply event's `type` (default: the request's, plus `.reply`).
    pub reply_type: Option<String>,
}

impl Default for Output {
    fn default() -> Self {
        Self {
            response_type: media::OCTET_STREAM.to_owned(),
            reply_type: None,
        }
    }
}

impl Output {
    /// The response type is fixed, so an `Accept` that excludes it fails before the
    /// command runs: 406.
    pub fn check_accept(&self, headers: &HeaderMap) -> Result<(), HandlerError> {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map_or_else(Accept::any, Accept::parse);
        if accept.allows(&self.response_type) {
            Ok(())
        } else {
            Err(HandlerError::with_status(
                http::StatusCode::NOT_ACCEPTABLE,
                format!(
                    "this function responds with `{}`, which Accept does not allow",
                    self.response_type
                ),
            ))
        }
    }

    /// The response of an `http` command that exited 0: 200, stdout, the response type.
    pub fn http_response(&self, stdout: Vec<u8>) -> HttpResponse {
        let content_type = HeaderValue::try_from(&self.response_type)
            .unwrap_or(HeaderValue::from_static(media::OCTET_STREAM));
        http::Response::builder()
            .header(header::CONTENT_TYPE, content_type)
            .body(Bytes::from(stdout))
            .expect("a valid response")
    }

    /// The reply of a `cloudevent` command that exited 0: none for empty stdout; the
    /// whole event for `application/cloudevents+json`; else an event carrying stdout as
    /// its data, with a fresh id and `source` `/motif/<function>`.
    pub fn reply(
        &self,
        request: &Event,
        function: &str,
        stdout: Vec<u8>,
    ) -> Result<Option<Event>, HandlerError> {
        if stdout.is_empty() {
            return Ok(None);
        }
        if media::essence(&self.response_type).eq_ignore_ascii_case(CLOUDEVENTS_JSON) {
            return json::from_slice(&stdout).map(Some).map_err(|e| {
                HandlerError::new(format!("function replied with an invalid event: {e}"))
            });
        }
        let ty = match &self.reply_type {
            Some(ty) => ty.clone(),
            None => format!("{}.reply", request.ty()),
        };
        Event::builder(
            uuid::Uuid::new_v4().to_string(),
            format!("/motif/{function}"),
            ty,
        )
        .data(self.response_type.clone(), stdout)
        .build()
        .map(Some)
        .map_err(|e| HandlerError::new(format!("cannot build the reply event: {e}")))
    }
}

/// What the caller is told when a command exits with `code`, with the last line it
/// wrote to stderr (CONTRACT.md §8: a non-zero exit is a 500 carrying that line).
pub fn exited(code: i32, last_stderr_line: Option<&str>) -> String {
    match last_stderr_line {
        Some(line) => format!("function exited with status {code}: {line}"),
        None => format!("function exited with status {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_become_cgi_variables_without_httpoxy() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("abc"));
        h.append("accept", HeaderValue::from_static("text/plain"));
        h.append("accept", HeaderValue::from_static("application/json"));
        h.insert("proxy", HeaderValue::from_static("http://evil"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        let uri: http::Uri = "/a/b?x=1&y=2".parse().unwrap();
        let env = request_env("PUT", &uri, &h, 5);
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        assert_eq!(get("REQUEST_METHOD").as_deref(), Some("PUT"));
        assert_eq!(get("PATH_INFO").as_deref(), Some("/a/b"));
        assert_eq!(get("QUERY_STRING").as_deref(), Some("x=1&y=2"));
        assert_eq!(get("CONTENT_TYPE").as_deref(), Some("text/plain"));
        assert_eq!(get("CONTENT_LENGTH").as_deref(), Some("5"));
        assert_eq!(get("HTTP_X_REQUEST_ID").as_deref(), Some("abc"));
        assert_eq!(
            get("HTTP_ACCEPT").as_deref(),
            Some("text/plain, application/json")
        );
        assert_eq!(get("HTTP_PROXY"), None);
        assert_eq!(get("HTTP_CONTENT_TYPE"), None);
    }

    #[test]
    fn a_plain_reply_carries_stdout_as_data() {
        let request = Event::builder("1", "/s", "com.example.order")
            .build()
            .unwrap();
        let out = Output {
            response_type: "text/plain".into(),
            reply_type: None,
        };
        let reply = out
            .reply(&request, "orders", b"ok".to_vec())
            .unwrap()
            .unwrap();
        assert_eq!(reply.ty(), "com.example.order.reply");
        assert_eq!(reply.source(), "/motif/orders");
        assert_eq!(reply.data().unwrap().as_ref(), b"ok");
        assert_eq!(out.reply(&request, "orders", Vec::new()).unwrap(), None);
    }
}
