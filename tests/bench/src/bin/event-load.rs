//! A CloudEvents publisher for `scripts/bench-events.sh`: binary-mode events POSTed over
//! C kept-alive HTTP/1.1 connections, at a fixed rate (open loop) or as fast as the
//! connections allow (closed loop), and a JSON report on stdout.
//!
//! ```text
//! event-load --url URL --rate R --duration D --connections C
//!            [--host HOST] [--type T] [--source S] [--threads N] [--timeout D]
//! ```
//!
//! - Every event has the four required attributes as `ce-*` headers (`ce-id` unique:
//!   this process's id, its start in ms and a sequence number), `Content-Type:
//!   application/json` and about 90 bytes of JSON data (`{"seq":N,...}`). `--host` sets
//!   the `Host` header (default: the URL's authority), `--type` the `ce-type` (default
//!   `dev.motif.bench.load`).
//! - `--rate R` (> 0), open loop: event `i` is due at `start + i / R`, for the `R × D`
//!   events of the duration. A pacer thread releases each event when it is due; the
//!   first connection that is free takes it. When every connection is busy, due events
//!   wait, and their latency is measured from when they were due, not from when they
//!   could be sent: a slow answer is not hidden by the sends it delayed (coordinated
//!   omission). `service_ms` is measured from the actual send; `send_lag_ms` is how late
//!   sends were.
//! - `--rate 0`, closed loop: each connection sends its next event as soon as the last
//!   one is answered, until the duration is over; `achieved_rate` is then the most this
//!   server accepts with C connections.
//!
//! The report: `sent`, `accepted` (2xx), `errors` (other statuses and transport errors
//! or timeouts, the first one's text in `first_error`), `statuses`, `elapsed_s` (from
//! the start to the last answer), `send_rate` (events sent per second of the sending
//! window), `achieved_rate` (accepted per `elapsed_s`), and `latency_ms` p50, p90, p99,
//! p99.9, max and mean of the accepted events. One runtime thread by default
//! (`--threads`), as `wrk -t1`, plus the pacer thread in open loop.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow, bail};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const USAGE: &str = "usage: event-load --url URL --rate R --duration D --connections C \
     [--host HOST] [--type TYPE] [--source SOURCE] [--threads N] [--timeout D]";

/// What the command line asks for.
struct Args {
    url: Uri,
    addr: SocketAddr,
    host: HeaderValue,
    path: Uri,
    rate: f64,
    duration: Duration,
    connections: usize,
    ty: HeaderValue,
    source: HeaderValue,
    threads: usize,
    timeout: Duration,
}

/// "20s", "500ms", "2m" or a number of seconds.
fn duration(text: &str) -> anyhow::Result<Duration> {
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    let n: f64 = number
        .parse()
        .map_err(|_| anyhow!("`{text}` is not a duration (20s, 500ms, 2m)"))?;
    if !(n.is_finite() && n > 0.0) {
        bail!("`{text}`: a duration must be positive");
    }
    Ok(Duration::from_secs_f64(n * scale))
}

fn parse_args() -> anyhow::Result<Args> {
    let mut url = None;
    let mut rate = None;
    let mut dur = None;
    let mut connections = None;
    let mut host = None;
    let mut ty = "dev.motif.bench.load".to_owned();
    let mut source = "/motif/bench/event-load".to_owned();
    let mut threads = 1;
    let mut timeout = Duration::from_secs(30);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--url" => url = Some(value),
            "--rate" => rate = Some(value.parse::<f64>().context("--rate")?),
            "--duration" => dur = Some(duration(&value).context("--duration")?),
            "--connections" => connections = Some(value.parse::<usize>().context("--connections")?),
            "--host" => host = Some(value),
            "--type" => ty = value,
            "--source" => source = value,
            "--threads" => threads = value.parse().context("--threads")?,
            "--timeout" => timeout = duration(&value).context("--timeout")?,
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    let (Some(url), Some(rate), Some(dur), Some(connections)) = (url, rate, dur, connections)
    else {
        bail!("--url, --rate, --duration and --connections are required\n{USAGE}");
    };
    if !(rate.is_finite() && rate >= 0.0) {
        bail!("--rate must be 0 (as fast as possible) or a positive number of events/s");
    }
    if connections == 0 || threads == 0 {
        bail!("--connections and --threads must be at least 1");
    }
    let url: Uri = url
        .parse()
        .with_context(|| format!("`{url}` is not a URL"))?;
    if url.scheme_str() != Some("http") {
        bail!("`{url}`: only http:// URLs");
    }
    let authority = url
        .authority()
        .with_context(|| format!("`{url}` has no host"))?;
    let addr = (authority.host(), authority.port_u16().unwrap_or(80))
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve `{authority}`"))?
        .next()
        .with_context(|| format!("`{authority}` resolves to no address"))?;
    let host =
        HeaderValue::try_from(host.as_deref().unwrap_or(authority.as_str())).context("--host")?;
    let path: Uri = url
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .parse()
        .context("the URL's path")?;
    Ok(Args {
        addr,
        host,
        path,
        rate,
        duration: dur,
        connections,
        ty: HeaderValue::try_from(ty).context("--type")?,
        source: HeaderValue::try_from(source).context("--source")?,
        threads,
        timeout,
        url,
    })
}

