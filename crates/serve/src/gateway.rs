//! The gateway: one port, every function. A request is routed by its host,
//! `NAME.DOMAIN` or `TAG-NAME.DOMAIN` (Knative's default domain template and tag
//! template, with `localhost` for the domain), or else by its first path segment,
//! `/NAME/...` or `/TAG-NAME/...` (the segment is removed: the function sees `/...`).
//! Then the route picks a revision (by tag, or by the traffic split) and the revision
//! serves it ([`crate::revision`]).
//!
//! The host `broker.DOMAIN` (or the path `/broker/`) is the broker's ingress instead:
//! `/` for the `default` broker, `/NAME` for another ([`crate::events`]).
//!
//! Every answer of the gateway's own is problem+json: 404 for an unknown function, 502
//! when the instance failed the request, 503 when no instance had room in time.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use http::header::{self, HeaderValue};
use http::{StatusCode, Uri};
use motif_contract::Problem;

use crate::revision::Refused;
use crate::serving::{Routed, Serving};
use crate::{events, runtime};

/// How many times a request is routed again when the revision it was sent to retires
/// while it waits (a redeploy or traffic change at that moment).
const REROUTES: usize = 3;

/// The gateway's router: every path, every host.
pub fn router(serving: Arc<Serving>) -> Router {
    Router::new().fallback(handle).with_state(serving)
}

async fn handle(State(serving): State<Arc<Serving>>, mut request: Request) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let hostname = host.as_deref().map(strip_port).unwrap_or_default();
    let by_host = hostname
        .strip_suffix(&serving.settings().domain)
        .and_then(|label| label.strip_suffix('.'))
        .filter(|label| !label.is_empty() && !label.contains('.'));
    let (label, by_path) = match by_host {
        Some(label) => (label.to_owned(), false),
        None => {
            let path = request.uri().path();
            let segment = path.trim_start_matches('/').split('/').next().unwrap_or("");
            if segment.is_empty() || segment == "_" {
                return own_endpoint(path);
            }
            (segment.to_owned(), true)
        }
    };
    if by_path {
        let stripped = strip_segment(request.uri(), &label);
        *request.uri_mut() = stripped;
    }
    if label == events::BROKER_HOST {
        return events::ingress(&serving, request).await;
    }
    runtime::forwarded(request.headers_mut(), client, host.as_deref());
    route(&serving, &label, request).await
}

/// Serves `request` (its URI already the function's own path) by the function or tag
/// that `label` names: the gateway's road, and the broker's to its subscribers.
pub(crate) async fn route(serving: &Serving, label: &str, mut request: Request) -> Response {
    for _ in 0..REROUTES {
        let Some((routed, tag)) = resolve(serving, label) else {
            return problem(
                &Problem::not_found(format!(
                    "no function `{label}` is deployed here; `motif list` shows those that are"
                )),
                None,
            );
        };
        let revision_name = match &tag {
            Some(tag) => routed.route.tagged(tag),
            None => Some(routed.route.pick(fastrand::u32(0..100))),
        };
        let Some(revision_name) = revision_name else {
            continue;
        };
        let revision = match routed.revision(revision_name) {
            Ok(revision) => revision,
            Err(why) => return problem(&Problem::unavailable(why), Some(1)),
        };
        match revision.serve(request).await {
            Ok(response) => return response,
            Err(Refused::Problem(p, retry)) => return problem(&p, retry),
            Err(Refused::Retired(back)) => request = back,
        }
    }
    problem(
        &Problem::unavailable("the function's route kept changing while this request waited"),
        Some(1),
    )
}

/// The route (and tag) a host label or path segment names: function `NAME`, or
/// `TAG-NAME` for a tag of function `NAME`.
fn resolve(serving: &Serving, label: &str) -> Option<(Arc<Routed>, Option<String>)> {
    if let Some(routed) = serving.routed(label) {
        return Some((routed, None));
    }
    label.match_indices('-').find_map(|(i, _)| {
        let (tag, name) = (&label[..i], &label[i + 1..]);
        let routed = serving.routed(name)?;
        routed.route.tagged(tag)?;
        Some((routed, Some(tag.to_owned())))
    })
}

/// The gateway's own paths on its bare address: `/_/ready` for whoever waits for it.
fn own_endpoint(path: &str) -> Response {
    if path == "/_/ready" || path == "/_/live" {
        return Response::new(Body::from("ok"));
    }
    problem(
        &Problem::not_found(
            "name a function: http://NAME.localhost:PORT/ or http://127.0.0.1:PORT/NAME/",
        ),
        None,
    )
}

/// `/NAME/rest?q` as `/rest?q`; `/NAME` as `/`.
fn strip_segment(uri: &Uri, segment: &str) -> Uri {
    let path = uri.path();
    let rest = path
        .trim_start_matches('/')
        .strip_prefix(segment)
        .unwrap_or("");
    let rest = if rest.is_empty() { "/" } else { rest };
    let target = match uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    target.parse().unwrap_or_else(|_| Uri::from_static("/"))
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

pub(crate) fn problem(problem: &Problem, retry_after: Option<u64>) -> Response {
    let mut response = problem.to_response().map(Body::from);
    if let Some(seconds) = retry_after
        && problem.status_code() == StatusCode::SERVICE_UNAVAILABLE
    {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_segment_is_removed_with_the_query_kept() {
        let uri: Uri = "/hello/a/b?x=1".parse().unwrap();
        assert_eq!(strip_segment(&uri, "hello"), "/a/b?x=1");
        let uri: Uri = "/hello".parse().unwrap();
        assert_eq!(strip_segment(&uri, "hello"), "/");
        let uri: Uri = "/hello?x".parse().unwrap();
        assert_eq!(strip_segment(&uri, "hello"), "/?x");
    }

    #[test]
    fn ports_are_stripped_from_hosts() {
        assert_eq!(strip_port("hello.localhost:8080"), "hello.localhost");
        assert_eq!(strip_port("hello.localhost"), "hello.localhost");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
