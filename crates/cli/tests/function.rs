//! `motif function create` on `motif serve` with the real `motif` binary, from a real git
//! repository made here: a commit becomes a served function in one command; a second
//! commit that changes the handler becomes a new revision serving the new code; list,
//! status and delete see the same function as `motif list`. Detection errors name the
//! flag that settles them. And `motif function build`, the cluster's builder, pushes to
//! a real registry and reports the image by digest with the commit.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use motif_test_support::{Registry, http};

fn scratch(name: &str) -> PathBuf {
    scratch_dir("cli-function", name)
}

/// A git repository at `dir` with `files` committed; the commit's hash.
fn commit(repo: &Path, files: &[(&str, &str)], message: &str) -> String {
    std::fs::create_dir_all(repo).unwrap();
    if !repo.join(".git").exists() {
        git(repo, &["init", "--quiet"]);
    }
    for (path, text) in files {
        let path = repo.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "--quiet", "-m", message]);
    git(repo, &["rev-parse", "HEAD"])
}

/// A JavaScript handler answering the number it is sent to the power `power`.
fn power_js(power: u32) -> String {
    format!("exports.handle = (request) => `${{Number(request.text()) ** {power}}}\\n`;\n")
}

/// POSTs `body` to the function `name`, by path.
fn post(server: &Server, name: &str, body: &str) -> (u16, String) {
    let answer = http::request(
        "POST",
        &server.addr(),
        &format!("/{name}/"),
        body.as_bytes(),
    )
    .unwrap();
    (answer.status, answer.text())
}

#[test]
fn a_repository_becomes_a_served_function_and_a_new_commit_a_new_revision() {
    let dir = scratch("repository");
    let repo = dir.join("functions");
    let first = commit(
        &repo,
        &[
            ("fns/square/square.js", &power_js(2)),
            ("README.md", "functions\n"),
        ],
        "square",
    );
    let server = Server::start(&dir, http::free_port(), &[], &[]);
    let url = repo.to_str().unwrap();

    let created = motif_at(
        &dir,
        &[
            "function",
            "create",
            "square",
            "--git-repo",
            url,
            "--sub-path",
            "fns/square",
            "--env",
            "GREETING=hi",
            "--tail",
        ],
    );
    ok(&created);
    let text = stdout(&created);
    assert!(
        text.contains("square is serving square-00001 (new revision)"),
        "{text}"
    );
    assert!(text.contains(&server.url("square")), "{text}");
    assert!(
        text.contains(&first),
        "the source's commit is shown: {text}"
    );
    let progress = stderr(&created);
    assert!(
        progress.contains("square is js with the handler square.js"),
        "{progress}"
    );
    assert!(
        progress.contains("[square-00001"),
        "--tail shows the revision's lines: {progress}"
    );
    assert_eq!(post(&server, "square", "7"), (200, "49\n".to_owned()));

    // Again without --force: it exists.
    let again = motif_at(
        &dir,
        &[
            "function",
            "create",
            "square",
            "--git-repo",
            url,
            "--sub-path",
            "fns/square",
        ],
    );
    assert_eq!(again.status.code(), Some(7), "{}", stderr(&again));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));

    // A second commit changes the handler: a new revision serves the new code.
    let second = commit(&repo, &[("fns/square/square.js", &power_js(3))], "cube");
    let updated = motif_at(
        &dir,
        &[
            "function",
            "create",
            "square",
            "--git-repo",
            url,
            "--sub-path",
            "fns/square",
            "--force",
            "-o",
            "json",
        ],
    );
    ok(&updated);
    let updated: serde_json::Value = serde_json::from_slice(&updated.stdout).unwrap();
    assert_eq!(updated["revision"], "square-00002");
    assert_eq!(updated["language"], "js");
    assert_eq!(updated["handler"], "square.js");
    assert_eq!(updated["source"]["git"]["revision"], second.as_str());
    assert_eq!(updated["source"]["subPath"], "fns/square");
    assert_eq!(post(&server, "square", "7"), (200, "343\n".to_owned()));

    // An older revision by --git-revision.
    let pinned = motif_at(
        &dir,
        &[
            "function",
            "create",
            "square",
            "--git-repo",
            url,
            "--git-revision",
            &first,
            "--sub-path",
            "fns/square",
            "--force",
            "--env",
            "GREETING=hi",
        ],
    );
    ok(&pinned);
    assert_eq!(post(&server, "square", "3"), (200, "9\n".to_owned()));

    // The same function as `motif list` and `motif describe` see.
    let listed = motif_at(&dir, &["function", "list"]);
    ok(&listed);
    assert!(stdout(&listed).contains("square"), "{}", stdout(&listed));
    let status = motif_at(&dir, &["function", "status", "square", "-o", "json"]);
    ok(&status);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let described = motif_at(&dir, &["describe", "square", "-o", "json"]);
    assert_eq!(
        status,
        serde_json::from_slice::<serde_json::Value>(&described.stdout).unwrap()
    );
    assert!(
        status.to_string().contains(&first),
        "the spec keeps its source: {status}"
    );
    assert!(status.to_string().contains("GREETING"), "{status}");

    let text = stdout(&motif_at(&dir, &["function", "status", "square"]));
    assert!(
        text.contains(&format!("Source:    {url} (fns/square) at {first}")),
        "{text}"
    );

    ok(&motif_at(&dir, &["function", "delete", "square"]));
    let gone = motif_at(&dir, &["describe", "square"]);
    assert_eq!(gone.status.code(), Some(6), "{}", stderr(&gone));
    drop(server);
}

