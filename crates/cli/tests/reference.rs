//! The generated reference pages in `docs/reference/` are what `motif reference` prints
//! now: a change to a command, a flag or a Function field that is not regenerated fails
//! here. `MOTIF_UPDATE_REFERENCE=1` rewrites them instead.

mod common;

use common::{motif, ok, stdout, workspace};

fn current(page: &str) {
    let dir = workspace();
    let out = motif(&dir, &["reference", page]);
    ok(&out);
    let generated = stdout(&out);
    let path = dir.join(format!("docs/reference/{page}.md"));
    if std::env::var_os("MOTIF_UPDATE_REFERENCE").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/reference/{page}.md is stale: regenerate it with \
         `cargo run -p motif-cli -- reference {page} > docs/reference/{page}.md` \
         (or run this test with MOTIF_UPDATE_REFERENCE=1)"
    );
}

#[test]
fn the_cli_reference_is_current() {
    current("cli");
}

#[test]
fn the_function_reference_is_current() {
    current("function");
}
