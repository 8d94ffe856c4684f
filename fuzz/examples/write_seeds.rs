//! Writes a small seed corpus to `corpus/<target>/` (gitignored):
//! `cargo run --example write_seeds` from `fuzz/`.

use std::fs;
use std::path::Path;

use motif_contract::http as binding;
use motif_contract::json;
use motif_contract_fuzz::{ContentType, HttpInput, RawBytes, known_name, known_value};

/// `CONTENT_TYPES` indices.
const CE_JSON: u8 = 0;
const CE_BATCH: u8 = 1;
const CE_JSON_MIXED_CASE: u8 = 2;
const APPLICATION_JSON: u8 = 3;
const TEXT_PLAIN: u8 = 4;
const NONE: u8 = 6;

const STRUCTURED: &str = r#"{"specversion":"1.0","id":"42","source":"/orders","type":"com.example.order.placed","time":"2018-04-05T17:31:00Z","subject":"Euro € 😀","dataschema":"https://example.com/schemas/order.json","datacontenttype":"application/json","myext":"x","flag":true,"count":-7,"data":{"total":12,"items":["a","b"]}}"#;
const STRUCTURED_BASE64: &str = r#"{"specversion":"1.0","id":"43","source":"urn:event:from:myapi/resource/123","type":"t","datacontenttype":"application/octet-stream","data_base64":"AAEC/w=="}"#;
const STRUCTURED_TEXT: &str = r#"{"specversion":"1.0","id":"44","source":"/s","type":"t","datacontenttype":"application/xml","data":"<much wow=\"xml\"/>"}"#;
const STRUCTURED_NULLS: &str =
    r#"{"specversion":"1.0","id":"45","source":"/s","type":"t","subject":null,"data":null}"#;

fn binary(extra: &[(&str, &str)], ct: u8, body: &str) -> HttpInput {
    let mut headers = vec![
        ("ce-specversion", "1.0"),
        ("ce-id", "42"),
        ("ce-source", "/orders"),
        ("ce-type", "com.example.order.placed"),
    ];
    headers.extend_from_slice(extra);
    HttpInput {
        headers: headers
            .into_iter()
            .map(|(n, v)| (known_name(n), known_value(v)))
            .collect(),
        content_type: ContentType::Known(ct),
        body: RawBytes(body.as_bytes().to_vec()),
    }
}

fn body_only(ct: u8, body: &str) -> HttpInput {
    HttpInput {
        headers: vec![],
        content_type: ContentType::Known(ct),
        body: RawBytes(body.as_bytes().to_vec()),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).expect("create the corpus directory");
    fs::write(dir.join(name), bytes).expect("write a seed");
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let http = root.join("http_decode");
    let batch = format!("[{STRUCTURED},{STRUCTURED_BASE64},{STRUCTURED_TEXT}]");
    let seeds = [
        ("binary-minimal", binary(&[], NONE, "")),
        (
            "binary-full",
            binary(
                &[
                    ("ce-time", "2018-04-05T17:31:00Z"),
                    ("ce-subject", "Euro%20%E2%82%AC%20%F0%9F%98%80"),
                    ("ce-dataschema", "https://example.com/schemas/order.json"),
                    ("ce-myext", r#""quoted \"string\" %25""#),
                    (
                        "accept",
                        "*/*;q=0.5, application/cloudevents+json, text/*;q=0",
                    ),
                ],
                APPLICATION_JSON,
                r#"{"total":12}"#,
            ),
        ),
        (
            "binary-text",
            binary(&[("ce-myext", "true")], TEXT_PLAIN, "hello\n"),
        ),
        ("structured", body_only(CE_JSON, STRUCTURED)),
        (
            "structured-base64",
            body_only(CE_JSON_MIXED_CASE, STRUCTURED_BASE64),
        ),
        ("structured-text", body_only(CE_JSON, STRUCTURED_TEXT)),
        ("structured-nulls", body_only(CE_JSON, STRUCTURED_NULLS)),
        ("batch", body_only(CE_BATCH, &batch)),
        ("batch-empty", body_only(CE_BATCH, "[]")),
    ];
    for (name, input) in &seeds {
        let decoded = binding::decode(&input.header_map(), input.body.0.clone().into());
        assert!(decoded.is_ok(), "seed {name} does not decode: {decoded:?}");
        write(&http, name, &input.to_fuzz_input());
    }

    let json = root.join("json_event");
    for (name, body) in [
        ("structured", STRUCTURED),
        ("structured-base64", STRUCTURED_BASE64),
        ("structured-text", STRUCTURED_TEXT),
        ("structured-nulls", STRUCTURED_NULLS),
        ("batch", batch.as_str()),
    ] {
        let ok = json::from_slice(body.as_bytes()).is_ok()
            || json::batch_from_slice(body.as_bytes()).is_ok();
        assert!(ok, "seed {name} does not decode");
        write(&json, name, body.as_bytes());
    }
    println!("wrote {} + 5 seeds under {}", seeds.len(), root.display());
}
