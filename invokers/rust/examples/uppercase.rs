//! A cloudevent function: replies to each event with its text data uppercased.
//!
//! Natively: `cargo run -p motif-function --example uppercase`, then
//! `curl -i localhost:8080 -H 'ce-specversion: 1.0' -H 'ce-id: 1' -H 'ce-source: /me'
//! -H 'ce-type: greeting' -H 'content-type: text/plain' -d hello`.
//! As wasm: `cargo build --release -p motif-function --example uppercase --target
//! wasm32-wasip2`, then `motif-invoker --wasm target/wasm32-wasip2/release/examples/uppercase.wasm`.

use motif_function::{Error, Event};

async fn handle(event: Event) -> Result<Option<Event>, Error> {
    let text = std::str::from_utf8(event.data().map_or(&[][..], |d| d))
        .map_err(|_| Error::with_status(422, "the data is not UTF-8 text"))?;
    if text.is_empty() {
        return Ok(None);
    }
    let reply = Event::builder(format!("{}.reply", event.id()), "/uppercase", "uppercased")
        .data("text/plain", text.to_uppercase())
        .build()?;
    Ok(Some(reply))
}

motif_function::cloudevent!(handle);
