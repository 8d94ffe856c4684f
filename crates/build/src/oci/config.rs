//! The image config: how the image runs (entrypoint, environment...), merged over a base's.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Error, Platform};

/// How the image runs. Over a base image, it is merged into the base's: see
/// [`Image::assemble`](super::Image::assemble).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// The program and its first arguments. Set, it replaces the base's, and the base's
    /// `cmd` with it (unless [`cmd`](Self::cmd) is set too).
    pub entrypoint: Vec<String>,
    /// Arguments after the entrypoint's (or the command, without one). Set, it replaces
    /// the base's.
    pub cmd: Vec<String>,
    /// `NAME=VALUE` entries, after the base's; one with a base entry's name replaces it.
    pub env: Vec<String>,
    /// The working directory, replacing the base's when set.
    pub working_dir: Option<String>,
    /// Labels, over the base's.
    pub labels: BTreeMap<String, String>,
    /// Ports the image listens on, `8080/tcp` (`8080` means tcp), besides the base's.
    pub exposed_ports: Vec<String>,
    /// The user (`uid[:gid]` or a name), replacing the base's when set.
    pub user: Option<String>,
}

/// The history entries' `created_by`: what made the layer.
const CREATED_BY: &str = "motif build";

/// The image config JSON: `base` (a base image's config) with `ours` merged in, the new
/// layers' `diff_ids` after the base's, and a history entry for each new layer.
pub(crate) fn build(
    base: Option<&Value>,
    ours: &ImageConfig,
    diff_ids: &[String],
    platform: &Platform,
    created: &str,
) -> Result<Value, Error> {
    let base = base.and_then(Value::as_object);
    let base_field = |name: &str| base.and_then(|b| b.get(name));

    let mut config = base_field("config")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    merge_run_config(&mut config, ours)?;

    let mut all_diff_ids: Vec<Value> = base_field("rootfs")
        .and_then(|r| r.get("diff_ids"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    all_diff_ids.extend(diff_ids.iter().map(|d| Value::String(d.clone())));

    let mut history: Vec<Value> = base_field("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if diff_ids.is_empty() {
        history.push(json!({ "created": created, "created_by": CREATED_BY, "empty_layer": true }));
    }
    for _ in diff_ids {
        history.push(json!({ "created": created, "created_by": CREATED_BY }));
    }

    let mut image = json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "created": created,
        "config": config,
        "rootfs": { "type": "layers", "diff_ids": all_diff_ids },
        "history": history,
    });
    if let Some(variant) = &platform.variant {
        image["variant"] = Value::String(variant.clone());
    }
    Ok(image)
}

/// Merges `ours` into the `config` object of an image config (its Docker-cased keys).
fn merge_run_config(config: &mut Map<String, Value>, ours: &ImageConfig) -> Result<(), Error> {
    let mut env: Vec<String> = strings(config.get("Env"));
    for entry in &ours.env {
        let name = env_name(entry).ok_or_else(|| {
            Error::InvalidConfig(format!(
                "environment entry `{entry}` is not NAME=VALUE with a non-empty NAME"
            ))
        })?;
        match env.iter_mut().find(|e| env_name(e) == Some(name)) {
            Some(existing) => existing.clone_from(entry),
            None => env.push(entry.clone()),
        }
    }
    set_list(config, "Env", &env);

    if !ours.entrypoint.is_empty() {
        set_list(config, "Entrypoint", &ours.entrypoint);
        set_list(config, "Cmd", &ours.cmd);
    } else if !ours.cmd.is_empty() {
        set_list(config, "Cmd", &ours.cmd);
    }

    if !ours.labels.is_empty() {
        let labels = object_entry(config, "Labels");
        for (k, v) in &ours.labels {
            labels.insert(k.clone(), Value::String(v.clone()));
        }
    }

    if !ours.exposed_ports.is_empty() {
        let ports = object_entry(config, "ExposedPorts");
        for port in &ours.exposed_ports {
            let port = if port.contains('/') {
                port.clone()
            } else {
                format!("{port}/tcp")
            };
            let number = port.split('/').next().unwrap_or_default();
            if number.parse::<u16>().is_err() {
                return Err(Error::InvalidConfig(format!(
                    "exposed port `{port}` is not PORT[/PROTOCOL]"
                )));
            }
            ports.insert(port, json!({}));
        }
    }

    if let Some(dir) = &ours.working_dir {
        config.insert("WorkingDir".into(), Value::String(dir.clone()));
    }
    if let Some(user) = &ours.user {
        config.insert("User".into(), Value::String(user.clone()));
    }
    Ok(())
}

