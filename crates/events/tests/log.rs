//! The durable log and the cursors, on real files in a temporary directory.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use motif_events::log::{Cursors, Fsync, Log, LogError, LogOptions, MAX_RECORD_BYTES};

fn options(segment_bytes: u64, cache_records: usize) -> LogOptions {
    LogOptions {
        fsync: Fsync::Always,
        segment_bytes,
        cache_records,
    }
}

/// Record `i`: its number, then a length that varies with it, so that a record read
/// at the wrong offset or cut short shows.
fn record(i: u64) -> Bytes {
    let mut text = format!("record {i}:");
    text.extend(std::iter::repeat_n(
        char::from(b'a' + (i % 26) as u8),
        (i % 97) as usize,
    ));
    Bytes::from(text)
}

/// The segment files of `dir`, oldest first.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
}

/// Appends records `from..to`, `per` to an append, checking each offset.
async fn append_range(log: &Log, from: u64, to: u64, per: u64) {
    let mut next = from;
    while next < to {
        let end = (next + per).min(to);
        let offset = log.append((next..end).map(record).collect()).await.unwrap();
        assert_eq!(offset, next);
        next = end;
    }
}

/// Checks that the log holds exactly records `0..head`.
fn assert_holds(log: &Log, head: u64) {
    assert_eq!(log.head(), head);
    let records = log.read(0, usize::MAX).unwrap();
    let expected: Vec<(u64, Bytes)> = (0..head).map(|i| (i, record(i))).collect();
    assert_eq!(records, expected);
}

#[tokio::test]
async fn appended_records_read_back_across_segment_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(1024, 65_536)).unwrap();
    assert_eq!((log.first(), log.head()), (0, 0));
    append_range(&log, 0, 100, 3).await;
    append_range(&log, 100, 200, 1).await;
    assert_holds(&log, 200);
    for from in [0, 1, 57, 150, 199] {
        for max in [1, 7, 1000] {
            let records = log.read(from, max).unwrap();
            let to = (from + max as u64).min(200);
            assert_eq!(
                records,
                (from..to).map(|i| (i, record(i))).collect::<Vec<_>>()
            );
        }
    }
    let files = segments(dir.path());
    assert!(files.len() > 10, "{} segments", files.len());
    assert_eq!(files[0].file_name().unwrap(), "00000000000000000000.log");
    for file in &files {
        // No segment passes the limit: every append here is smaller than a segment.
        assert!(std::fs::metadata(file).unwrap().len() <= 1024);
    }
}

#[tokio::test]
async fn segments_are_named_by_their_first_offset() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(1024, 0)).unwrap();
    append_range(&log, 0, 100, 2).await;
    log.close().unwrap();
    let log = Log::open(dir.path(), options(1024, 0)).unwrap();
    for file in segments(dir.path()) {
        let name = file.file_stem().unwrap().to_str().unwrap();
        assert_eq!(name.len(), 20);
        let base: u64 = name.parse().unwrap();
        assert_eq!(log.read(base, 1).unwrap()[0], (base, record(base)));
    }
}

#[tokio::test]
async fn reopening_keeps_every_record_and_continues_the_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(2048, 65_536)).unwrap();
    append_range(&log, 0, 50, 4).await;
    drop(log);
    let log = Log::open(dir.path(), options(2048, 65_536)).unwrap();
    assert_holds(&log, 50);
    append_range(&log, 50, 80, 4).await;
    drop(log);
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_holds(&log, 80);
}

/// Writes records `0..10` in one segment, lets `damage` change the file, reopens, and
/// checks that exactly `kept` records remain, that appends go on from there, and that
/// the file was cut back.
async fn recovers_from(damage: impl FnOnce(&Path), kept: u64) {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    append_range(&log, 0, 10, 1).await;
    log.close().unwrap();
    let file = &segments(dir.path())[0];
    let kept_bytes: u64 = (0..kept).map(|i| 8 + record(i).len() as u64).sum();
    damage(file);

    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_holds(&log, kept);
    assert_eq!(std::fs::metadata(file).unwrap().len(), kept_bytes);
    append_range(&log, kept, 12, 1).await;
    drop(log);
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_holds(&log, 12);
}

