//! Process instances with the real `motif-invoker` serving command functions on
//! loopback: readiness, ports, failed starts, drain on stop, death.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use motif_serve::instance::{InstanceError, InstanceOptions, ProcessInstance, ProcessSpec};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn invoker() -> PathBuf {
    static INVOKER: OnceLock<PathBuf> = OnceLock::new();
    INVOKER
        .get_or_init(|| motif_test_support::motif_invoker().expect("build motif-invoker"))
        .clone()
}

fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// The invoker serving `sh -c script` as an http command function.
fn command(script: &str) -> ProcessSpec {
    ProcessSpec {
        program: invoker(),
        args: vec!["--command".into(), "sh".into(), "-c".into(), script.into()],
        env: vec![("MOTIF_FUNCTION_KIND".into(), "http".into())],
        dir: scratch(),
    }
}

/// Any program, run by `sh -c script`.
fn shell(script: &str) -> ProcessSpec {
    ProcessSpec {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        env: vec![],
        dir: scratch(),
    }
}

/// `POST /` with `body` over HTTP/1.1: the status and the response body.
async fn post(addr: SocketAddr, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, body.to_owned())
}

fn alive(pid: u32) -> bool {
    kill(Pid::from_raw(pid as i32), None).is_ok()
}

#[tokio::test]
async fn a_started_instance_is_ready_and_serves_over_http() {
    let instance = ProcessInstance::start(command("cat"), InstanceOptions::default())
        .await
        .unwrap();
    assert!(instance.addr().ip().is_loopback());
    assert!(instance.is_alive());
    assert_eq!(post(instance.addr(), "hello").await, (200, "hello".into()));
    let status = instance.stop(Duration::from_secs(10)).await.unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn two_instances_get_different_ports_and_ids() {
    let (a, b) = tokio::join!(
        ProcessInstance::start(command("cat"), InstanceOptions::default()),
        ProcessInstance::start(command("cat"), InstanceOptions::default()),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.addr().port(), b.addr().port());
    assert_ne!(a.id(), b.id());
    assert_eq!(post(a.addr(), "a").await, (200, "a".into()));
    assert_eq!(post(b.addr(), "b").await, (200, "b".into()));
}

#[tokio::test]
async fn a_program_that_exits_at_once_is_not_ready_with_its_last_stderr_line() {
    let spec = shell("echo starting >&2; echo 'no handler here' >&2; exit 3");
    let error = ProcessInstance::start(spec, InstanceOptions::default())
        .await
        .unwrap_err();
    let message = error.to_string();
    match error {
        InstanceError::NotReady {
            exit, last_lines, ..
        } => {
            assert_eq!(exit.and_then(|s| s.code()), Some(3));
            assert_eq!(last_lines, ["starting", "no handler here"]);
        }
        other => panic!("expected NotReady, got {other:?}"),
    }
    assert!(message.contains("`sh`"), "{message}");
    assert!(message.contains("no handler here"), "{message}");
}

#[tokio::test]
async fn a_program_that_never_turns_ready_is_killed_after_the_timeout() {
    let pidfile = scratch().join("never-ready.pid");
    let _ = std::fs::remove_file(&pidfile);
    let spec = shell(&format!("echo $$ > '{}'; exec sleep 60", pidfile.display()));
    let options = InstanceOptions {
        ready_timeout: Duration::from_millis(500),
        ..InstanceOptions::default()
    };
    let started = Instant::now();
    let error = ProcessInstance::start(spec, options).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(error, InstanceError::NotReady { exit: None, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("did not answer 200"), "{error}");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!alive(pid), "process {pid} was left behind");
}

#[tokio::test]
async fn stop_drains_an_in_flight_request() {
    let instance = ProcessInstance::start(command("sleep 1; cat"), InstanceOptions::default())
        .await
        .unwrap();
    let pid = instance.pid();
    let request = tokio::spawn(post(instance.addr(), "slow"));
    // Long enough for the request to be in flight, well short of its second.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = instance.stop(Duration::from_secs(10)).await.unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(request.await.unwrap(), (200, "slow".into()));
    assert!(!alive(pid));
}

#[tokio::test]
async fn a_killed_instance_is_no_longer_alive() {
    let instance = ProcessInstance::start(command("cat"), InstanceOptions::default())
        .await
        .unwrap();
    assert!(instance.is_alive());
    kill(Pid::from_raw(instance.pid() as i32), Signal::SIGKILL).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while instance.is_alive() {
        assert!(Instant::now() < deadline, "still alive after SIGKILL");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = instance.stop(Duration::from_secs(1)).await.unwrap();
    assert!(!status.success());
}
