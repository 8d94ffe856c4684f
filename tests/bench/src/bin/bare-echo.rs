//! The baseline of `scripts/bench-runtime.sh`: a hand-written axum echo server with
//! nothing of motif in it, to measure what motif-runtime costs on top of axum.
//!
//! It listens on `$MOTIF_HOST:$PORT` (default `127.0.0.1:8080`) and serves `POST /` only
//! (anything else is axum's plain 404/405). `MOTIF_FUNCTION_KIND` picks what it echoes,
//! so that each scenario compares against the least work a hand-written server does:
//!
//! - `http` (default): answers 200 with the request body and, when the request had one,
//!   its `Content-Type`.
//! - `cloudevent`: answers 200 with the request body, its `Content-Type`, and a copy of
//!   every `ce-*` request header: a binary-mode CloudEvent echo as a hand-written server
//!   would do it, with no parsing, percent-decoding or validation of the event.
//!
//! In both, the body is read whole (up to 6 MiB, the runtime's default `MOTIF_MAX_BODY`;
//! past it 413) before the response is sent, as motif-runtime does. No metrics, limits,
//! timeout, tracing or logging.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};

/// The body limit: motif-runtime's default `MOTIF_MAX_BODY`.
const MAX_BODY: usize = 6 * 1024 * 1024;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = env("PORT")
        .unwrap_or_else(|| "8080".into())
        .parse()
        .context("PORT")?;
    let host: IpAddr = env("MOTIF_HOST")
        .unwrap_or_else(|| "127.0.0.1".into())
        .parse()
        .context("MOTIF_HOST")?;
    let router = match env("MOTIF_FUNCTION_KIND").as_deref() {
        None | Some("http") => Router::new().route("/", post(echo_http)),
        Some("cloudevent") => Router::new().route("/", post(echo_cloudevent)),
        Some(other) => anyhow::bail!("MOTIF_FUNCTION_KIND=`{other}`: expected http or cloudevent"),
    };
    let addr = SocketAddr::new(host, port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!("bare-echo listening on {}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `http`: the body back, with the request's `Content-Type`.
async fn echo_http(req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let mut res = Response::new(Body::from(body));
    if let Some(ct) = parts.headers.get(CONTENT_TYPE) {
        res.headers_mut().insert(CONTENT_TYPE, ct.clone());
    }
    res
}

/// `cloudevent`: the body back, with the request's `Content-Type` and `ce-*` headers.
async fn echo_cloudevent(req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let mut headers = HeaderMap::with_capacity(8);
    for (name, value) in &parts.headers {
        if name == CONTENT_TYPE || name.as_str().starts_with("ce-") {
            headers.append(name.clone(), value.clone());
        }
    }
    let mut res = Response::new(Body::from(body));
    *res.headers_mut() = headers;
    res
}