#[tokio::test]
async fn a_tail_cut_mid_record_is_dropped_on_open() {
    let cut = |file: &Path| {
        let len = std::fs::metadata(file).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(file)
            .unwrap()
            .set_len(len - 3)
            .unwrap();
    };
    recovers_from(cut, 9).await;
    let cut_in_header = |file: &Path| {
        let len = std::fs::metadata(file).unwrap().len();
        let last = 8 + record(9).len() as u64;
        OpenOptions::new()
            .write(true)
            .open(file)
            .unwrap()
            .set_len(len - last + 5)
            .unwrap();
    };
    recovers_from(cut_in_header, 9).await;
}

#[tokio::test]
async fn garbage_after_the_last_record_is_dropped_on_open() {
    let append = |bytes: Vec<u8>| {
        move |file: &Path| {
            OpenOptions::new()
                .append(true)
                .open(file)
                .unwrap()
                .write_all(&bytes)
                .unwrap();
        }
    };
    recovers_from(append(vec![0xab; 50]), 10).await;
    // What a file system leaves in a torn extension of the file.
    recovers_from(append(vec![0; 4096]), 10).await;
    // A well-formed header whose payload is missing.
    let mut header = 20u32.to_le_bytes().to_vec();
    header.extend(crc32fast::hash(&[7; 20]).to_le_bytes());
    recovers_from(append(header), 10).await;
}

#[tokio::test]
async fn a_flipped_byte_in_the_last_record_drops_it_on_open() {
    let flip = |file: &Path| {
        let mut bytes = std::fs::read(file).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x01;
        std::fs::write(file, bytes).unwrap();
    };
    recovers_from(flip, 9).await;
}

#[tokio::test]
async fn a_corrupt_record_in_an_older_segment_fails_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(512, 0)).unwrap();
    append_range(&log, 0, 40, 1).await;
    log.close().unwrap();
    let first = &segments(dir.path())[0];
    let mut bytes = std::fs::read(first).unwrap();
    bytes[12] ^= 0xff;
    std::fs::write(first, bytes).unwrap();
    match Log::open(dir.path(), options(512, 0)) {
        Err(LogError::Corrupt { path, position, .. }) => assert_eq!((&path, position), (first, 0)),
        other => panic!("expected a corrupt segment, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_segment_in_the_middle_fails_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(512, 0)).unwrap();
    append_range(&log, 0, 40, 1).await;
    log.close().unwrap();
    let files = segments(dir.path());
    assert!(files.len() >= 3);
    std::fs::remove_file(&files[1]).unwrap();
    let error = Log::open(dir.path(), options(512, 0)).unwrap_err();
    assert!(matches!(error, LogError::Corrupt { .. }), "{error:?}");
}

#[tokio::test]
async fn a_record_damaged_while_open_fails_the_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(512, 0)).unwrap();
    append_range(&log, 0, 40, 1).await;
    let first = &segments(dir.path())[0];
    let mut bytes = std::fs::read(first).unwrap();
    bytes[12] ^= 0xff;
    std::fs::write(first, bytes).unwrap();
    let error = log.read(0, 1).unwrap_err();
    assert!(matches!(error, LogError::Corrupt { .. }), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_get_unique_contiguous_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(16 << 10, 100)).unwrap();
    let tasks: Vec<_> = (0..64u64)
        .map(|task| {
            let log = log.clone();
            tokio::spawn(async move {
                let mut appended = Vec::new();
                for i in 0..40u64 {
                    let count = 1 + (task + i) % 3;
                    let records: Vec<Bytes> = (0..count)
                        .map(|n| Bytes::from(format!("task {task} append {i} record {n}")))
                        .collect();
                    let offset = log.append(records.clone()).await.unwrap();
                    appended.extend((offset..).zip(records));
                }
                appended
            })
        })
        .collect();
    let mut appended = Vec::new();
    for task in tasks {
        appended.extend(task.await.unwrap());
    }
    appended.sort_by_key(|(offset, _)| *offset);
    let offsets: Vec<u64> = appended.iter().map(|(offset, _)| *offset).collect();
    assert_eq!(offsets, (0..appended.len() as u64).collect::<Vec<_>>());
    assert_eq!(log.head(), appended.len() as u64);
    assert_eq!(log.read(0, usize::MAX).unwrap(), appended);
    drop(log);
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(log.read(0, usize::MAX).unwrap(), appended);
}

