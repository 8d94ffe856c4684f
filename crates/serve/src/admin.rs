//! The admin API: how the `motif` CLI deploys, routes, inspects and removes functions.
//! It listens on loopback only and takes a bearer token that `motif serve` writes,
//! owner-only (`0600`), to `admin-token` in the state directory: whoever can read that
//! file is the user who started the server.
//!
//! | method and path                        | does                                        |
//! |----------------------------------------|---------------------------------------------|
//! | `GET /v1/functions`                    | every function ([`FunctionView`])           |
//! | `GET /v1/functions/NAME`               | one function                                |
//! | `PUT /v1/functions/NAME`               | deploy ([`DeployRequest`] → [`Deployment`]) |
//! | `DELETE /v1/functions/NAME`            | delete                                      |
//! | `PUT /v1/functions/NAME/traffic`       | set the route ([`TrafficRequest`] → `Route`) |
//! | `GET /v1/functions/NAME/logs?tail=N&follow=true` | log lines as JSON lines            |
//! | `GET /v1/functions/NAME/subscriptions` | those `motif subscribe` added               |
//! | `PUT /v1/functions/NAME/subscriptions/SUB` | add or replace one (a `Subscription`)   |
//! | `DELETE /v1/functions/NAME/subscriptions/SUB` | remove one                           |
//! | `GET /v1/events/triggers`              | every trigger's progress ([`TriggerStatus`]) |
//! | `GET /v1/events/tail?broker=B&from=N&last=N` | the broker's events as JSON lines ([`TailLine`]) |
//!
//! Errors are problem+json: 401 without the token, 404 for an unknown function, 422 for
//! an invalid spec or split and a revision that did not start (with its `logs`).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use bytes::Bytes;
use http::StatusCode;
use http::header::{self, HeaderValue};
use motif_api::{FunctionSpec, Subscription, TrafficTarget};
use motif_contract::Problem;
use motif_events::TriggerStatus;
use serde::{Deserialize, Serialize};

use crate::artifact::Source;
use crate::gateway::problem;
use crate::logs::LogLine;
use crate::serving::{Deployment, FunctionView, ServeError, Serving};
use crate::store::StoreError;

/// The body of a deploy.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeployRequest {
    /// The function's spec, as in its `motif.toml`.
    pub spec: FunctionSpec,
    /// What runs, on this machine.
    pub source: Source,
    /// A tag to point at the deployed revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// The body of a traffic change.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrafficRequest {
    /// The new targets; their percentages sum to 100.
    pub targets: Vec<TrafficTarget>,
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    tail: Option<usize>,
    #[serde(default)]
    follow: bool,
}

/// The admin API's router; every route takes `Authorization: Bearer TOKEN`.
pub fn router(serving: Arc<Serving>, token: String) -> Router {
    let token: Arc<str> = token.into();
    Router::new()
        .route("/v1/functions", get(list))
        .route(
            "/v1/functions/{name}",
            get(describe).put(deploy).delete(delete),
        )
        .route("/v1/functions/{name}/traffic", put(traffic))
        .route("/v1/functions/{name}/logs", get(logs))
        .route("/v1/functions/{name}/subscriptions", get(subscriptions))
        .route(
            "/v1/functions/{name}/subscriptions/{subscription}",
            put(subscribe).delete(unsubscribe),
        )
        .route("/v1/events/triggers", get(triggers))
        .route("/v1/events/tail", get(tail))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            let token = token.clone();
            async move { authorize(&token, request, next).await }
        }))
        .with_state(serving)
}

async fn authorize(token: &str, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !same(given.as_bytes(), token.as_bytes()) {
        let p = Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "the admin API takes `Authorization: Bearer TOKEN`, the token in the state directory's `admin-token`",
        );
        return problem(&p, None);
    }
    next.run(request).await
}

/// Compares without stopping at the first difference, so timing tells nothing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn list(State(serving): State<Arc<Serving>>) -> Result<Json<Vec<FunctionView>>, AdminError> {
    Ok(Json(serving.list()?))
}

async fn describe(
    State(serving): State<Arc<Serving>>,
    Path(name): Path<String>,
) -> Result<Json<FunctionView>, AdminError> {
    serving.describe(&name)?.map(Json).ok_or_else(|| {
        AdminError::from(ServeError::Store(StoreError::NotFound {
            kind: "function",
            name,
        }))
    })
}

