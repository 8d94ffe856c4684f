//! Start-up of a function server: `first-request URL_PATH -- CMD ARGS...` starts CMD with
//! `PORT` set to a free port, then sends `GET URL_PATH` over HTTP/1.1 until one answers
//! 200, and prints the time from spawn to that answer and the answer's own latency.
//! Connection attempts are 1 ms apart.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

fn get(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, cmd) = match args.split_first() {
        Some((path, rest)) if rest.first().is_some_and(|a| a == "--") && rest.len() > 1 => {
            (path.clone(), rest[1..].to_vec())
        }
        _ => bail!("usage: first-request URL_PATH -- CMD ARGS..."),
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let spawned = Instant::now();
    let mut child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .env("PORT", port.to_string())
        .env("MOTIF_HOST", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", cmd[0]))?;
    let result = loop {
        let sent = Instant::now();
        match get(port, &path) {
            Some(200) => break Ok((spawned.elapsed(), sent.elapsed())),
            _ if spawned.elapsed() > Duration::from_secs(30) => {
                break Err(anyhow::anyhow!("no 200 within 30 s"));
            }
            _ => std::thread::sleep(Duration::from_millis(1)),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let (total, own) = result?;
    println!(
        "spawn-to-first-200={:.2}ms first-request={:.2}ms",
        total.as_secs_f64() * 1e3,
        own.as_secs_f64() * 1e3
    );
    Ok(())
}