#[tokio::test]
async fn retain_from_deletes_only_segments_wholly_before_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(512, 65_536)).unwrap();
    append_range(&log, 0, 60, 1).await;
    let before = segments(dir.path());
    let second: u64 = before[1]
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let third: u64 = before[2]
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();

    // The second segment still holds records at and after `third - 1`.
    assert_eq!(log.retain_from(third - 1).unwrap(), 1);
    assert_eq!(log.first(), second);
    assert_eq!(segments(dir.path()), before[1..]);
    assert_eq!(log.retain_from(third - 1).unwrap(), 0);

    assert_eq!(log.retain_from(third).unwrap(), 1);
    assert_eq!(log.first(), third);

    // Never the active segment, even when every record is before the offset.
    let deleted = log.retain_from(u64::MAX).unwrap();
    assert_eq!(deleted, before.len() - 3);
    let active = segments(dir.path());
    assert_eq!(active, before[before.len() - 1..]);
    let base: u64 = active[0]
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(log.first(), base);
    assert_eq!(
        log.read(base, 100).unwrap(),
        (base..60).map(|i| (i, record(i))).collect::<Vec<_>>()
    );

    drop(log);
    let log = Log::open(dir.path(), options(512, 65_536)).unwrap();
    assert_eq!((log.first(), log.head()), (base, 60));
    append_range(&log, 60, 70, 1).await;
}

#[tokio::test]
async fn reading_before_the_first_retained_offset_is_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(512, 65_536)).unwrap();
    append_range(&log, 0, 60, 1).await;
    log.retain_from(30).unwrap();
    let first = log.first();
    assert!(first > 0 && first <= 30);
    match log.read(first - 1, 10) {
        Err(LogError::Trimmed { first: reported }) => assert_eq!(reported, first),
        other => panic!("expected Trimmed, got {other:?}"),
    }
    assert!(matches!(log.read(0, 10), Err(LogError::Trimmed { .. })));
    assert_eq!(log.read(first, 1).unwrap(), vec![(first, record(first))]);
}

#[tokio::test]
async fn reads_at_or_past_the_head_are_empty() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert!(log.read(0, 10).unwrap().is_empty());
    append_range(&log, 0, 5, 5).await;
    assert!(log.read(5, 10).unwrap().is_empty());
    assert!(log.read(1000, 10).unwrap().is_empty());
    assert!(log.read(2, 0).unwrap().is_empty());
}

#[tokio::test]
async fn watch_wakes_a_tailing_reader() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    let mut head = log.watch();
    let reader = {
        let log = log.clone();
        tokio::spawn(async move {
            let next = *head.wait_for(|head| *head > 0).await.unwrap();
            (next, log.read(0, 10).unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!reader.is_finished());
    log.append(vec![record(0), record(1)]).await.unwrap();
    let (next, records) = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next, 2);
    assert_eq!(records, vec![(0, record(0)), (1, record(1))]);
}

#[tokio::test]
async fn records_evicted_from_the_cache_are_read_from_disk() {
    for cache_records in [0, 1, 4] {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), options(700, cache_records)).unwrap();
        append_range(&log, 0, 100, 3).await;
        assert_holds(&log, 100);
        for from in 0..100 {
            for max in [1, 2, 5, 40] {
                let to = (from + max as u64).min(100);
                let expected: Vec<_> = (from..to).map(|i| (i, record(i))).collect();
                assert_eq!(
                    log.read(from, max).unwrap(),
                    expected,
                    "from {from} max {max}"
                );
            }
        }
    }
}

