//! The contract suite's cloudevent roles (tests/contract/roles.toml), chosen by the
//! function's name, written once with the Rust SDK.

use std::time::Duration;

use motif_function::{Error, Event};
use motif_rust_roles::{json_object, pause};

async fn handle(event: Event) -> Result<Option<Event>, Error> {
    let cx = motif_function::context();
    let role = cx.function_name();
    match role {
        "event-reply" => {
            let data = event.data().cloned().unwrap_or_default();
            Ok(Some(reply(&event, role, data.to_vec())?))
        }
        "event-sink" => Ok(None),
        "event-echo" => Ok(Some(event)),
        "event-attributes" => {
            let ext = event
                .extensions()
                .find(|(k, _)| *k == "myext")
                .map(|(_, v)| v.to_canonical().into_owned());
            let fields = [
                ("id", event.id().to_owned()),
                ("source", event.source().to_owned()),
                ("type", event.ty().to_owned()),
                ("subject", event.subject().unwrap_or("").to_owned()),
                ("time", event.time().unwrap_or("").to_owned()),
                ("myext", ext.unwrap_or_default()),
                (
                    "datacontenttype",
                    event.datacontenttype().unwrap_or("").to_owned(),
                ),
            ];
            Ok(Some(reply(
                &event,
                role,
                json_object(&fields).into_bytes(),
            )?))
        }
        "event-fail" => Err(Error::new("boom")),
        "event-sleep" => {
            pause(Duration::from_secs(30)).await;
            Ok(None)
        }
        other => Err(Error::with_status(404, format!("no role `{other}`"))),
    }
}

/// The reply of `role`: JSON data, type `<request type>.reply`.
fn reply(to: &Event, role: &str, data: Vec<u8>) -> Result<Event, Error> {
    let event = Event::builder(
        format!("{}-{role}", to.id()),
        format!("/motif/{role}"),
        format!("{}.reply", to.ty()),
    )
    .data("application/json", data)
    .build()?;
    Ok(event)
}

motif_function::cloudevent!(handle);
