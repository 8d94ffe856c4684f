//! Sending a case's requests and checking the answers.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::HeaderMap;
use motif_contract::http::{Message, Mode};

use crate::case::{Case, Expect, ExpectEvent, HeaderValues, Request};
use crate::process::{Function, FunctionView};

/// An answer, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn describe(&self) -> String {
        format!(
            "{} {:?}\n{}",
            self.status,
            self.headers,
            String::from_utf8_lossy(&self.body)
        )
    }
}

pub(crate) async fn send(f: &FunctionView, r: &Request) -> Result<Answer, String> {
    let method = reqwest::Method::from_bytes(r.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut req = f.client.request(method, format!("{}{}", f.base, r.path));
    for (name, values) in &r.headers {
        match values {
            HeaderValues::One(v) => req = req.header(name, v),
            HeaderValues::Many(vs) => {
                for v in vs {
                    req = req.header(name, v);
                }
            }
        }
    }
    let body = r.body.repeat(r.body_repeat);
    if !body.is_empty() {
        req = req.body(body);
    }
    let res = req
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res
        .bytes()
        .await
        .map_err(|e| format!("reading the answer failed: {e}"))?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

pub(crate) async fn run(f: &Function, case: &Case) -> Result<(), String> {
    let view = f.view();
    for r in &case.setup {
        send(&view, r).await?;
    }
    if case.parallel <= 1 {
        let answer = send(&view, &case.request).await?;
        return check(&answer, &case.expect)
            .map_err(|e| format!("{e}\n--- answer ---\n{}", answer.describe()));
    }
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..case.parallel {
        let (view, request) = (view.clone(), case.request.clone());
        set.spawn(async move { send(&view, &request).await });
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(answer) = set.join_next().await {
        let answer = answer.map_err(|e| e.to_string())??;
        universal(&answer).map_err(|e| format!("{e}\n--- answer ---\n{}", answer.describe()))?;
        *counts.entry(answer.status.to_string()).or_default() += 1;
    }
    if let Some(want) = &case.expect.status_counts
        && &counts != want
    {
        return Err(format!("status counts: want {want:?}, got {counts:?}"));
    }
    Ok(())
}

/// What holds for every answer: an error is problem+json, a 429 says when to retry.
fn universal(a: &Answer) -> Result<(), String> {
    if a.status >= 400 {
        let ct = header(&a.headers, "content-type").unwrap_or_default();
        if ct != "application/problem+json" {
            return Err(format!(
                "a {} must be application/problem+json, not `{ct}`",
                a.status
            ));
        }
        let p: serde_json::Value =
            serde_json::from_slice(&a.body).map_err(|e| format!("problem is not JSON: {e}"))?;
        for member in ["type", "title", "status", "detail"] {
            if p.get(member).is_none() {
                return Err(format!("problem lacks `{member}`"));
            }
        }
        if p["status"] != a.status {
            return Err(format!(
                "problem status {} differs from the HTTP status {}",
                p["status"], a.status
            ));
        }
    }
    if a.status == 429 && header(&a.headers, "retry-after").is_none() {
        return Err("a 429 must carry Retry-After".into());
    }
    Ok(())
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn check(a: &Answer, e: &Expect) -> Result<(), String> {
    universal(a)?;
    if let Some(status) = e.status
        && a.status != status
    {
        return Err(format!("status: want {status}, got {}", a.status));
    }
    for (name, want) in &e.headers {
        let got = header(&a.headers, name);
        if got.as_deref() != Some(want.as_str()) {
            return Err(format!("header `{name}`: want `{want}`, got {got:?}"));
        }
    }
    for (name, want) in &e.headers_contain {
        let got = header(&a.headers, name).unwrap_or_default();
        if !got.contains(want.as_str()) {
            return Err(format!(
                "header `{name}`: want it to contain `{want}`, got `{got}`"
            ));
        }
    }
    for name in &e.headers_absent {
        if a.headers.contains_key(name.as_str()) {
            return Err(format!("header `{name}` must be absent"));
        }
    }
    let text = String::from_utf8_lossy(&a.body);
    if let Some(body) = &e.body
        && text != *body
    {
        return Err(format!("body: want {body:?}, got {text:?}"));
    }
    for part in &e.body_contains {
        if !text.contains(part.as_str()) {
            return Err(format!("body must contain {part:?}"));
        }
    }
    if let Some(want) = &e.json {
        let got: serde_json::Value =
            serde_json::from_slice(&a.body).map_err(|err| format!("body is not JSON: {err}"))?;
        contains(&got, want).map_err(|err| format!("json body: {err}"))?;
    }
    if let Some(want) = &e.problem {
        let got: serde_json::Value =
            serde_json::from_slice(&a.body).map_err(|err| format!("problem is not JSON: {err}"))?;
        for (k, v) in want {
            if k == "type" {
                let slug = v.as_str().unwrap_or_default();
                let ty = got["type"].as_str().unwrap_or_default();
                if !ty.ends_with(&format!("/{slug}")) {
                    return Err(format!("problem type: want …/{slug}, got `{ty}`"));
                }
            } else if k == "detail_contains" {
                let detail = got["detail"].as_str().unwrap_or_default();
                let part = v.as_str().unwrap_or_default();
                if !detail.contains(part) {
                    return Err(format!("problem detail must contain {part:?}: `{detail}`"));
                }
            } else {
                contains(&got[k.as_str()], v).map_err(|err| format!("problem `{k}`: {err}"))?;
            }
        }
    }
    if let Some(want) = &e.event {
        let (event, mode) = match decode(a)? {
            Message::Event(event, mode) => (event, mode),
            Message::Batch(_) => return Err("want one event, got a batch".into()),
        };
        if let Some(m) = &want.mode {
            let got = match mode {
                Mode::Binary => "binary",
                Mode::Structured => "structured",
                Mode::Batch => "batch",
            };
            if got != m {
                return Err(format!("event mode: want {m}, got {got}"));
            }
        }
        check_event(&event, want)?;
    }
    if let Some(want) = &e.batch {
        let Message::Batch(events) = decode(a)? else {
            return Err("want a batch".into());
        };
        if events.len() != want.len() {
            return Err(format!(
                "batch: want {} events, got {}",
                want.len(),
                events.len()
            ));
        }
        for (i, (event, want)) in events.iter().zip(want).enumerate() {
            check_event(event, want).map_err(|err| format!("batch event {i}: {err}"))?;
        }
    }
    Ok(())
}

fn decode(a: &Answer) -> Result<Message, String> {
    motif_contract::http::decode(&a.headers, a.body.clone())
        .map_err(|e| format!("the answer is not a CloudEvent: {e}"))
}

fn check_event(event: &motif_contract::Event, want: &ExpectEvent) -> Result<(), String> {
    for (name, value) in &want.attributes {
        let got = event.attribute(name);
        match (got, value.as_str()) {
            (Some(_), "*") => {}
            (Some(got), want) if got == want => {}
            (got, want) => return Err(format!("attribute `{name}`: want `{want}`, got {got:?}")),
        }
    }
    for name in &want.absent {
        if let Some(v) = event.attribute(name) {
            return Err(format!("attribute `{name}` must be absent, got `{v}`"));
        }
    }
    let data = event
        .data()
        .map(|d| String::from_utf8_lossy(d).into_owned());
    if let Some(want) = &want.data
        && data.as_deref() != Some(want.as_str())
    {
        return Err(format!("data: want {want:?}, got {data:?}"));
    }
    if let Some(want) = &want.json_data {
        let got: serde_json::Value = serde_json::from_str(data.as_deref().unwrap_or_default())
            .map_err(|e| format!("data is not JSON: {e}"))?;
        if &got != want {
            return Err(format!("data: want {want}, got {got}"));
        }
    }
    Ok(())
}

/// Whether `got` holds everything in `want`: objects by member, arrays element-wise,
/// numbers by value (JSON's `1` and `1.0` are the same number), other scalars equal.
fn contains(got: &serde_json::Value, want: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for (k, wv) in w {
                let gv = g.get(k).ok_or_else(|| format!("missing member `{k}`"))?;
                contains(gv, wv).map_err(|e| format!("{k}: {e}"))?;
            }
            Ok(())
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => {
            g.iter().zip(w).try_for_each(|(g, w)| contains(g, w))
        }
        (Value::Number(g), Value::Number(w)) if g.as_f64() == w.as_f64() => Ok(()),
        _ if got == want => Ok(()),
        _ => Err(format!("want {want}, got {got}")),
    }
}
