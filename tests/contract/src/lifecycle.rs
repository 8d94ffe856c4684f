//! Contract checks that are sequences in time: drain on SIGTERM, readiness after init,
//! a failing init, the shutdown hook, and serving on after every kind of failure. Each takes the invoker
//! and starts the role it needs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::Invoker;

/// The lifecycle checks, by name.
pub const CHECKS: &[&str] = &[
    "sigterm_drains_in_flight_requests_then_exits_zero",
    "ready_turns_200_only_after_the_init_hook",
    "a_failing_init_hook_exits_non_zero_with_its_message",
    "sigterm_runs_the_shutdown_hook_then_exits_zero",
    "the_function_keeps_serving_after_every_kind_of_failure",
    "a_timed_out_command_is_killed_with_its_children",
    "json_logs_are_one_object_a_line_carrying_the_trace_id",
    "h2c_is_accepted",
];

/// The roles a check needs.
pub fn roles(check: &str) -> &'static [&'static str] {
    match check {
        "sigterm_drains_in_flight_requests_then_exits_zero" => &["slow"],
        "ready_turns_200_only_after_the_init_hook" => &["slow-init"],
        "a_failing_init_hook_exits_non_zero_with_its_message" => &["failing-init"],
        "sigterm_runs_the_shutdown_hook_then_exits_zero" => &["shutdown-hook"],
        "the_function_keeps_serving_after_every_kind_of_failure" => &["echo", "fail", "sleep"],
        "a_timed_out_command_is_killed_with_its_children" => &["command-stragglers"],
        "json_logs_are_one_object_a_line_carrying_the_trace_id" => &["fail"],
        "h2c_is_accepted" => &["echo"],
        _ => &[],
    }
}

/// Runs the check named `check`.
pub async fn run(check: &str, inv: &Invoker) -> Result<(), String> {
    match check {
        "sigterm_drains_in_flight_requests_then_exits_zero" => drain(inv).await,
        "ready_turns_200_only_after_the_init_hook" => ready_after_init(inv).await,
        "a_failing_init_hook_exits_non_zero_with_its_message" => failing_init(inv).await,
        "sigterm_runs_the_shutdown_hook_then_exits_zero" => shutdown_hook(inv).await,
        "the_function_keeps_serving_after_every_kind_of_failure" => keeps_serving(inv).await,
        "a_timed_out_command_is_killed_with_its_children" => stragglers(inv).await,
        "json_logs_are_one_object_a_line_carrying_the_trace_id" => json_logs(inv).await,
        "h2c_is_accepted" => h2c(inv).await,
        _ => Err(format!("no check `{check}`")),
    }
}