#[tokio::test]
async fn records_read_from_disk_in_a_large_segment_use_the_index() {
    // Enough records that the sparse index has many entries within one segment.
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(64 << 20, 10)).unwrap();
    append_range(&log, 0, 5000, 50).await;
    assert_eq!(segments(dir.path()).len(), 1);
    for from in [0, 1, 999, 2500, 4990, 4999] {
        let to = (from + 300).min(5000);
        let expected: Vec<_> = (from..to).map(|i| (i, record(i))).collect();
        assert_eq!(log.read(from, 300).unwrap(), expected);
    }
    drop(log);
    let log = Log::open(dir.path(), options(64 << 20, 10)).unwrap();
    assert_eq!(
        log.read(3333, 2).unwrap(),
        vec![(3333, record(3333)), (3334, record(3334))]
    );
}

#[tokio::test]
async fn empty_and_oversized_records_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), options(1024, 65_536)).unwrap();
    assert!(matches!(
        log.append(vec![record(0), Bytes::new()]).await,
        Err(LogError::Empty)
    ));
    let huge = Bytes::from(vec![1; MAX_RECORD_BYTES + 1]);
    match log.append(vec![huge]).await {
        Err(LogError::TooLarge { size, max }) => {
            assert_eq!((size, max), (MAX_RECORD_BYTES + 1, MAX_RECORD_BYTES));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(log.head(), 0);
    assert_eq!(log.append(vec![]).await.unwrap(), 0);

    // The largest record fits, in a segment of its own.
    let largest = Bytes::from(vec![7; MAX_RECORD_BYTES]);
    assert_eq!(log.append(vec![record(0)]).await.unwrap(), 0);
    assert_eq!(log.append(vec![largest.clone()]).await.unwrap(), 1);
    assert_eq!(log.append(vec![record(2)]).await.unwrap(), 2);
    drop(log);
    let log = Log::open(dir.path(), options(1024, 65_536)).unwrap();
    assert_eq!(log.read(1, 1).unwrap(), vec![(1, largest)]);
    assert_eq!(segments(dir.path()).len(), 3);
}

#[tokio::test]
async fn a_failed_write_acknowledges_nothing() {
    // A segment that is `/dev/full`: every write fails with ENOSPC, and the partial
    // write cannot be cut off (a device has no length), so the log stops too.
    let full = Path::new("/dev/full");
    if !full.exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(full, dir.path().join("00000000000000000000.log")).unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    match log.append(vec![record(0)]).await {
        Err(LogError::Io { action, source, .. }) => {
            assert_eq!(action, "write");
            assert_eq!(source.kind(), std::io::ErrorKind::StorageFull);
        }
        other => panic!("expected a write error, got {other:?}"),
    }
    assert_eq!(log.head(), 0);
    assert!(log.read(0, 10).unwrap().is_empty());
    match log.append(vec![record(0)]).await {
        Err(LogError::Stopped { reason }) => assert!(reason.contains("cannot write"), "{reason}"),
        other => panic!("expected the log to have stopped, got {other:?}"),
    }
    assert!(matches!(log.close(), Err(LogError::Stopped { .. })));
}

#[tokio::test]
async fn closing_fails_later_appends_from_every_handle() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    let other = log.clone();
    append_range(&log, 0, 3, 1).await;
    log.close().unwrap();
    assert!(matches!(
        other.append(vec![record(3)]).await,
        Err(LogError::Closed)
    ));
    // Reads go on from what was written.
    assert_eq!(other.read(0, 10).unwrap().len(), 3);
}

