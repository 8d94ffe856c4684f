//! The contract suite's cloudevent roles as one component. The suite starts each role
//! with `MOTIF_FUNCTION_NAME` set to the role's name, which the guest reads through the
//! `context` import to know which role to play.

wit_bindgen::generate!({
    path: "../../../invokers/wit",
    world: "motif:function/cloudevent-function",
});

use exports::motif::function::handler::Guest;
use motif::function::context;
use motif::function::types::{Error, Event};

struct Roles;

impl Guest for Roles {
    fn handle(event: Event) -> Result<Option<Event>, Error> {
        let role = context::function_name();
        match role.as_str() {
            "event-reply" => {
                let data = event.data.clone().unwrap_or_default();
                Ok(Some(reply(&event, &role, data)))
            }
            "event-sink" => Ok(None),
            "event-echo" => Ok(Some(event)),
            "event-attributes" => {
                let ext = |name: &str| {
                    event.extensions.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
                };
                let fields = [
                    ("id", Some(event.id.as_str())),
                    ("source", Some(event.source.as_str())),
                    ("type", Some(event.type_.as_str())),
                    ("subject", event.subject.as_deref()),
                    ("time", event.time.as_deref()),
                    ("myext", ext("myext")),
                    ("datacontenttype", event.datacontenttype.as_deref()),
                ];
                let body: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{}", json_string(v.unwrap_or(""))))
                    .collect();
                let data = format!("{{{}}}", body.join(",")).into_bytes();
                Ok(Some(reply(&event, &role, data)))
            }
            "event-fail" => Err(Error { message: "boom".into(), status: None }),
            "event-sleep" => {
                // No clock sleep in a synchronous guest: spin until the host stops it.
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            other => Err(Error { message: format!("no role `{other}`"), status: Some(404) }),
        }
    }
}

/// The reply of role `role`: JSON data, type `<request type>.reply`.
fn reply(to: &Event, role: &str, data: Vec<u8>) -> Event {
    Event {
        id: format!("{}-{role}", to.id),
        source: format!("/motif/{role}"),
        type_: format!("{}.reply", to.type_),
        datacontenttype: Some("application/json".into()),
        dataschema: None,
        subject: None,
        time: None,
        extensions: Vec::new(),
        data: Some(data),
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

export!(Roles);
