//! The baseline of `scripts/bench-events.sh`: an ingress that keeps nothing. A
//! hand-written axum server that reads the whole body of every POST, on any path, and
//! answers `202 Accepted` with no body: no decoding of the CloudEvent, no validation, no
//! log, no fsync. What is left is what any HTTP/1.1 ingress pays on this machine
//! (accepting, parsing the request head, reading the body, writing the answer), so that
//! motif serve's broker ingress can be held against it.
//!
//! It listens on `$MOTIF_HOST:$PORT` (default `127.0.0.1:8080`). Other methods get 405.
//! The body is read whole, up to 4 MiB (the broker's `MAX_BODY`; past it 413), as the
//! broker does before it answers.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context as _;
use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode};

/// The body limit: the broker ingress's `MAX_BODY`.
const MAX_BODY: usize = 4 * 1024 * 1024;

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
    let router = Router::new().fallback(accept);
    let addr = SocketAddr::new(host, port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!("bare-ingest listening on {}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Every POST: the body read and dropped, then 202.
async fn accept(req: Request) -> Response {
    if req.method() != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(_) => StatusCode::ACCEPTED.into_response(),
        Err(_) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    }
}