async fn deploy(
    State(serving): State<Arc<Serving>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Deployment>, AdminError> {
    let request: DeployRequest = serde_json::from_slice(&body).map_err(|e| {
        AdminError(problem(
            &Problem::bad_request(format!("invalid deploy request: {e}")),
            None,
        ))
    })?;
    let deployment = serving
        .deploy(
            &name,
            &request.spec,
            &request.source,
            request.tag.as_deref(),
        )
        .await?;
    Ok(Json(deployment))
}

async fn delete(
    State(serving): State<Arc<Serving>>,
    Path(name): Path<String>,
) -> Result<StatusCode, AdminError> {
    serving.delete(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn traffic(
    State(serving): State<Arc<Serving>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let request: TrafficRequest = serde_json::from_slice(&body).map_err(|e| {
        AdminError(problem(
            &Problem::bad_request(format!("invalid traffic request: {e}")),
            None,
        ))
    })?;
    let route = serving.set_traffic(&name, request.targets).await?;
    Ok(Json(route).into_response())
}

async fn logs(
    State(serving): State<Arc<Serving>>,
    Path(name): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Response, AdminError> {
    if serving.describe(&name)?.is_none() {
        return Err(ServeError::Store(StoreError::NotFound {
            kind: "function",
            name,
        })
        .into());
    }
    let log = serving.log(&name);
    let tail = query.tail.unwrap_or(100);
    let json_line = |line: &LogLine| {
        let mut text = serde_json::to_vec(line).expect("a log line serialises");
        text.push(b'\n');
        Bytes::from(text)
    };
    let ndjson = HeaderValue::from_static("application/x-ndjson");
    if !query.follow {
        let body: Vec<u8> = log
            .tail(tail)
            .iter()
            .flat_map(|l| json_line(l).to_vec())
            .collect();
        return Ok(([(header::CONTENT_TYPE, ndjson)], body).into_response());
    }
    let (lines, mut receiver) = log.follow(tail);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        for line in &lines {
            if tx.send(Ok(json_line(line))).await.is_err() {
                return;
            }
        }
        loop {
            let line = match receiver.recv().await {
                Ok(line) => line,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => LogLine {
                    millis: 0,
                    source: "motif".into(),
                    text: format!("({missed} lines missed: the reader was too slow)"),
                },
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            if tx.send(Ok(json_line(&line))).await.is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(([(header::CONTENT_TYPE, ndjson)], Body::from_stream(stream)).into_response())
}

async fn subscriptions(
    State(serving): State<Arc<Serving>>,
    Path(name): Path<String>,
) -> Result<Json<Vec<Subscription>>, AdminError> {
    if serving.describe(&name)?.is_none() {
        return Err(not_found(name));
    }
    Ok(Json(serving.subscriptions(&name)?))
}

async fn subscribe(
    State(serving): State<Arc<Serving>>,
    Path((name, subscription)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, AdminError> {
    let mut request: Subscription = serde_json::from_slice(&body).map_err(|e| {
        AdminError(problem(
            &Problem::bad_request(format!("invalid subscription: {e}")),
            None,
        ))
    })?;
    request.name = Some(subscription);
    let replaced = serving.subscribe(&name, request).await?;
    Ok(if replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    })
}

async fn unsubscribe(
    State(serving): State<Arc<Serving>>,
    Path((name, subscription)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    serving.unsubscribe(&name, &subscription).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn triggers(State(serving): State<Arc<Serving>>) -> Json<Vec<TriggerStatus>> {
    Json(serving.broker().triggers())
}

#[derive(Debug, Deserialize)]
struct TailQuery {
    broker: Option<String>,
    from: Option<u64>,
    last: Option<u64>,
}

/// One line of `GET /v1/events/tail`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TailLine {
    /// The event's offset in the broker's log.
    pub offset: u64,
    /// The broker it was published to.
    pub broker: String,
    /// The event in the CloudEvents JSON format.
    pub event: Box<serde_json::value::RawValue>,
}

async fn tail(State(serving): State<Arc<Serving>>, Query(query): Query<TailQuery>) -> Response {
    let broker = serving.broker();
    let from = query
        .from
        .or_else(|| query.last.map(|n| broker.head().saturating_sub(n)));
    let mut tail = broker.tail(query.broker, from);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        while let Some(tailed) = tail.next().await {
            // The event is JSON already: the line is written around it, not re-parsed.
            let mut text = format!(
                "{{\"offset\":{},\"broker\":{},\"event\":",
                tailed.offset,
                serde_json::Value::from(tailed.broker),
            )
            .into_bytes();
            text.extend(motif_contract::json::to_vec(&tailed.event));
            text.extend(b"}\n");
            if tx.send(Ok(Bytes::from(text))).await.is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let ndjson = HeaderValue::from_static("application/x-ndjson");
    ([(header::CONTENT_TYPE, ndjson)], Body::from_stream(stream)).into_response()
}

fn not_found(name: String) -> AdminError {
    AdminError::from(ServeError::Store(StoreError::NotFound {
        kind: "function",
        name,
    }))
}

/// An error of the admin API, as problem+json.
struct AdminError(Response);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        self.0
    }
}

impl From<ServeError> for AdminError {
    fn from(error: ServeError) -> Self {
        let unprocessable = |slug: &str, title: &str, detail: String| {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, slug, title, detail)
        };
        let p = match &error {
            ServeError::Store(StoreError::NotFound { .. }) => Problem::not_found(error.to_string()),
            ServeError::Store(StoreError::Invalid { .. }) | ServeError::Invalid(_) => {
                unprocessable("invalid-function", "Invalid Function", error.to_string())
            }
            ServeError::Artifact(crate::artifact::ArtifactError::Invalid(_)) => {
                unprocessable("invalid-artifact", "Invalid Artifact", error.to_string())
            }
            ServeError::NotReady { logs, .. } => {
                unprocessable("not-ready", "Revision Not Ready", error.to_string())
                    .with("logs", logs.clone())
            }
            _ => {
                tracing::error!(
                    "admin request failed: {}",
                    crate::runtime::error_chain(&error)
                );
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal Server Error",
                    crate::runtime::error_chain(&error),
                )
            }
        };
        AdminError(problem(&p, None))
    }
}
