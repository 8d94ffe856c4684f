//! `motif serve` as a child process of a test, with its state in the test's directory.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use motif_test_support::http;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{invoker, motif_command};

/// A running `motif serve` (killed when dropped); its output goes to `dir/serve.log`.
pub struct Server {
    child: Child,
    /// The gateway's port.
    pub port: u16,
    dir: PathBuf,
}

impl Server {
    /// Starts `motif serve --port PORT --drain 5s ARGS` with the state directory
    /// `dir/state` and `env`, and waits until it is ready and has written `serve.json`.
    pub fn start(dir: &Path, port: u16, args: &[&str], env: &[(&str, &str)]) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("serve.log"))
            .unwrap();
        // A server killed before leaves its serve.json behind.
        let _ = std::fs::remove_file(dir.join("state/serve.json"));
        let port_text = port.to_string();
        let mut all = vec!["serve", "--port", &port_text, "--drain", "5s"];
        all.extend_from_slice(args);
        let mut command = motif_command(dir, &all);
        command
            .env("MOTIF_STATE_DIR", dir.join("state"))
            .env("MOTIF_INVOKER_BIN", invoker())
            .envs(env.iter().copied())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null());
        let server = Server {
            child: command.spawn().unwrap(),
            port,
            dir: dir.to_owned(),
        };
        http::wait_ok(&server.addr(), "/_/ready", Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !dir.join("state/serve.json").exists() {
            assert!(Instant::now() < deadline, "no serve.json: {}", server.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// The gateway's address.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The URL of the function (or `TAG-NAME`) `host`.
    pub fn url(&self, host: &str) -> String {
        format!("http://{host}.localhost:{}/", self.port)
    }

    /// What it has written.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("serve.log")).unwrap_or_default()
    }

    /// Sends `signal` and waits for the exit.
    pub fn stop(mut self, signal: Signal) -> ExitStatus {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
