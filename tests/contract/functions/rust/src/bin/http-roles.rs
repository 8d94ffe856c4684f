//! The contract suite's http roles (tests/contract/roles.toml), chosen by the function's
//! name, written once with the Rust SDK.

use std::time::Duration;

use motif_function::{Error, HeaderValue, Request, Response, header};
use motif_rust_roles::{json_object, pause};

/// The init hook of the roles that have one. The name comes from the environment: no
/// request, so no `context()`, exists yet.
async fn init() -> Result<(), Error> {
    match std::env::var("MOTIF_FUNCTION_NAME").as_deref() {
        Ok("slow-init") => {
            pause(Duration::from_secs(1)).await;
            Ok(())
        }
        Ok("failing-init") => Err(Error::new("init failed on purpose")),
        _ => Ok(()),
    }
}

/// The shutdown hook: says it ran, for the role that checks it.
async fn shutdown() {
    if std::env::var("MOTIF_FUNCTION_NAME").as_deref() == Ok("shutdown-hook") {
        eprintln!("shutdown hook ran");
    }
}

async fn handle(request: Request) -> Result<Response, Error> {
    let cx = motif_function::context();
    match cx.function_name() {
        "echo" | "slow-init" | "failing-init" | "shutdown-hook" => {
            Ok(with_type(request.into_body(), "text/plain"))
        }
        "request-info" => {
            let headers = request.headers();
            let values = |name: &str| {
                headers
                    .get_all(name)
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let env = |name: &str| std::env::var(name).unwrap_or_default();
            let fields = [
                ("method", request.method().to_string()),
                ("path", request.uri().path().to_owned()),
                ("query", request.uri().query().unwrap_or("").to_owned()),
                ("content_type", values("content-type")),
                ("test_header", values("x-motif-test")),
                ("hop", values("x-hop")),
                ("k_service", env("K_SERVICE")),
                ("k_revision", env("K_REVISION")),
                ("k_configuration", env("K_CONFIGURATION")),
                ("traceparent", cx.traceparent().to_owned()),
            ];
            Ok(with_type(json_object(&fields).into(), "application/json"))
        }
        "fail" => Err(Error::new("boom")),
        "sleep" => {
            pause(Duration::from_secs(30)).await;
            Ok(with_type("slept".into(), "text/plain"))
        }
        "slow" => {
            pause(Duration::from_secs(1)).await;
            Ok(with_type("done".into(), "text/plain"))
        }
        other => Err(Error::with_status(404, format!("no role `{other}`"))),
    }
}

fn with_type(body: motif_function::Bytes, media_type: &'static str) -> Response {
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}

motif_function::http!(handle, init = init, shutdown = shutdown);
