//! The examples of `examples/`, run as their READMEs say, with the workspace's `motif`:
//! the order pipeline on `motif serve` (events through three languages, and a dead
//! letter).

mod common;

use std::time::{Duration, Instant};

use common::readme::{run_shell, shell_blocks};
use common::*;
use motif_test_support::http;

/// Polls `motif logs NAME` until a line contains `wanted`.
fn wait_for_log(dir: &std::path::Path, name: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let logs = stdout(&motif_at(dir, &["logs", name]));
        if let Some(line) = logs.lines().find(|l| l.contains(wanted)) {
            return line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no `{wanted}` in the logs of {name} within 60 s:\n{logs}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_order_pipeline_runs_as_its_readme_says() {
    let dir = scratch_dir("cli-examples", "order-pipeline");
    let server = Server::start(&dir, http::free_port(), &[], &[]);
    let root = workspace();
    let readme = root.join("examples/order-pipeline/README.md");
    let blocks = shell_blocks(&readme);
    assert_eq!(blocks.len(), 1, "the README has one shell block");
    let out = run_shell(&blocks[0], &root, &dir.join("state"));
    assert!(
        out.status.success(),
        "the README's commands failed:\n{}\n{}\n{}",
        stdout(&out),
        stderr(&out),
        server.log()
    );
    let notified = wait_for_log(&dir, "notify", "notified ada@example.com");
    assert!(
        notified.contains("of invoice INV-A-1 for 25.00"),
        "{notified}"
    );
    let dead = wait_for_log(&dir, "dead-letters", "dead letter:");
    assert!(
        dead.contains("com.example.order.placed B-2 from /shop: 422") && dead.contains("no items"),
        "{dead}"
    );
    // The valid order never reached the dead letters.
    let logs = stdout(&motif_at(&dir, &["logs", "dead-letters"]));
    assert!(!logs.contains("A-1"), "{logs}");
}