#[tokio::test]
async fn a_directory_opens_once_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(log.dir(), dir.path());
    match Log::open(dir.path(), LogOptions::default()) {
        Err(LogError::Locked { path }) => assert_eq!(path, dir.path()),
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(log);
    Log::open(dir.path(), LogOptions::default()).unwrap();
}

#[tokio::test]
async fn interval_and_never_policies_keep_records_across_a_reopen() {
    for fsync in [Fsync::Interval(Duration::from_millis(5)), Fsync::Never] {
        let dir = tempfile::tempdir().unwrap();
        let options = LogOptions {
            fsync,
            segment_bytes: 1024,
            cache_records: 16,
        };
        let log = Log::open(dir.path(), options.clone()).unwrap();
        append_range(&log, 0, 50, 2).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        append_range(&log, 50, 60, 2).await;
        drop(log);
        let log = Log::open(dir.path(), options).unwrap();
        assert_holds(&log, 60);
    }
}

#[test]
fn fsync_policies_parse_and_display() {
    let cases = [
        ("always", Fsync::Always),
        ("never", Fsync::Never),
        ("100ms", Fsync::Interval(Duration::from_millis(100))),
        ("1s", Fsync::Interval(Duration::from_secs(1))),
        ("250us", Fsync::Interval(Duration::from_micros(250))),
    ];
    for (text, fsync) in cases {
        assert_eq!(text.parse::<Fsync>().unwrap(), fsync);
        assert_eq!(fsync.to_string(), text);
    }
    assert_eq!("1000ms".parse::<Fsync>().unwrap().to_string(), "1s");
    for bad in [
        "",
        "sometimes",
        "0ms",
        "ms",
        "10",
        "1.5s",
        "-1s",
        "10 ms",
        "Always",
    ] {
        let error = bad.parse::<Fsync>().unwrap_err().to_string();
        assert!(error.contains("`always`, `never`"), "{bad}: {error}");
    }
}

#[test]
fn cursors_round_trip_through_their_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cursors.json");
    let cursors = Cursors::open(&path).unwrap();
    assert_eq!((cursors.get("a"), cursors.min()), (None, None));
    cursors.set("a", 10);
    cursors.set("b", 3);
    cursors.set("c", 7);
    cursors.remove("c");
    assert_eq!((cursors.get("a"), cursors.min()), (Some(10), Some(3)));
    // Nothing is written before a flush.
    assert!(!path.exists());
    cursors.flush().unwrap();

    let reopened = Cursors::open(&path).unwrap();
    let expected: std::collections::BTreeMap<String, u64> =
        [("a".to_owned(), 10), ("b".to_owned(), 3)].into();
    assert_eq!(reopened.all(), expected);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json, serde_json::json!({"a": 10, "b": 3}));

    // Clones share the offsets.
    let clone = reopened.clone();
    clone.remove("b");
    assert_eq!(reopened.min(), Some(10));
    reopened.flush().unwrap();
    assert_eq!(Cursors::open(&path).unwrap().all().len(), 1);
}

#[test]
fn cursors_flush_replaces_the_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cursors.json");
    let cursors = Cursors::open(&path).unwrap();
    cursors.set("a", 1);
    cursors.flush().unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();

    // A temporary file left by a crash mid-flush is neither read nor in the way.
    std::fs::write(dir.path().join("cursors.json.tmp"), "{\"half").unwrap();
    assert_eq!(Cursors::open(&path).unwrap().get("a"), Some(1));
    cursors.set("a", 2);
    cursors.flush().unwrap();
    // A new file was renamed over the old one, rather than the old one rewritten.
    assert_ne!(std::fs::metadata(&path).unwrap().ino(), inode);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["cursors.json"]);
    assert_eq!(Cursors::open(&path).unwrap().get("a"), Some(2));

    // Without a change, a flush writes nothing.
    let inode = std::fs::metadata(&path).unwrap().ino();
    cursors.set("a", 2);
    cursors.flush().unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
}