/// What every connection reads.
struct Shared {
    args: Args,
    /// The first part of every `ce-id`.
    id_prefix: String,
    start: Instant,
    /// Closed loop: no send starts after it.
    end: Instant,
    /// Open loop: the events due within the duration.
    total: u64,
    /// The next event's number.
    next: AtomicU64,
    /// Open loop: one permit per event that is due.
    due: Semaphore,
}

impl Shared {
    fn open_loop(&self) -> bool {
        self.args.rate > 0.0
    }

    /// When event `i` is due (open loop).
    fn due_at(&self, i: u64) -> Instant {
        self.start + Duration::from_secs_f64(i as f64 / self.args.rate)
    }

    fn request(&self, i: u64) -> Request<Full<Bytes>> {
        let body = format!(
            r#"{{"seq":{i},"name":"motif-bench","payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}"#
        );
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.args.path.clone();
        let h = request.headers_mut();
        h.insert(HOST, self.args.host.clone());
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert("ce-specversion", HeaderValue::from_static("1.0"));
        h.insert(
            "ce-id",
            HeaderValue::try_from(format!("{}-{i}", self.id_prefix))
                .expect("the id is ASCII digits and dashes"),
        );
        h.insert("ce-source", self.args.source.clone());
        h.insert("ce-type", self.args.ty.clone());
        request
    }
}

/// What one connection saw.
#[derive(Default)]
struct Stats {
    sent: u64,
    accepted: u64,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    first_error: Option<String>,
    connects: u64,
    /// Of accepted events, in µs: from when each was due (open loop) or sent (closed).
    latency: Vec<u32>,
    /// Of accepted events, in µs: from the send.
    service: Vec<u32>,
    /// Open loop, in µs: how late each send was.
    send_lag: Vec<u32>,
    last_send: Option<Instant>,
    last_answer: Option<Instant>,
}

impl Stats {
    fn error(&mut self, e: String) {
        self.transport_errors += 1;
        self.first_error.get_or_insert(e);
    }

