//! The server driven in process: through `tower::ServiceExt::oneshot` for single
//! requests, and over a real socket for the lifecycle.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use motif_contract::Event;
use motif_runtime::{
    Config, Context, Handler, HandlerError, HttpRequest, HttpResponse, Kind, ServeError, Server,
};
use tower::ServiceExt;

#[derive(Default)]
struct Fixture {
    init_fails: bool,
    shutdowns: Arc<AtomicUsize>,
}

impl Handler for Fixture {
    async fn init(&self) -> Result<(), HandlerError> {
        if self.init_fails {
            Err(HandlerError::new("no database"))
        } else {
            Ok(())
        }
    }

    async fn shutdown(&self) {
        self.shutdowns.fetch_add(1, Ordering::SeqCst);
    }

    async fn handle_http(
        &self,
        req: HttpRequest,
        cx: Context,
    ) -> Result<HttpResponse, HandlerError> {
        match req.uri().path() {
            "/panic" => panic!("the handler broke"),
            "/teapot" => Err(HandlerError::with_status(
                StatusCode::BAD_REQUEST,
                "no coffee here",
            )),
            "/sleep" => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(http::Response::new(Bytes::from("slept")))
            }
            "/trace" => Ok(http::Response::new(Bytes::from(cx.trace.trace_id()))),
            _ => Ok(http::Response::builder()
                .header("connection", "close")
                .header("x-from-handler", "yes")
                .body(req.into_body())
                .unwrap()),
        }
    }

    async fn handle_event(
        &self,
        event: Event,
        _cx: Context,
    ) -> Result<Option<Event>, HandlerError> {
        if event.ty() == "panic" {
            panic!("event handler broke");
        }
        Ok(Some(event))
    }
}

fn config(kind: Kind) -> Config {
    Config {
        kind,
        host: [127, 0, 0, 1].into(),
        port: 0,
        ..Config::default()
    }
}

async fn ready_server(handler: Fixture, kind: Kind) -> Server<Fixture> {
    let server = Server::new(handler, config(kind));
    server.init().await.unwrap();
    server
}

async fn call(
    server: &Server<Fixture>,
    req: Request<Body>,
) -> (StatusCode, http::HeaderMap, String) {
    let res = server.router().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn post(path: &str, body: &'static str) -> Request<Body> {
    Request::post(path).body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn requests_before_init_are_503_and_ready_follows_init() {
    let server = Server::new(Fixture::default(), config(Kind::Http));
    let (status, _, _) = call(
        &server,
        Request::get("/_/ready").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, _) = call(&server, post("/", "x")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, _) = call(
        &server,
        Request::get("/_/live").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    server.init().await.unwrap();
    let (status, _, _) = call(
        &server,
        Request::get("/_/ready").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_failing_init_hook_is_an_error_with_its_message() {
    let server = Server::new(
        Fixture {
            init_fails: true,
            ..Fixture::default()
        },
        config(Kind::Http),
    );
    let err = server.init().await.unwrap_err();
    assert!(matches!(err, ServeError::Init(_)));
    assert!(err.to_string().contains("no database"), "{err}");
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_server_serves_on() {
    let server = ready_server(Fixture::default(), Kind::Http).await;
    let (status, headers, body) = call(&server, post("/panic", "x")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(
        body.contains("function panicked: the handler broke"),
        "{body}"
    );
    let (status, _, body) = call(&server, post("/", "still here")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "still here"));
}

#[tokio::test]
async fn a_panicking_event_handler_is_a_500() {
    let server = ready_server(Fixture::default(), Kind::CloudEvent).await;
    let req = Request::post("/")
        .header("ce-specversion", "1.0")
        .header("ce-id", "1")
        .header("ce-source", "/s")
        .header("ce-type", "panic")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = call(&server, req).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("event handler broke"), "{body}");
}

#[tokio::test]
async fn a_handler_error_status_is_kept_as_a_problem() {
    let server = ready_server(Fixture::default(), Kind::Http).await;
    let (status, _, body) = call(&server, post("/teapot", "x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("no coffee here") && body.contains("bad-request"),
        "{body}"
    );
}

#[tokio::test]
async fn hop_by_hop_headers_from_the_handler_are_dropped() {
    let server = ready_server(Fixture::default(), Kind::Http).await;
    let (status, headers, _) = call(&server, post("/", "x")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-from-handler"], "yes");
    assert!(!headers.contains_key("connection"));
}

#[tokio::test]
async fn a_request_without_traceparent_starts_a_trace() {
    let server = ready_server(Fixture::default(), Kind::Http).await;
    let (_, _, a) = call(&server, post("/trace", "")).await;
    let (_, _, b) = call(&server, post("/trace", "")).await;
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
}

#[tokio::test]
async fn a_timeout_is_a_504_and_counts_in_metrics() {
    let mut cfg = config(Kind::Http);
    cfg.timeout = Duration::from_millis(50);
    let server = Server::new(Fixture::default(), cfg);
    server.init().await.unwrap();
    let (status, _, body) = call(&server, post("/sleep", "")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert!(body.contains("MOTIF_TIMEOUT"), "{body}");
    let (_, _, metrics) = call(
        &server,
        Request::get("/_/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(
        metrics.contains("motif_requests_total{code=\"504\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn run_drains_in_flight_requests_then_runs_the_shutdown_hook() {
    let shutdowns = Arc::new(AtomicUsize::new(0));
    let handler = Fixture {
        shutdowns: shutdowns.clone(),
        ..Fixture::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::new(handler, config(Kind::Http)).run(listener, async {
            let _ = stopped.await;
        }),
    );
    let client = reqwest_like::Client::new(addr);
    client.wait_ready().await;
    let slow = tokio::spawn(async move { reqwest_like::Client::new(addr).post("/sleep").await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(client.get("/_/ready").await.0, 503);
    assert_eq!(slow.await.unwrap(), (200, "slept".to_owned()));
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(shutdowns.load(Ordering::SeqCst), 1);
}

/// A minimal HTTP/1.1 client over a fresh connection per request, so the test needs no
/// client library and each request is independent of the others' connections.
mod reqwest_like {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    pub struct Client(SocketAddr);

    impl Client {
        pub fn new(addr: SocketAddr) -> Self {
            Self(addr)
        }

        async fn send(&self, method: &str, path: &str) -> (u16, String) {
            let mut s = tokio::net::TcpStream::connect(self.0).await.unwrap();
            let req = format!(
                "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            let status = out[9..12].parse().unwrap();
            let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
            (status, body)
        }

        pub async fn get(&self, path: &str) -> (u16, String) {
            self.send("GET", path).await
        }

        pub async fn post(&self, path: &str) -> (u16, String) {
            self.send("POST", path).await
        }

        pub async fn wait_ready(&self) {
            for _ in 0..100 {
                if tokio::net::TcpStream::connect(self.0).await.is_ok()
                    && self.get("/_/ready").await.0 == 200
                {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            panic!("server not ready");
        }
    }
}
