//! events-rust: a CloudEvent function. `handle` gets every event sent to the function and
//! may answer with an event of its own; edit it.
//!
//! `motif run` serves it on port 8080 (`$PORT`); `cargo test` runs the tests below.

use motif_function::{Error, Event};
use serde_json::{Value, json};

/// The word the function greets with.
const GREETING: &str = "hello";

/// The `source` of the events this function sends.
const SOURCE: &str = "/motif/events-rust";

/// The `type` of the events this function sends. A reply carries a type of its own, so
/// that a trigger for the events this function takes does not send it its own replies.
const REPLY_TYPE: &str = "dev.motif.events-rust.reply";

/// Answers an event whose data is JSON such as `{"name": "motif"}` with an event whose
/// data is `{"message": "hello, motif!"}`; an event without data gets no answer.
///
/// The invoker has already decoded and validated the event (binary, structured or batch
/// mode); the reply goes back in the mode the event came in. `Ok(None)` is a 204. An
/// `Err` is a problem+json answer with the error's status: a 4xx says the event cannot
/// be processed (a broker does not retry it), a 5xx that the function failed.
async fn handle(event: Event) -> Result<Option<Event>, Error> {
    // The data is the bytes that arrived; `datacontenttype` says what they are.
    let Some(data) = event.data().filter(|data| !data.is_empty()) else {
        return Ok(None);
    };
    let data: Value = serde_json::from_slice(data)
        .map_err(|e| Error::with_status(422, format!("the data is not JSON: {e}")))?;
    let name = data.get("name").and_then(Value::as_str).unwrap_or("world");

    // The reply's id only needs to be unique for its source: derive it from the event's,
    // so a redelivered event gets the same reply.
    let reply = Event::builder(format!("{}.reply", event.id()), SOURCE, REPLY_TYPE)
        .json_data(&json!({ "message": format!("{GREETING}, {name}!") }))
        .build()?;
    Ok(Some(reply))
}

// Natively this writes `main`, a server for `handle` behind the motif runtime; built for
// wasm32-wasip2 it exports `handle` as a `motif:function` component instead.
motif_function::cloudevent!(handle);

#[cfg(test)]
mod tests {
    use super::*;

    /// An event as a client would send it to the function.
    fn event(data: Option<&'static str>) -> Event {
        let builder = Event::builder("42", "/tests", "dev.motif.greet");
        match data {
            Some(data) => builder.data("application/json", data),
            None => builder,
        }
        .build()
        .unwrap()
    }

    #[tokio::test]
    async fn answers_with_a_greeting_for_the_name() {
        let json = r#"{"name": "motif"}"#;
        let reply = handle(event(Some(json))).await.unwrap().unwrap();
        assert_eq!(reply.ty(), REPLY_TYPE);
        assert_eq!(reply.source(), SOURCE);
        assert_eq!(reply.id(), "42.reply");
        assert_eq!(reply.datacontenttype(), Some("application/json"));
        let data: Value = serde_json::from_slice(reply.data().unwrap()).unwrap();
        assert_eq!(data, json!({ "message": format!("{GREETING}, motif!") }));
    }

    #[tokio::test]
    async fn greets_the_world_without_a_name() {
        let reply = handle(event(Some("{}"))).await.unwrap().unwrap();
        let data: Value = serde_json::from_slice(reply.data().unwrap()).unwrap();
        assert_eq!(data["message"], format!("{GREETING}, world!"));
    }

    #[tokio::test]
    async fn an_event_without_data_gets_no_reply() {
        assert_eq!(handle(event(None)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn data_that_is_not_json_is_a_422() {
        let bad = Event::builder("43", "/tests", "dev.motif.greet")
            .data("text/plain", "motif")
            .build()
            .unwrap();
        assert_eq!(handle(bad).await.unwrap_err().status(), 422);
    }
}