    fn merge(&mut self, other: Stats) {
        self.sent += other.sent;
        self.accepted += other.accepted;
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.connects += other.connects;
        self.latency.extend(other.latency);
        self.service.extend(other.service);
        self.send_lag.extend(other.send_lag);
        self.last_send = self.last_send.max(other.last_send);
        self.last_answer = self.last_answer.max(other.last_answer);
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

async fn connect(args: &Args) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(args.addr)
        .await
        .map_err(|e| format!("connect {}: {e}", args.addr))?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// One request and its whole answer.
async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<StatusCode, String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok(status)
}

/// One connection: takes events until there are none left, reconnecting after errors.
async fn connection(shared: Arc<Shared>) -> Stats {
    let mut stats = Stats::default();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    loop {
        let due = if shared.open_loop() {
            match shared.due.acquire().await {
                Ok(permit) => permit.forget(),
                Err(_) => break,
            }
            let i = shared.next.fetch_add(1, Relaxed);
            if i >= shared.total {
                break;
            }
            Some((i, shared.due_at(i)))
        } else {
            if Instant::now() >= shared.end {
                break;
            }
            None
        };
        let i = match due {
            Some((i, _)) => i,
            None => shared.next.fetch_add(1, Relaxed),
        };
        stats.sent += 1;
        let mut s = match sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => match connect(&shared.args).await {
                Ok(s) => {
                    stats.connects += 1;
                    s
                }
                Err(e) => {
                    stats.error(e);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let sent = Instant::now();
        stats.last_send = Some(sent);
        if let Some((_, at)) = due {
            stats
                .send_lag
                .push(micros(sent.saturating_duration_since(at)));
        }
        let outcome =
            tokio::time::timeout(shared.args.timeout, exchange(&mut s, shared.request(i))).await;
        let answered = Instant::now();
        match outcome {
            Ok(Ok(status)) => {
                sender = Some(s);
                stats.last_answer = Some(answered);
                *stats.statuses.entry(status.as_u16()).or_default() += 1;
                if status.is_success() {
                    stats.accepted += 1;
                    let from = due.map_or(sent, |(_, at)| at);
                    stats.latency.push(micros(answered - from));
                    stats.service.push(micros(answered - sent));
                }
            }
            Ok(Err(e)) => stats.error(e),
            Err(_) => stats.error(format!(
                "no answer within {:?} (--timeout)",
                shared.args.timeout
            )),
        }
    }
    stats
}

/// Open loop: releases each event when it is due, then wakes every connection to stop.
fn pace(shared: &Shared) {
    let mut released = 0;
    while released < shared.total {
        let elapsed = shared.start.elapsed().as_secs_f64();
        // Events 0..=floor(elapsed × rate) are due.
        let due = ((elapsed * shared.args.rate).floor() as u64 + 1).min(shared.total);
        if due > released {
            shared.due.add_permits((due - released) as usize);
            released = due;
        }
        if released < shared.total {
            let next = shared.due_at(released);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    }
    shared.due.add_permits(shared.args.connections);
}

/// Nearest-rank quantiles of µs values, in ms.
fn summary(values: &mut [u32]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    values.sort_unstable();
    let q = |q: f64| {
        let rank = ((values.len() as f64) * q).ceil().max(1.0) as usize;
        ms(values[rank.min(values.len()) - 1])
    };
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64 / 1e3;
    json!({
        "p50": q(0.50),
        "p90": q(0.90),
        "p99": q(0.99),
        "p999": q(0.999),
        "max": ms(values[values.len() - 1]),
        "mean": round3(mean),
    })
}

fn ms(us: u32) -> f64 {
    round3(f64::from(us) / 1e3)
}

fn round3(v: f64) -> f64 {
    (v * 1e3).round() / 1e3
}

async fn run(args: Args) -> anyhow::Result<Value> {
    let started_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let total = (args.rate * args.duration.as_secs_f64()).round() as u64;
    let connections = args.connections;
    let start = Instant::now();
    let shared = Arc::new(Shared {
        id_prefix: format!("el-{}-{started_ms}", std::process::id()),
        start,
        end: start + args.duration,
        total,
        next: AtomicU64::new(0),
        due: Semaphore::new(0),
        args,
    });
    let pacer = shared.open_loop().then(|| {
        let shared = shared.clone();
        std::thread::spawn(move || pace(&shared))
    });
    let mut tasks = JoinSet::new();
    for _ in 0..connections {
        tasks.spawn(connection(shared.clone()));
    }
    let mut stats = Stats::default();
    while let Some(done) = tasks.join_next().await {
        stats.merge(done.context("a connection task failed")?);
    }
    if let Some(pacer) = pacer {
        pacer
            .join()
            .map_err(|_| anyhow!("the pacer thread panicked"))?;
    }
    let args = &shared.args;
    let elapsed = stats
        .last_answer
        .map_or(Duration::ZERO, |t| t - start)
        .as_secs_f64();
    let window = if shared.open_loop() {
        args.duration.as_secs_f64()
    } else {
        stats
            .last_send
            .map_or(Duration::ZERO, |t| t - start)
            .as_secs_f64()
    };
    let per_s = |n: u64, s: f64| if s > 0.0 { (n as f64 / s).round() } else { 0.0 };
    let statuses: BTreeMap<String, u64> = stats
        .statuses
        .iter()
        .map(|(s, n)| (s.to_string(), *n))
        .collect();
    let non_2xx: u64 = stats
        .statuses
        .iter()
        .filter(|(s, _)| !(200..300).contains(*s))
        .map(|(_, n)| n)
        .sum();
    Ok(json!({
        "url": args.url.to_string(),
        "host": args.host.to_str().unwrap_or_default(),
        "mode": if shared.open_loop() { "open" } else { "closed" },
        "rate": args.rate,
        "connections": args.connections,
        "duration_s": args.duration.as_secs_f64(),
        "sent": stats.sent,
        "accepted": stats.accepted,
        "errors": non_2xx + stats.transport_errors,
        "statuses": statuses,
        "transport_errors": stats.transport_errors,
        "first_error": stats.first_error,
        "connects": stats.connects,
        "elapsed_s": round3(elapsed),
        "send_rate": per_s(stats.sent, window),
        "achieved_rate": per_s(stats.accepted, elapsed),
        "latency_ms": summary(&mut stats.latency),
        "service_ms": summary(&mut stats.service),
        "send_lag_ms": summary(&mut stats.send_lag),
    }))
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    let report = runtime.block_on(run(args))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
