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
use motif_api::{FunctionSpec, TrafficTarget};
use motif_contract::Problem;
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
