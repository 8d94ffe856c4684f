//! The local loop on `motif serve`, with the real `motif` binary as server and client:
//! create, deploy, invoke (by host and path), list, describe, a second revision,
//! traffic and tags, logs, delete; errors with their exit codes and hints; SIGTERM
//! drains; a restart (also after SIGKILL) keeps every function.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use motif_test_support::http;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn scratch(name: &str) -> PathBuf {
    scratch_dir("cli-serve", name)
}

/// `motif serve` on a free port, with a stable window long enough that no instance
/// scales away mid-test.
fn serve(dir: &Path) -> Server {
    Server::start(dir, http::free_port(), &["--stable-window", "60s"], &[])
}

/// Rewrites the command function's greeting.
fn set_greeting(function: &Path, greeting: &str) {
    let handler = function.join("handler.sh");
    let text = std::fs::read_to_string(&handler).unwrap();
    let start = text.find("greeting='").unwrap() + "greeting='".len();
    let end = start + text[start..].find('\'').unwrap();
    std::fs::write(
        &handler,
        format!("{}{greeting}{}", &text[..start], &text[end..]),
    )
    .unwrap();
}

#[test]
fn the_local_loop_runs_on_motif_serve() {
    let dir = scratch("loop");
    ok(&motif_at(&dir, &["create", "-l", "command", "hello"]));
    set_greeting(&dir.join("hello"), "hi");
    let server = serve(&dir);

    let deployed = motif_at(&dir, &["deploy", "hello"]);
    ok(&deployed);
    let text = stdout(&deployed);
    assert!(
        text.contains("hello is serving hello-00001 (new revision"),
        "{text}"
    );
    assert!(text.contains(&server.url("hello")), "{text}");
    let again = motif_at(&dir, &["deploy", "hello", "-o", "json"]);
    ok(&again);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["created"], false);

    let invoked = motif_at(
        &dir,
        &[
            "invoke",
            "--target",
            &server.url("hello"),
            "--data",
            "motif",
        ],
    );
    ok(&invoked);
    assert!(
        stdout(&invoked).contains("hi, motif!"),
        "{}",
        stdout(&invoked)
    );
    let by_path = http::request("POST", &server.addr(), "/hello/", b"path").unwrap();
    assert_eq!(by_path.text(), "hi, path!\n");

    set_greeting(&dir.join("hello"), "hey");
    let second = motif_at(&dir, &["deploy", "hello", "--tag", "next"]);
    ok(&second);
    assert!(
        stdout(&second).contains("hello-00002"),
        "{}",
        stdout(&second)
    );
    let next = motif_at(
        &dir,
        &[
            "invoke",
            "--target",
            &server.url("next-hello"),
            "--data",
            "tag",
        ],
    );
    assert!(stdout(&next).contains("hey, tag!"), "{}", stdout(&next));

    let split = motif_at(
        &dir,
        &["traffic", "hello", "1=0", "latest=100", "--tag", "old=1"],
    );
    ok(&split);
    assert!(stdout(&split).contains("hello-00001"), "{}", stdout(&split));
    let old = motif_at(
        &dir,
        &[
            "invoke",
            "--target",
            &server.url("old-hello"),
            "--data",
            "x",
        ],
    );
    assert!(stdout(&old).contains("hi, x!"), "{}", stdout(&old));

    let list = motif_at(&dir, &["list"]);
    ok(&list);
    assert!(stdout(&list).contains("hello-00002"), "{}", stdout(&list));
    let describe = motif_at(&dir, &["describe", "hello"]);
    ok(&describe);
    let text = stdout(&describe);
    for expected in [
        "hello-00001",
        "hello-00002",
        "tag old",
        "Instance hello-00002/",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
    let logs = motif_at(&dir, &["logs", "hello"]);
    ok(&logs);
    assert!(
        stdout(&logs).contains("[hello-00002] deployed"),
        "{}",
        stdout(&logs)
    );

    // Bad input: an invalid split exits 3 and changes nothing.
    let bad = motif_at(&dir, &["traffic", "hello", "1=60", "2=60"]);
    assert_eq!(bad.status.code(), Some(3), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("sum to 120"), "{}", stderr(&bad));

    ok(&motif_at(&dir, &["delete", "hello"]));
    let gone = motif_at(&dir, &["describe", "hello"]);
    assert_eq!(gone.status.code(), Some(6), "{}", stderr(&gone));
    assert!(stderr(&gone).contains("hint:"), "{}", stderr(&gone));
    let answer = http::request("POST", &server.addr(), "/hello/", b"").unwrap();
    assert_eq!(answer.status, 404);
    assert_eq!(server.stop(Signal::SIGTERM).code(), Some(0));
}

#[test]
fn without_a_server_local_commands_say_how_to_start_one() {
    let dir = scratch("no-server");
    ok(&motif_at(&dir, &["create", "-l", "command", "hello"]));
    for args in [&["deploy", "hello"][..], &["list"], &["logs", "hello"]] {
        let out = motif_at(&dir, args);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("error: no motif serve is running"), "{err}");
        assert!(err.contains("hint: start one with `motif serve`"), "{err}");
    }
}

#[test]
fn sigterm_drains_and_a_restart_keeps_every_function_even_after_sigkill() {
    let dir = scratch("restart");
    ok(&motif_at(&dir, &["create", "-l", "command", "slow"]));
    let handler = dir.join("slow/handler.sh");
    let text = std::fs::read_to_string(&handler).unwrap();
    std::fs::write(&handler, text.replacen("set -eu", "set -eu\nsleep 1", 1)).unwrap();
    let server = serve(&dir);
    ok(&motif_at(&dir, &["deploy", "slow"]));

    let addr = server.addr();
    let in_flight = std::thread::spawn(move || http::request("POST", &addr, "/slow/", b"drain"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.stop(Signal::SIGTERM).code(), Some(0));
    let answer = in_flight.join().unwrap().unwrap();
    assert_eq!(
        (answer.status, answer.text().as_str()),
        (200, "hello, drain!\n")
    );

    let server = serve(&dir);
    let answer = http::request("POST", &server.addr(), "/slow/", b"again").unwrap();
    assert_eq!(answer.text(), "hello, again!\n");
    let describe = motif_at(&dir, &["describe", "slow", "-o", "json"]);
    let function: serde_json::Value = serde_json::from_slice(&describe.stdout).unwrap();
    let pid = function["running"][0]["instances"][0]["pid"]
        .as_u64()
        .unwrap();
    server.stop(Signal::SIGKILL);
    // Its instance does not outlive it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while kill(Pid::from_raw(pid as i32), None).is_ok() && !zombie(pid) {
        assert!(
            Instant::now() < deadline,
            "instance {pid} outlived its server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let server = serve(&dir);
    let answer = http::request("POST", &server.addr(), "/slow/", b"back").unwrap();
    assert_eq!(answer.text(), "hello, back!\n");
    let mut follow = motif_command(&dir, &["logs", "slow", "-f"])
        .env("MOTIF_STATE_DIR", dir.join("state"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    http::request("POST", &server.addr(), "/slow/", b"").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    follow.kill().unwrap();
    follow.wait().unwrap();
    let mut followed = String::new();
    follow
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut followed)
        .unwrap();
    assert!(followed.contains("[slow-00001/"), "{followed}");
}

/// A process that exited but was not reaped (its parent, the killed server, is gone;
/// init reaps it soon).
fn zombie(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_or(true, |stat| stat.split_whitespace().nth(2) == Some("Z"))
}