async fn drain(inv: &Invoker) -> Result<(), String> {
    let mut f = inv.start("slow", &BTreeMap::new()).await?;
    let view = f.view();
    let in_flight = tokio::spawn(async move {
        view.client
            .post(format!("{}/", view.base))
            .body("x")
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    f.terminate();
    // Ready turns 503 at once; the in-flight request still completes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ready = f
        .client
        .get(format!("{}/_/ready", f.base))
        .send()
        .await
        .map(|r| r.status().as_u16());
    if let Ok(status) = ready
        && status != 503
    {
        return Err(format!(
            "/_/ready during drain: want 503, got {status}\n{}",
            f.logs()
        ));
    }
    let res = in_flight
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("in-flight request failed during drain: {e}\n{}", f.logs()))?;
    if res.status() != 200 {
        return Err(format!("in-flight request: want 200, got {}", res.status()));
    }
    match f.wait_exit(Duration::from_secs(10)).await {
        Some(s) if s.success() => {}
        Some(s) => return Err(format!("exit after drain: want 0, got {s}\n{}", f.logs())),
        None => return Err(format!("did not exit within 10 s of SIGTERM\n{}", f.logs())),
    }
    if f.client
        .get(format!("{}/_/live", f.base))
        .send()
        .await
        .is_ok()
    {
        return Err("still accepting connections after exit".into());
    }
    Ok(())
}

async fn ready_after_init(inv: &Invoker) -> Result<(), String> {
    let start = Instant::now();
    let f = inv.start("slow-init", &BTreeMap::new()).await?;
    let took = start.elapsed();
    let logs = f.stop().await;
    // The role's init takes about a second: being ready sooner means ready did not wait.
    if took < Duration::from_millis(900) {
        return Err(format!(
            "ready after {took:?}, before the ~1 s init hook finished\n{logs}"
        ));
    }
    Ok(())
}

async fn failing_init(inv: &Invoker) -> Result<(), String> {
    match inv.start("failing-init", &BTreeMap::new()).await {
        Ok(f) => Err(format!(
            "a function whose init fails turned ready\n{}",
            f.stop().await
        )),
        Err(e) if e.contains("init failed on purpose") && e.contains("exited") => Ok(()),
        Err(e) => Err(format!("want an exit with the hook's message, got: {e}")),
    }
}

async fn shutdown_hook(inv: &Invoker) -> Result<(), String> {
    let mut f = inv.start("shutdown-hook", &BTreeMap::new()).await?;
    let logs = f.logs();
    if logs.contains("shutdown hook ran") {
        return Err(format!("the shutdown hook ran before SIGTERM\n{logs}"));
    }
    f.terminate();
    match f.wait_exit(Duration::from_secs(15)).await {
        Some(s) if s.success() => {}
        Some(s) => {
            return Err(format!(
                "exit after shutdown: want 0, got {s}\n{}",
                f.logs()
            ));
        }
        None => return Err(format!("did not exit within 15 s of SIGTERM\n{}", f.logs())),
    }
    let logs = f.stop().await;
    if !logs.contains("shutdown hook ran") {
        return Err(format!("the shutdown hook did not run\n{logs}"));
    }
    Ok(())
}

async fn keeps_serving(inv: &Invoker) -> Result<(), String> {
    let env = BTreeMap::from([
        ("MOTIF_TIMEOUT".to_owned(), "1".to_owned()),
        ("MOTIF_MAX_BODY".to_owned(), "1024".to_owned()),
    ]);
    for role in ["fail", "sleep", "echo"] {
        let f = inv.start(role, &env).await?;
        let url = format!("{}/", f.base);
        let _ = f.client.post(&url).body("x".repeat(4096)).send().await;
        let _ = f.client.post(&url).body("x").send().await;
        let live = f.client.get(format!("{}/_/live", f.base)).send().await;
        let status = live.map(|r| r.status().as_u16()).unwrap_or(0);
        let logs = f.stop().await;
        if status != 200 {
            return Err(format!(
                "{role}: /_/live after failures: want 200, got {status}\n{logs}"
            ));
        }
    }
    Ok(())
}

async fn stragglers(inv: &Invoker) -> Result<(), String> {
    let env = BTreeMap::from([("MOTIF_TIMEOUT".to_owned(), "1".to_owned())]);
    let f = inv.start("command-stragglers", &env).await?;
    let res = f
        .client
        .get(format!("{}/", f.base))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if res.status() != 504 {
        return Err(format!("want 504, got {}", res.status()));
    }
    let logs = f.logs();
    let marker = logs
        .split("marker=")
        .nth(1)
        .and_then(|rest| rest.split(['"', '\n', ' ']).next())
        .ok_or_else(|| format!("no marker in the logs\n{logs}"))?
        .to_owned();
    // The child would touch the marker 3 s after it started; give it 3.5 s.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let survived = std::path::Path::new(&marker).exists();
    let _ = std::fs::remove_file(&marker);
    let logs = f.stop().await;
    if survived {
        return Err(format!(
            "the command's child outlived the timeout (it touched {marker})\n{logs}"
        ));
    }
    Ok(())
}

async fn json_logs(inv: &Invoker) -> Result<(), String> {
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    let env = BTreeMap::from([
        ("MOTIF_LOG".to_owned(), "json".to_owned()),
        ("K_REVISION".to_owned(), "fail-00001".to_owned()),
    ]);
    let f = inv.start("fail", &env).await?;
    let res = f
        .client
        .post(format!("{}/", f.base))
        .header("traceparent", format!("00-{TRACE}-00f067aa0ba902b7-01"))
        .body("x")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if res.status() != 500 {
        return Err(format!(
            "want 500 from the failing function, got {}",
            res.status()
        ));
    }
    let logs = f.stop().await;
    let mut traced = false;
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("a log line is not JSON ({e}): {line}\n{logs}"))?;
        traced |= v.to_string().contains(TRACE);
    }
    if !traced {
        return Err(format!("no log line carries the trace id {TRACE}\n{logs}"));
    }
    if !logs.contains("fail-00001") {
        return Err(format!("the logs do not name K_REVISION\n{logs}"));
    }
    Ok(())
}

/// HTTP/2 without TLS, with prior knowledge, as Knative's `h2c` port name asks; curl is
/// the client, so the check does not rest on this suite's own HTTP stack.
async fn h2c(inv: &Invoker) -> Result<(), String> {
    let f = inv.start("echo", &BTreeMap::new()).await?;
    let out = tokio::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--http2-prior-knowledge",
            "--data",
            "over h2c",
        ])
        .args(["--write-out", " %{http_version} %{response_code}"])
        .arg(format!("{}/", f.base))
        .output()
        .await
        .map_err(|e| format!("cannot run curl: {e}"))?;
    let logs = f.stop().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stdout != "over h2c 2 200" {
        return Err(format!(
            "curl over h2c: got `{stdout}` {}\n{logs}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}
