//! The broker inside `motif serve`: its ingress on the gateway (`broker.localhost`, or
//! the path `/broker/`), its deliveries through the gateway's own routes (a function's
//! traffic split and cold starts apply to events as to requests), and the triggers and
//! ping sources of every deployed function, kept in step with the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http::Uri;
use http::header::{self, HeaderValue};
use motif_api::{DEFAULT_BROKER, source_names, trigger_names};
use motif_contract::Problem;
use motif_events::delivery::BoxFuture;
use motif_events::ingress::MAX_BODY;
use motif_events::ping::Ping;
use motif_events::{Broker, Dispatch, Target, Trigger};
use tokio::task::JoinHandle;

use crate::gateway::{self, problem};
use crate::serving::{ServeError, Serving};

/// The host label (and first path segment) of the broker's ingress; no function may
/// take this name.
pub(crate) const BROKER_HOST: &str = "broker";

/// The broker's ingress: `/` is the `default` broker, `/NAME` the broker `NAME`.
pub(crate) async fn ingress(serving: &Serving, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().trim_matches('/');
    let name = if path.is_empty() {
        DEFAULT_BROKER
    } else {
        path
    };
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(_) => return problem(&Problem::payload_too_large(MAX_BODY), None),
    };
    let response =
        motif_events::ingress::ingress(serving.broker(), name, &parts.method, &parts.headers, body)
            .await;
    response.map(Body::from)
}

/// Deliveries: to a function through the gateway's routes, in this process; to a URL
/// over HTTP (a `*.localhost` URL on loopback, as browsers resolve it).
pub(crate) struct GatewayDispatch {
    pub(crate) serving: Weak<Serving>,
}

impl Dispatch for GatewayDispatch {
    fn send(
        &self,
        target: &Target,
        request: http::Request<Bytes>,
    ) -> BoxFuture<Result<http::Response<Bytes>, String>> {
        let serving = self.serving.clone();
        let target = target.clone();
        Box::pin(async move {
            let serving = serving
                .upgrade()
                .ok_or_else(|| "the server is stopping".to_owned())?;
            let response = match &target {
                Target::Function(name) => {
                    let (parts, body) = request.into_parts();
                    let mut request = Request::from_parts(parts, Body::from(body));
                    let host = format!("{name}.{}", serving.settings().domain);
                    if let Ok(host) = HeaderValue::from_str(&host) {
                        request.headers_mut().insert(header::HOST, host);
                    }
                    gateway::route(&serving, name, request).await
                }
                Target::Url(url) => to_url(&serving, url, request).await?,
            };
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, MAX_BODY)
                .await
                .map_err(|e| format!("cannot read the answer: {e}"))?;
            Ok(http::Response::from_parts(parts, body))
        })
    }
}

async fn to_url(
    serving: &Serving,
    url: &str,
    request: http::Request<Bytes>,
) -> Result<Response, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let authority = uri
        .authority()
        .ok_or_else(|| format!("`{url}` has no host"))?
        .clone();
    let (mut parts, body) = request.into_parts();
    parts.uri = uri.clone();
    if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
        parts.headers.insert(header::HOST, host);
    }
    let host = authority.host();
    if host == "localhost" || host.ends_with(".localhost") {
        let port = authority.port_u16().unwrap_or(80);
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        parts.uri = format!("http://127.0.0.1:{port}{path}")
            .parse()
            .map_err(|e| format!("`{url}`: {e}"))?;
    }
    let request = http::Request::from_parts(parts, Body::from(body));
    let response = serving
        .host()
        .client()
        .request(request)
        .await
        .map_err(|e| crate::runtime::error_chain(&e))?;
    Ok(response.map(Body::new))
}

/// The ping sources that run, by name, with what they were made from.
#[derive(Default)]
pub(crate) struct Pings {
    running: Mutex<HashMap<String, (String, JoinHandle<()>)>>,
}

impl Pings {
    fn set(&self, broker: &Arc<Broker>, wanted: Vec<(String, Ping)>) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let keep: HashMap<&str, &str> = wanted
            .iter()
            .map(|(fingerprint, ping)| (ping.name.as_str(), fingerprint.as_str()))
            .collect();
        running.retain(|name, (fingerprint, task)| {
            let same = keep.get(name.as_str()) == Some(&fingerprint.as_str());
            if !same {
                task.abort();
            }
            same
        });
        for (fingerprint, ping) in wanted {
            if running.contains_key(&ping.name) {
                continue;
            }
            let name = ping.name.clone();
            let broker = broker.clone();
            let publish = move |to: String, event| {
                let broker = broker.clone();
                async move {
                    broker
                        .publish(&to, vec![event])
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string())
                }
            };
            let task = tokio::spawn(ping.run(publish, std::future::pending()));
            running.insert(name, (fingerprint, task));
        }
    }

    /// Stops every ping source.
    pub(crate) fn stop(&self) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        for (_, (_, task)) in running.drain() {
            task.abort();
        }
    }
}

impl Serving {
    /// Makes the broker's triggers and the ping sources those of the functions in the
    /// store: each function's latest spec, and the subscriptions added to it.
    pub(crate) async fn reconcile_events(&self) -> Result<(), ServeError> {
        let _one = self.events_sync().lock().await;
        let mut triggers = Vec::new();
        let mut pings = Vec::new();
        for record in self.store().list()? {
            let function = record.name.as_str();
            let spec = &record.latest.spec;
            let mut subscriptions: Vec<_> = trigger_names(function, &spec.subscriptions)
                .into_iter()
                .zip(spec.subscriptions.iter().cloned())
                .collect();
            let added = self.store().subscriptions(function)?;
            let names: Vec<_> = trigger_names(function, &added);
            for (name, subscription) in names.into_iter().zip(added) {
                if subscriptions.iter().any(|(taken, _)| *taken == name) {
                    tracing::warn!(
                        trigger = %name,
                        "the subscription added by `motif subscribe` has the name of one in \
                         the function's spec; the spec's is used"
                    );
                    continue;
                }
                subscriptions.push((name, subscription));
            }
            for (name, subscription) in subscriptions {
                match Trigger::from_subscription(&name, function, &subscription) {
                    Ok(trigger) => triggers.push(trigger),
                    Err(e) => tracing::error!(trigger = %name, "cannot run the trigger: {e}"),
                }
            }
            for (name, source) in source_names(function, &spec.sources)
                .into_iter()
                .zip(&spec.sources)
            {
                let fingerprint = serde_json::to_string(source).unwrap_or_default();
                match Ping::new(function, &name, source) {
                    Ok(ping) => pings.push((fingerprint, ping)),
                    Err(e) => tracing::error!(source = %name, "cannot run the ping source: {e}"),
                }
            }
        }
        self.broker().set_triggers(triggers).await;
        self.pings().set(self.broker(), pings);
        Ok(())
    }
}
