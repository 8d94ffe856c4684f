//! Measures the log's durable append rate: N records of 512 bytes appended one per
//! append from C concurrent tasks under `fsync = always`, in a temporary directory
//! (on the disk `TMPDIR` names).
//!
//! ```text
//! cargo run --release -p motif-events --example log_append -- [N] [C] [FSYNC]
//! ```
//!
//! N defaults to 200 000, C to 64, FSYNC (`always`, `never`, `10ms`, ...) to `always`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use motif_events::log::{Fsync, Log, LogOptions};

/// An encoded CloudEvent of typical size.
const RECORD_BYTES: usize = 512;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let records: u64 = args.next().map_or(Ok(200_000), |a| a.parse())?;
    let tasks: u64 = args.next().map_or(Ok(64), |a| a.parse())?;
    let fsync: Fsync = args.next().map_or(Ok(Fsync::Always), |a| a.parse())?;

    let dir = tempfile::tempdir()?;
    let log = Log::open(
        dir.path(),
        LogOptions {
            fsync,
            ..LogOptions::default()
        },
    )?;
    let payload = Bytes::from(vec![b'x'; RECORD_BYTES]);
    let start = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|task| {
            let (log, payload) = (log.clone(), payload.clone());
            // The records shared out evenly, the first tasks taking the remainder.
            let count = records / tasks + u64::from(task < records % tasks);
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    let sent = Instant::now();
                    log.append(vec![payload.clone()]).await?;
                    latencies.push(sent.elapsed());
                }
                Ok::<_, motif_events::log::LogError>(latencies)
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::with_capacity(records as usize);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    let percentile = |p: usize| {
        latencies
            .get(latencies.len() * p / 100)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{records} records of {RECORD_BYTES} bytes from {tasks} tasks, fsync {fsync}: {:.0} records/s \
         ({elapsed:.2?}); append latency p50 {:.2?}, p99 {:.2?}",
        records as f64 / elapsed.as_secs_f64(),
        percentile(50),
        percentile(99),
    );
    log.close()?;
    Ok(())
}
