//! hello-rust: an HTTP function. `handle` answers every request the function gets (every
//! path below `/` except `/_/`, which belongs to the invoker); edit it.
//!
//! `motif run` serves it on port 8080 (`$PORT`); `cargo test` runs the tests below.

use motif_function::{Error, HeaderValue, Request, Response, header};

/// The word the function greets with.
const GREETING: &str = "hello";

/// Greets the name sent as the request body: `curl -d motif localhost:8080` answers
/// `hello, motif!`; without a body it greets the world.
///
/// The request comes with its whole body read. An `Err` becomes a problem+json answer
/// with the error's status (`Error::with_status`) and its message as the detail, so say
/// nothing secret in it; a panic is a 500.
async fn handle(request: Request) -> Result<Response, Error> {
    let name = std::str::from_utf8(request.body())
        .map_err(|_| Error::with_status(400, "send the name as UTF-8 text"))?
        .trim();
    let name = if name.is_empty() { "world" } else { name };

    let mut response = Response::new(format!("{GREETING}, {name}!\n").into());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

// Natively this writes `main`, a server for `handle` behind the motif runtime; built for
// wasm32-wasip2 it exports `handle` as a `wasi:http` component instead.
motif_function::http!(handle);

#[cfg(test)]
mod tests {
    use super::*;
    use motif_function::Method;

    /// A POST with `body`, as the function would get it.
    fn post(body: &'static [u8]) -> Request {
        let mut request = Request::new(body.into());
        *request.method_mut() = Method::POST;
        request
    }

    #[tokio::test]
    async fn greets_the_name_in_the_body() {
        let response = handle(post(b"  motif\n")).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(response.body(), format!("{GREETING}, motif!\n").as_bytes());
    }

    #[tokio::test]
    async fn greets_the_world_without_a_body() {
        let response = handle(Request::new(Default::default())).await.unwrap();
        assert_eq!(response.body(), format!("{GREETING}, world!\n").as_bytes());
    }

    #[tokio::test]
    async fn a_name_that_is_not_text_is_a_400() {
        let error = handle(post(b"\xff\xfe")).await.unwrap_err();
        assert_eq!(error.status(), 400);
    }
}
