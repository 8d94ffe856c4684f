//! What the Rust SDK roles share.

use std::time::Duration;

/// Waits `d`: a timer natively; in a wasm instance, the guest blocks on the host's clock.
pub async fn pause(d: Duration) {
    #[cfg(target_arch = "wasm32")]
    std::thread::sleep(d);
    #[cfg(not(target_arch = "wasm32"))]
    tokio::time::sleep(d).await;
}

/// `s` as a JSON string.
pub fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
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

/// A JSON object of string members.
pub fn json_object(fields: &[(&str, String)]) -> String {
    let members: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{}", json_string(k), json_string(v)))
        .collect();
    format!("{{{}}}", members.join(","))
}
