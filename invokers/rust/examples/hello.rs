//! An http function: greets the name in the request body, or the world.
//!
//! Natively: `cargo run -p motif-function --example hello`, then
//! `curl localhost:8080 -d motif`.
//! As wasm: `cargo build --release -p motif-function --example hello --target
//! wasm32-wasip2`, then `motif-invoker --wasm target/wasm32-wasip2/release/examples/hello.wasm`
//! (or `wasmtime serve -S cli` the same file).

use motif_function::{Error, HeaderValue, Method, Request, Response};

async fn handle(request: Request) -> Result<Response, Error> {
    if request.method() == Method::DELETE {
        return Err(Error::with_status(405, "greetings cannot be deleted"));
    }
    let name = std::str::from_utf8(request.body())
        .map_err(|_| Error::with_status(400, "the name is not UTF-8"))?
        .trim();
    let name = if name.is_empty() { "world" } else { name };
    let mut response = Response::new(format!("hello, {name}\n").into());
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("text/plain"));
    Ok(response)
}

motif_function::http!(handle);