/// The name of a `NAME=VALUE` entry.
fn env_name(entry: &str) -> Option<&str> {
    entry
        .split_once('=')
        .map(|(name, _)| name)
        .filter(|n| !n.is_empty())
}

/// A JSON list of strings (`null` or absent: empty).
fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Sets a list, or removes the key for an empty one (an absent `Cmd` is no `Cmd`).
fn set_list(config: &mut Map<String, Value>, key: &str, items: &[String]) {
    if items.is_empty() {
        config.remove(key);
    } else {
        config.insert(key.into(), json!(items));
    }
}

/// The object under `key`, created (or replacing a `null`) if need be.
fn object_entry<'a>(config: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = config.entry(key).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("just made an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Value {
        json!({
            "architecture": "amd64", "os": "linux",
            "config": {
                "Env": ["PATH=/usr/bin", "LANG=C"],
                "Entrypoint": ["/base"], "Cmd": ["--help"],
                "Labels": { "a": "base", "b": "base" },
                "StopSignal": "SIGTERM"
            },
            "rootfs": { "type": "layers", "diff_ids": ["sha256:base"] },
            "history": [{ "created_by": "base" }]
        })
    }

    #[test]
    fn merges_over_the_base_config() {
        let ours = ImageConfig {
            entrypoint: vec!["/app".into()],
            env: vec!["LANG=C.UTF-8".into(), "PORT=8080".into()],
            labels: [("b".to_owned(), "ours".to_owned())].into(),
            exposed_ports: vec!["8080".into()],
            ..Default::default()
        };
        let host = Platform::host();
        let config = build(Some(&base()), &ours, &["sha256:ours".into()], &host, "T").unwrap();
        let run = &config["config"];
        assert_eq!(
            run["Env"],
            json!(["PATH=/usr/bin", "LANG=C.UTF-8", "PORT=8080"])
        );
        assert_eq!(run["Entrypoint"], json!(["/app"]));
        assert!(
            run.get("Cmd").is_none(),
            "the base's Cmd goes with its entrypoint"
        );
        assert_eq!(run["Labels"], json!({ "a": "base", "b": "ours" }));
        assert_eq!(run["ExposedPorts"], json!({ "8080/tcp": {} }));
        assert_eq!(run["StopSignal"], "SIGTERM");
        assert_eq!(
            config["rootfs"]["diff_ids"],
            json!(["sha256:base", "sha256:ours"])
        );
        assert_eq!(config["history"].as_array().unwrap().len(), 2);
        assert_eq!(config["created"], "T");
    }

    #[test]
    fn without_an_entrypoint_the_base_one_stays() {
        let ours = ImageConfig {
            cmd: vec!["serve".into()],
            ..Default::default()
        };
        let config = build(Some(&base()), &ours, &[], &Platform::host(), "T").unwrap();
        assert_eq!(config["config"]["Entrypoint"], json!(["/base"]));
        assert_eq!(config["config"]["Cmd"], json!(["serve"]));
        assert_eq!(config["history"][1]["empty_layer"], true);
    }

    #[test]
    fn refuses_env_entries_without_a_name() {
        for bad in ["NOVALUE", "=x"] {
            let ours = ImageConfig {
                env: vec![bad.into()],
                ..Default::default()
            };
            let err = build(None, &ours, &[], &Platform::host(), "T").unwrap_err();
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }
}
