//! `motif render`: a function directory made here rendered to its Kubernetes objects, as
//! multi-document YAML and as a `v1` `List`, and the motif.toml files that must not
//! render (nor, the same way, deploy).

mod common;

use std::path::Path;

use common::{motif, ok, stderr, stdout};
use serde_json::Value;

const IMAGE: &str = "127.0.0.1:5000/fns/audit@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

fn function_dir(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("motif-render-")
        .tempdir()
        .unwrap();
    std::fs::write(dir.path().join("motif.toml"), toml).unwrap();
    dir
}

/// A cloudevent function with one subscription, its image recorded by digest.
fn audit_toml() -> String {
    format!(
        r#"name = "audit"
language = "python"
kind = "cloudevent"
scale = {{ min = 1, max = 3 }}

[[subscriptions]]
name = "refunds"
broker = "payments"
filters = [
  {{ prefix = {{ type = "com.example.refund." }} }},
  {{ not = {{ suffix = {{ subject = "-test" }} }} }},
]
delivery = {{ retry = 3, backoffPolicy = "exponential", backoffDelay = "PT0.5S" }}

[artifact]
image = "{IMAGE}"
"#
    )
}

/// Runs motif in `dir` and snapshots stderr with the directory's path redacted.
fn snapshot_error(name: &str, dir: &Path, args: &[&str], code: i32) {
    let out = motif(dir, args);
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let path = dir.display().to_string();
    insta::with_settings!({ filters => vec![(path.as_str(), "[DIR]")] }, {
        insta::assert_snapshot!(name, stderr(&out));
    });
}

#[test]
fn render_prints_the_function_then_its_service_and_triggers_as_yaml() {
    let dir = function_dir(&audit_toml());
    let out = motif(dir.path(), &["render", "--namespace", "shop"]);
    ok(&out);
    insta::assert_snapshot!("render_yaml", stdout(&out));
}

#[test]
fn render_as_json_is_one_list_of_the_same_objects() {
    let dir = function_dir(&audit_toml());
    let yaml = stdout(&motif(dir.path(), &["render", "."]));
    let documents: Vec<Value> = serde_yaml::Deserializer::from_str(&yaml)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let out = motif(dir.path(), &["render", "-o", "json"]);
    ok(&out);
    let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"], Value::Array(documents));
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Function", "Service", "Trigger"]);
    // Without --namespace, `kubectl apply --namespace` chooses.
    assert!(list["items"][0]["metadata"].get("namespace").is_none());
}

#[test]
fn render_without_motif_toml_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    snapshot_error("render_no_file", dir.path(), &["render"], 3);
}

#[test]
fn render_of_invalid_values_names_the_fields() {
    let toml = audit_toml().replace(
        "scale = { min = 1, max = 3 }",
        "scale = { min = 5, max = 2 }\n\
         traffic = [{ percent = 60 }, { revision = \"audit-00001\", percent = 30 }]",
    );
    let dir = function_dir(&toml);
    snapshot_error("render_invalid", dir.path(), &["render"], 3);
}

#[test]
fn render_without_an_image_says_to_build_and_push() {
    let toml = audit_toml().replace(&format!("[artifact]\nimage = \"{IMAGE}\"\n"), "");
    let dir = function_dir(&toml);
    snapshot_error("render_no_image", dir.path(), &["render"], 3);
}