#[test]
fn code_that_cannot_be_told_apart_names_the_flag_that_settles_it() {
    let dir = scratch("detection");
    let server = Server::start(&dir, http::free_port(), &[], &[]);
    let mixed = dir.join("mixed");
    commit(
        &mixed,
        &[
            ("package.json", "{}\n"),
            ("index.js", &power_js(2)),
            ("func.py", "def handle(r):\n    return 'py'\n"),
        ],
        "two languages",
    );
    let failed = motif_at(
        &dir,
        &[
            "function",
            "create",
            "mixed",
            "--git-repo",
            mixed.to_str().unwrap(),
        ],
    );
    assert_eq!(failed.status.code(), Some(3), "{}", stderr(&failed));
    let text = stderr(&failed);
    assert!(
        text.contains("ambiguous") && text.contains("hint: choose one with --language"),
        "{text}"
    );

    let two = dir.join("two");
    commit(
        &two,
        &[("a.js", &power_js(2)), ("b.js", &power_js(3))],
        "two handlers",
    );
    let failed = motif_at(
        &dir,
        &[
            "function",
            "create",
            "two",
            "--git-repo",
            two.to_str().unwrap(),
        ],
    );
    assert_eq!(failed.status.code(), Some(3), "{}", stderr(&failed));
    let text = stderr(&failed);
    assert!(
        text.contains("a.js, b.js") && text.contains("--handler FILE"),
        "{text}"
    );
    // --artifact, riff's name for the handler, settles it.
    let settled = motif_at(
        &dir,
        &[
            "function",
            "create",
            "two",
            "--git-repo",
            two.to_str().unwrap(),
            "--artifact",
            "b.js",
        ],
    );
    ok(&settled);
    assert_eq!(post(&server, "two", "2"), (200, "8\n".to_owned()));
    // --local-path builds a directory as it is, without a clone.
    let local = motif_at(
        &dir,
        &[
            "function",
            "create",
            "here",
            "--local-path",
            two.to_str().unwrap(),
            "--handler",
            "a.js",
        ],
    );
    ok(&local);
    assert_eq!(post(&server, "here", "3"), (200, "9\n".to_owned()));

    let escape = motif_at(
        &dir,
        &[
            "function",
            "create",
            "up",
            "--git-repo",
            two.to_str().unwrap(),
            "--sub-path",
            "../..",
        ],
    );
    assert_eq!(escape.status.code(), Some(3), "{}", stderr(&escape));

    let missing = motif_at(
        &dir,
        &[
            "function",
            "create",
            "nothing",
            "--git-repo",
            dir.join("no-such-repo").to_str().unwrap(),
        ],
    );
    assert_eq!(missing.status.code(), Some(5), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("--git-repo"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn the_builder_pushes_the_image_and_reports_its_digest_and_commit() {
    let dir = scratch("builder");
    // A C function built to wasm: its image needs no base image from a registry.
    ok(&motif_at(
        &dir,
        &["create", "-l", "c-wasm", "hello", "--path", "repo"],
    ));
    let repo = dir.join("repo");
    commit(&repo, &[], "hello in C");
    let head = commit(&repo, &[("NOTES.md", "a second commit\n")], "notes");
    let registry = Registry::start().expect("docker-registry starts");
    let report = dir.join("termination-log");
    let target = format!("{}/fns/hello", registry.host());
    let built = motif_at(
        &dir,
        &[
            "function",
            "build",
            "hello",
            "--git-repo",
            repo.to_str().unwrap(),
            "--push",
            &target,
            "--report",
            report.to_str().unwrap(),
        ],
    );
    ok(&built);
    let reported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let image = reported["image"].as_str().unwrap();
    assert!(
        image.starts_with(&format!("{target}@sha256:")),
        "{reported}"
    );
    assert_eq!(reported["commit"], head.as_str());
    // The registry has the manifest of that digest.
    let digest = image.rsplit('@').next().unwrap();
    assert!(
        registry.blob_file(digest).is_file(),
        "{digest} is not in the registry"
    );

    // A failing build reports its error, for the controller to show.
    let failed = motif_at(
        &dir,
        &[
            "function",
            "build",
            "hello",
            "--git-repo",
            repo.to_str().unwrap(),
            "--git-revision",
            "no-such-branch",
            "--push",
            &target,
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(failed.status.code(), Some(5), "{}", stderr(&failed));
    let reported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(
        reported["error"]
            .as_str()
            .unwrap()
            .contains("no-such-branch"),
        "{reported}"
    );
}
