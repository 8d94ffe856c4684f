//! Events on `motif serve` with the real `motif` binary: functions subscribed in their
//! `motif.toml` and with `motif subscribe`, events sent with `motif events send` and
//! watched with `motif events tail`, retries and the dead-letter sink; and the crash
//! test: 100,000 events published at a steady rate while the server is killed with
//! SIGKILL twice, none of those acknowledged lost.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use motif_test_support::http;
use nix::sys::signal::Signal;

fn scratch(name: &str) -> PathBuf {
    scratch_dir("cli-events", name)
}

/// `motif serve` on `port`, quiet about each delivery.
fn serve(dir: &Path, port: u16) -> Server {
    Server::start(
        dir,
        port,
        &[],
        &[("MOTIF_CLI_LOG", "info,motif_events=warn")],
    )
}

/// A command CloudEvent function `name` in `dir` that appends `TYPE ID ERRORCODE` to
/// `record` for each event (or fails, with `fail`), with `extra` appended to its
/// motif.toml.
fn command_function(dir: &Path, name: &str, record: &Path, fail: bool, extra: &str) -> PathBuf {
    ok(&motif_at(
        dir,
        &["create", "-l", "command", "-t", "cloudevent", name],
    ));
    let function = dir.join(name);
    let body = if fail {
        "cat >/dev/null\necho 'not today' >&2\nexit 1".to_owned()
    } else {
        format!(
            "cat >/dev/null\nprintf '%s %s %s\\n' \"$CE_TYPE\" \"$CE_ID\" \"${{CE_KNATIVEERRORCODE:-}}\" >> '{}'",
            record.display()
        )
    };
    std::fs::write(function.join("handler.sh"), format!("#!/bin/sh\n{body}\n")).unwrap();
    let toml = std::fs::read_to_string(function.join("motif.toml")).unwrap();
    std::fs::write(function.join("motif.toml"), format!("{toml}\n{extra}\n")).unwrap();
    function
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn wait_for(what: &str, timeout: Duration, check: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn triggers(dir: &Path) -> Vec<serde_json::Value> {
    let out = motif_at(dir, &["events", "triggers", "-o", "json"]);
    ok(&out);
    serde_json::from_str::<Vec<serde_json::Value>>(&stdout(&out)).unwrap()
}

#[test]
fn events_reach_subscribed_functions_through_motif_serve() {
    let dir = scratch("flow");
    let audit_log = dir.join("audit.log");
    let big_log = dir.join("big.log");
    command_function(
        &dir,
        "audit",
        &audit_log,
        false,
        "[[subscriptions]]\nfilters = [{ prefix = { type = \"order.\" } }]",
    );
    command_function(
        &dir,
        "flaky",
        &audit_log,
        true,
        "[[subscriptions]]\nfilter = { attributes = { type = \"payment.failed\" } }\n\
         delivery = { retry = 1, backoffDelay = \"PT0.01S\", deadLetterSink = { function = \"audit\" } }",
    );
    command_function(&dir, "big", &big_log, false, "");
    let server = serve(&dir, http::free_port());
    for name in ["audit", "flaky", "big"] {
        ok(&motif_at(&dir, &["deploy", name]));
    }
    let subscribed = motif_at(
        &dir,
        &[
            "subscribe",
            "big",
            "--name",
            "large",
            "--filter",
            "type=order.created",
            "--cesql",
            "amount > 100",
        ],
    );
    ok(&subscribed);
    assert_eq!(stdout(&subscribed).trim(), "big-large");

    let send = |args: &[&str]| {
        let mut all = vec!["events", "send"];
        all.extend_from_slice(args);
        motif_at(&dir, &all)
    };
    let sent = send(&[
        "--type",
        "order.created",
        "--id",
        "o1",
        "-e",
        "amount=150",
        "-d",
        "{\"x\":1}",
    ]);
    ok(&sent);
    assert_eq!(stdout(&sent).trim(), "o1");
    ok(&send(&[
        "--type",
        "order.created",
        "--id",
        "o2",
        "-e",
        "amount=50",
    ]));
    ok(&send(&["--type", "payment.failed", "--id", "p1"]));
    ok(&send(&["--type", "other", "--id", "x1"]));
    // The broker's own address, by host as by path.
    let reply = http::request("POST", &server.addr(), "/broker/", b"").unwrap();
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(reply.text().contains("ce-specversion"), "{}", reply.text());

    wait_for("the deliveries", Duration::from_secs(30), || {
        lines(&audit_log).len() >= 3 && !lines(&big_log).is_empty()
    });
    std::thread::sleep(Duration::from_millis(500));
    let mut audit = lines(&audit_log);
    audit.sort();
    assert_eq!(
        audit,
        [
            "order.created o1 ",
            "order.created o2 ",
            "payment.failed p1 500"
        ],
        "audit got the orders, and p1 as flaky's dead letter"
    );
    assert_eq!(lines(&big_log), ["order.created o1 "]);

    let all = triggers(&dir);
    assert_eq!(all.len(), 3, "{all:?}");
    let flaky = all.iter().find(|t| t["name"] == "flaky-default-1").unwrap();
    assert_eq!(flaky["deadLettered"], 1);
    assert_eq!(flaky["retries"], 1);
    let described = motif_at(&dir, &["describe", "big"]);
    ok(&described);
    assert!(
        stdout(&described).contains("Trigger big-large (broker default): 1 delivered"),
        "{}",
        stdout(&described)
    );

    let tail = motif_at(
        &dir,
        &[
            "events", "tail", "--last", "4", "--count", "4", "-o", "json",
        ],
    );
    ok(&tail);
    let ids: Vec<String> = stdout(&tail)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["o1", "o2", "p1", "x1"]);
    let text = motif_at(&dir, &["events", "tail", "--last", "1", "--count", "1"]);
    assert!(
        stdout(&text).contains("default other /motif/cli x1"),
        "{}",
        stdout(&text)
    );

    ok(&motif_at(&dir, &["unsubscribe", "big", "large"]));
    assert_eq!(triggers(&dir).len(), 2);

    // Bad input: an extension that is not NAME=VALUE, an invalid attribute name, a
    // CESQL expression that does not parse, a function named `broker`.
    let bad = send(&["--type", "t", "-e", "novalue"]);
    assert_eq!(bad.status.code(), Some(3), "{}", stderr(&bad));
    let bad = send(&["--type", "t", "-e", "Bad_Name=1"]);
    assert_eq!(bad.status.code(), Some(3), "{}", stderr(&bad));
    let bad = motif_at(&dir, &["subscribe", "big", "--cesql", "amount >"]);
    assert_eq!(bad.status.code(), Some(3), "{}", stderr(&bad));
    assert!(
        stderr(&bad).to_lowercase().contains("cesql"),
        "{}",
        stderr(&bad)
    );
    drop(server);
}

/// The recorder of the crash test: a Python function appending `SOURCE ID` to a file
/// (its path in `RECORD`) before it answers, or failing every event with `FAIL` set.
const RECORDER: &str = r#"
import os

from cloudevents.core.v1.event import CloudEvent

RECORD = os.environ["RECORD"]
FAIL = os.environ.get("FAIL") == "1"


def handle(event: CloudEvent) -> None:
    if FAIL:
        raise RuntimeError("failing on purpose")
    with open(RECORD, "a") as out:
        out.write(f"{event.get_source()} {event.get_id()}\n")
    return None
"#;

fn python_function(dir: &Path, name: &str, env: &str, extra: &str) {
    ok(&motif_at(
        dir,
        &["create", "-l", "python", "-t", "cloudevent", name],
    ));
    let function = dir.join(name);
    std::fs::write(function.join("func.py"), RECORDER).unwrap();
    let toml = std::fs::read_to_string(function.join("motif.toml")).unwrap();
    std::fs::write(
        function.join("motif.toml"),
        format!("{toml}\n[env]\n{env}\n\n{extra}\n"),
    )
    .unwrap();
}

/// `ID`s of `record`'s lines whose source is the publisher's, with how often each came.
fn received(record: &Path) -> HashMap<u64, u32> {
    let mut counts = HashMap::new();
    for line in lines(record) {
        if let Some(id) = line.strip_prefix("/crash ") {
            *counts.entry(id.parse().unwrap()).or_default() += 1;
        }
    }
    counts
}

const EVENTS: u64 = 100_000;
const RATE: u64 = 2_000;
const PUBLISHERS: u64 = 16;

#[test]
fn no_acknowledged_event_is_lost_when_motif_serve_is_killed() {
    let dir = scratch("crash");
    let record = |name: &str| dir.join(format!("{name}.log"));
    python_function(
        &dir,
        "all",
        &format!("RECORD = \"{}\"", record("all").display()),
        "[[subscriptions]]\nfilter = { attributes = { type = \"crash.test\" } }\n\
         [[subscriptions]]\nname = \"ticks\"\nfilter = { attributes = { type = \"dev.knative.sources.ping\" } }\n\
         [[sources]]\nschedule = \"* * * * *\"\ndata = '{\"tick\": true}'",
    );
    python_function(
        &dir,
        "tenth",
        &format!("RECORD = \"{}\"", record("tenth").display()),
        "[[subscriptions]]\nfilters = [{ cesql = \"type = 'crash.test' AND seq % 10 = 0\" }]",
    );
    python_function(
        &dir,
        "flaky",
        &format!("RECORD = \"{}\"\nFAIL = \"1\"", record("flaky").display()),
        "[[subscriptions]]\nfilters = [{ cesql = \"seq % 100 = 7\" }]\n\
         delivery = { retry = 1, backoffDelay = \"PT0.01S\", deadLetterSink = { function = \"dead\" } }",
    );
    python_function(
        &dir,
        "dead",
        &format!("RECORD = \"{}\"", record("dead").display()),
        "",
    );
    let port = http::free_port();
    let mut server = Some(serve(&dir, port));
    for name in ["dead", "all", "tenth", "flaky"] {
        ok(&motif_at(&dir, &["deploy", name]));
    }

    // Publishers: each sends its share of the events at a steady rate; an event is
    // acknowledged only by a 202, and sent again (same id) until it gets one.
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let sent = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // reqwest here is built without a default crypto provider (the CLI installs ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started = Instant::now();
    let publishing = {
        let (acked, sent, failures) = (acked.clone(), sent.clone(), failures.clone());
        runtime.spawn(async move {
            let client = reqwest::Client::new();
            let url = format!("http://127.0.0.1:{port}/broker/default");
            let mut tasks = Vec::new();
            for p in 0..PUBLISHERS {
                let (client, url) = (client.clone(), url.clone());
                let (acked, sent, failures) = (acked.clone(), sent.clone(), failures.clone());
                tasks.push(tokio::spawn(async move {
                    let period = Duration::from_secs_f64(PUBLISHERS as f64 / RATE as f64);
                    let mut ticks = tokio::time::interval(period);
                    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    let mut seq = p;
                    while seq < EVENTS {
                        ticks.tick().await;
                        sent.fetch_add(1, Ordering::Relaxed);
                        let answer = client
                            .post(&url)
                            .header("ce-specversion", "1.0")
                            .header("ce-id", seq.to_string())
                            .header("ce-source", "/crash")
                            .header("ce-type", "crash.test")
                            .header("ce-seq", seq.to_string())
                            .header("content-type", "application/json")
                            .body(format!("{{\"seq\":{seq}}}"))
                            .timeout(Duration::from_secs(10))
                            .send()
                            .await;
                        match answer {
                            Ok(r) if r.status() == 202 => {
                                acked.lock().unwrap().insert(seq);
                                seq += PUBLISHERS;
                            }
                            _ => {
                                failures.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
        })
    };

    // Two SIGKILLs while publishing, each followed by a restart on the same port.
    for fraction in [3, 6] {
        wait_for("publishing to progress", Duration::from_secs(300), || {
            // A publisher that failed ends the wait; its panic is raised below.
            publishing.is_finished() || acked.lock().unwrap().len() as u64 >= EVENTS * fraction / 10
        });
        if publishing.is_finished() {
            break;
        }
        server.take().unwrap().stop(Signal::SIGKILL);
        eprintln!(
            "killed motif serve at {} acknowledged events ({:.1} s)",
            acked.lock().unwrap().len(),
            started.elapsed().as_secs_f64()
        );
        std::thread::sleep(Duration::from_millis(300));
        server = Some(serve(&dir, port));
    }
    runtime.block_on(publishing).unwrap();
    let published_in = started.elapsed();
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len() as u64, EVENTS);

    // Every acknowledged event reaches every trigger it matches.
    let expect_all: BTreeSet<u64> = acked.iter().copied().collect();
    let expect_tenth: BTreeSet<u64> = acked.iter().copied().filter(|s| s % 10 == 0).collect();
    let expect_dead: BTreeSet<u64> = acked.iter().copied().filter(|s| s % 100 == 7).collect();
    let complete = || {
        let got = |name: &str, want: &BTreeSet<u64>| {
            let got = received(&record(name));
            want.iter().all(|id| got.contains_key(id))
        };
        got("all", &expect_all) && got("tenth", &expect_tenth) && got("dead", &expect_dead)
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    while !complete() {
        if Instant::now() > deadline {
            let missing = |name: &str, want: &BTreeSet<u64>| {
                let got = received(&record(name));
                want.iter().filter(|id| !got.contains_key(id)).count()
            };
            panic!(
                "events lost: all {} tenth {} dead {} missing; triggers: {:?}\n{}",
                missing("all", &expect_all),
                missing("tenth", &expect_tenth),
                missing("dead", &expect_dead),
                triggers(&dir),
                server.as_ref().unwrap().log()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let delivered_in = started.elapsed();

    // Nothing else: no event where its filter does not send it, none dropped.
    let all = received(&record("all"));
    let tenth = received(&record("tenth"));
    let dead = received(&record("dead"));
    assert!(tenth.keys().all(|s| s % 10 == 0));
    assert!(dead.keys().all(|s| s % 100 == 7));
    assert!(received(&record("flaky")).is_empty());
    let status = triggers(&dir);
    for trigger in &status {
        assert_eq!(trigger["dropped"], 0, "{trigger}");
    }
    let duplicates =
        |counts: &HashMap<u64, u32>| counts.values().map(|n| u64::from(n - 1)).sum::<u64>();
    // The ping source ticks on each minute; the test may have spanned none.
    let ticks = || {
        lines(&record("all"))
            .iter()
            .filter(|l| l.starts_with("/apis/v1/namespaces/default/pingsources/all-"))
            .count()
    };
    wait_for("a ping tick", Duration::from_secs(75), || ticks() >= 1);
    let ticks = ticks();
    let report = format!(
        "crash test: {EVENTS} events acknowledged ({} sends, {} refused or unanswered while \
         the server was down) in {:.1} s at {RATE}/s, two SIGKILLs; all delivered after \
         {:.1} s. Duplicates: all {}, tenth {}, dead {}; ping ticks seen: {ticks}",
        sent.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
        published_in.as_secs_f64(),
        delivered_in.as_secs_f64(),
        duplicates(&all),
        duplicates(&tenth),
        duplicates(&dead),
    );
    eprintln!("{report}");
    std::fs::write(
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("crash-test-report.txt"),
        &report,
    )
    .unwrap();
    drop(server);
}
