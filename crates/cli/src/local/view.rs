//! `motif list`, `describe` and `delete` without `--cluster`: the functions of `motif
//! serve`.

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::Value;

use crate::cluster;
use crate::error::CliError;
use crate::local::{Admin, StateArgs};
use crate::output::{Format, status};

/// `motif list`: NAME, REVISION, TRAFFIC, INSTANCES, URL.
pub async fn list(state: &StateArgs, format: Format) -> Result<(), CliError> {
    let admin = Admin::connect(state)?;
    let functions: Vec<Value> = admin
        .call(Method::GET, "/v1/functions", None::<&()>)
        .await?;
    format.print(&functions, |out| {
        if functions.is_empty() {
            status("no functions deployed to motif serve; deploy one with `motif deploy`");
            return;
        }
        let mut rows = vec![
            ["NAME", "LATEST", "TRAFFIC", "INSTANCES", "URL"]
                .map(str::to_owned)
                .to_vec(),
        ];
        for function in &functions {
            rows.push(vec![
                text(&function["name"]),
                text(&function["latest"]["name"]),
                traffic(function),
                instances(function).to_string(),
                text(&function["url"]),
            ]);
        }
        let _ = cluster::table(out, &rows);
    });
    Ok(())
}

/// `motif describe NAME`: the function, its revisions, route and instances.
pub async fn describe(name: &str, state: &StateArgs, format: Format) -> Result<(), CliError> {
    let admin = Admin::connect(state)?;
    let function: Value = admin
        .call(Method::GET, &format!("/v1/functions/{name}"), None::<&()>)
        .await?;
    format.print(&function, |out| {
        let latest = &function["latest"];
        let _ = writeln!(out, "Name:      {}", text(&function["name"]));
        let _ = writeln!(out, "URL:       {}", text(&function["url"]));
        for tag in function["tagUrls"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "  tag {}: {}", text(&tag[0]), text(&tag[1]));
        }
        let _ = writeln!(
            out,
            "Language:  {} ({})",
            text(&latest["spec"]["language"]),
            latest["spec"]["kind"].as_str().unwrap_or("http")
        );
        let source = &latest["spec"]["source"];
        if let Some(url) = source["git"]["url"].as_str() {
            let sub_path = source["subPath"]
                .as_str()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            let revision = source["git"]["revision"].as_str().unwrap_or("-");
            let _ = writeln!(out, "Source:    {url}{sub_path} at {revision}");
        }
        let _ = writeln!(out, "Traffic:   {}", traffic(&function));
        let _ = writeln!(out, "Revisions:");
        let mut rows = vec![
            ["  NAME", "AGE", "INSTANCES", "IN FLIGHT", "ARTIFACT"]
                .map(str::to_owned)
                .to_vec(),
        ];
        for revision in function["revisions"].as_array().into_iter().flatten() {
            let name = revision.as_str().unwrap_or_default();
            let running = function["running"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["name"] == name);
            rows.push(vec![
                format!("  {name}"),
                if name == latest["name"] {
                    age(latest["createdMillis"].as_u64())
                } else {
                    "-".to_owned()
                },
                running.map_or_else(
                    || "not routed".to_owned(),
                    |r| r["instances"].as_array().map_or(0, Vec::len).to_string(),
                ),
                running.map_or_else(|| "-".to_owned(), |r| r["inFlight"].to_string()),
                if name == latest["name"] {
                    short(&text(&latest["artifact"]))
                } else {
                    "-".to_owned()
                },
            ]);
        }
        let _ = cluster::table(out, &rows);
        for running in function["running"].as_array().into_iter().flatten() {
            for instance in running["instances"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "Instance {} ({}{}): {} in flight, cold start {:.1} ms",
                    text(&instance["id"]),
                    text(&instance["runtime"]),
                    instance["pid"]
                        .as_u64()
                        .map_or_else(String::new, |pid| format!(", pid {pid}")),
                    instance["inFlight"],
                    instance["readyAfterMillis"].as_f64().unwrap_or_default()
                );
            }
            if let Some(failure) = running["lastFailure"].as_str() {
                let _ = writeln!(
                    out,
                    "Last start of {} failed: {failure}",
                    text(&running["name"])
                );
            }
        }
        for trigger in function["triggers"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "Trigger {} (broker {}): {} delivered, {} retries, {} dead-lettered, {} dropped, lag {}",
                text(&trigger["name"]),
                text(&trigger["broker"]),
                trigger["delivered"],
                trigger["retries"],
                trigger["deadLettered"],
                trigger["dropped"],
                trigger["lag"],
            );
        }
    });
    Ok(())
}

/// `motif delete NAME`.
pub async fn delete(name: &str, state: &StateArgs, format: Format) -> Result<(), CliError> {
    let admin = Admin::connect(state)?;
    admin
        .send(
            Method::DELETE,
            &format!("/v1/functions/{name}"),
            None::<&()>,
        )
        .await?;
    let deleted = serde_json::json!({ "kind": "Function", "name": name, "server": "motif serve" });
    format.print(&deleted, |out| {
        let _ = writeln!(out, "deleted {name} from motif serve");
    });
    Ok(())
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("-").to_owned()
}

/// `hello-00002 90%, tag old -> hello-00001 10%`.
fn traffic(function: &Value) -> String {
    let latest = function["route"]["latest"].as_str().unwrap_or("latest");
    let targets: Vec<String> = function["route"]["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let revision = t["revision"]
                .as_str()
                .map_or_else(|| format!("latest ({latest})"), str::to_owned);
            match t["tag"].as_str() {
                Some(tag) => format!("{revision} {}% (tag {tag})", t["percent"]),
                None => format!("{revision} {}%", t["percent"]),
            }
        })
        .collect();
    targets.join(", ")
}

fn instances(function: &Value) -> usize {
    function["running"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["instances"].as_array().map_or(0, Vec::len))
        .sum()
}

fn short(artifact: &str) -> String {
    artifact.chars().take(19).collect()
}

fn age(millis: Option<u64>) -> String {
    let Some(millis) = millis else {
        return "-".to_owned();
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let seconds = now.saturating_sub(millis) / 1000;
    match seconds {
        0..120 => format!("{seconds}s"),
        120..7200 => format!("{}m", seconds / 60),
        _ => format!("{}h", seconds / 3600),
    }
}