#[test]
fn a_cursors_file_that_is_not_json_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cursors.json");
    std::fs::write(&path, "{\"a\": -1}").unwrap();
    assert!(matches!(
        Cursors::open(&path),
        Err(LogError::BadCursors { .. })
    ));
}

/// The environment variable that makes [`crash_child`] the writer of the crash test:
/// the log's directory and the round, as `DIR;ROUND`.
const CRASH_CHILD: &str = "MOTIF_LOG_CRASH_CHILD";

/// The record a crash child appends: who appended it, so that the parent can tell it.
fn crash_record(round: u32, task: u32, seq: u32) -> Bytes {
    let mut text = format!("round {round} task {task} seq {seq} ");
    text.extend(std::iter::repeat_n('x', (seq % 300) as usize));
    Bytes::from(text)
}

/// Not a test on its own: the child process of
/// [`acknowledged_records_survive_a_sigkill_of_the_writer`]. It appends records from
/// 16 tasks until killed and prints `@ack OFFSET ROUND TASK SEQ` for each acknowledged one.
#[test]
fn crash_child() {
    let Ok(spec) = std::env::var(CRASH_CHILD) else {
        return;
    };
    let (dir, round) = spec.rsplit_once(';').unwrap();
    let round: u32 = round.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let log = Log::open(Path::new(dir), options(256 << 10, 1024)).unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|task| {
                let log = log.clone();
                tokio::spawn(async move {
                    for seq in 0.. {
                        let offset = log
                            .append(vec![crash_record(round, task, seq)])
                            .await
                            .unwrap();
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "@ack {offset} {round} {task} {seq}").unwrap();
                        out.flush().unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
}

/// Runs a crash child on `dir`, kills it with SIGKILL after `acks` acknowledgements,
/// and returns every acknowledgement it printed: (offset, record).
fn run_and_kill(dir: &Path, round: u32, acks: usize) -> Vec<(u64, Bytes)> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CRASH_CHILD, format!("{};{round}", dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acked = Vec::new();
    let mut line = String::new();
    let mut killed = false;
    loop {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        // A line cut short by the kill was not printed whole: skip it.
        let Some(ack) = line
            .strip_suffix('\n')
            .and_then(|l| l.split("@ack ").nth(1))
        else {
            continue;
        };
        let fields: Vec<u64> = ack.split(' ').map(|f| f.parse().unwrap()).collect();
        let [offset, round, task, seq] = fields[..] else {
            panic!("bad ack line {line:?}");
        };
        acked.push((offset, crash_record(round as u32, task as u32, seq as u32)));
        if acked.len() == acks && !killed {
            // SIGKILL: no destructor runs, the writer stops wherever it is.
            child.kill().unwrap();
            killed = true;
        }
    }
    let status = child.wait().unwrap();
    assert!(
        killed,
        "the child exited on its own ({status}) after {} acks",
        acked.len()
    );
    acked
}

#[test]
fn acknowledged_records_survive_a_sigkill_of_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked = Vec::new();
    for round in 0..3 {
        acked.extend(run_and_kill(dir.path(), round, 3000));
        let log = Log::open(dir.path(), options(256 << 10, 1024)).unwrap();
        for (offset, record) in &acked {
            assert_eq!(
                log.read(*offset, 1).unwrap(),
                vec![(*offset, record.clone())]
            );
        }
        // Nothing else is in the log but whole records of the children.
        for (offset, record) in log.read(0, usize::MAX).unwrap() {
            let text = std::str::from_utf8(&record).unwrap();
            assert!(text.starts_with("round "), "record {offset}: {text:?}");
        }
        let unique: std::collections::BTreeSet<u64> = acked.iter().map(|(o, _)| *o).collect();
        assert_eq!(
            unique.len(),
            acked.len(),
            "an offset was acknowledged twice"
        );
    }
}
