//! `motif create`, `motif templates list` and `motif repository`: the built-in templates,
//! template repositories in real git repositories made here, and the unsafe cases.

mod common;

use std::path::Path;

use common::{git, motif, ok, stderr, stdout};

const LANGUAGES: [&str; 8] = [
    "rust",
    "rust-wasm",
    "js",
    "ts",
    "python",
    "python-wasm",
    "c-wasm",
    "command",
];

fn temp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("motif-create-")
        .tempdir()
        .unwrap()
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_builtin_template_makes_a_function() {
    let tmp = temp();
    for language in LANGUAGES {
        for template in ["http", "cloudevent"] {
            let name = format!("{language}-{template}");
            let out = motif(
                tmp.path(),
                &[
                    "create",
                    &name,
                    "--language",
                    language,
                    "--template",
                    template,
                    "-o",
                    "json",
                ],
            );
            ok(&out);
            let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(created["name"], name.as_str());
            assert_eq!(created["kind"], template);
            let dir = tmp.path().join(&name);
            let spec = std::fs::read_to_string(dir.join("motif.toml")).unwrap();
            let parsed: toml::Table = toml::from_str(&spec).unwrap();
            assert_eq!(parsed["name"].as_str(), Some(name.as_str()), "{spec}");
            assert_eq!(parsed["language"].as_str(), Some(language), "{spec}");
            assert_eq!(parsed["kind"].as_str(), Some(template), "{spec}");
            let handler = parsed
                .get("handler")
                .and_then(|h| h.as_str())
                .map(str::to_owned)
                .unwrap_or_default();
            assert!(
                handler.is_empty() || dir.join(&handler).is_file(),
                "{name}: {handler}"
            );
            for file in files(&dir) {
                let text = std::fs::read(dir.join(&file)).unwrap();
                let text = String::from_utf8_lossy(&text);
                assert!(
                    !text.contains("{{"),
                    "{name}/{file} was not rendered:\n{text}"
                );
            }
        }
    }
}

#[test]
fn create_output_and_files() {
    let tmp = temp();
    let out = motif(tmp.path(), &["create", "hello", "--language", "command"]);
    ok(&out);
    insta::assert_snapshot!("create_command_http", stdout(&out));
    insta::assert_snapshot!(
        "create_command_http_files",
        files(&tmp.path().join("hello")).join("\n")
    );
    let handler = tmp.path().join("hello/handler.sh");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&handler).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "the handler is executable");
}

#[test]
fn templates_list_shows_every_builtin_template() {
    let tmp = temp();
    let out = motif(tmp.path(), &["templates", "list", "-o", "json"]);
    ok(&out);
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.len(), 16, "{listed:#?}");
    for t in &listed {
        assert!(!t["description"].as_str().unwrap().is_empty());
        assert!(
            !t["params"].as_array().unwrap().is_empty(),
            "{t}: at least one typed parameter"
        );
    }
    let out = motif(tmp.path(), &["templates", "list", "--language", "rust"]);
    ok(&out);
    insta::assert_snapshot!("templates_list_rust", stdout(&out));
}

#[test]
fn typed_params_are_rendered_and_checked() {
    let tmp = temp();
    let out = motif(
        tmp.path(),
        &["templates", "list", "--language", "js", "-o", "json"],
    );
    ok(&out);
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let http = listed.iter().find(|t| t["template"] == "http").unwrap();
    let param = http["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "string")
        .expect("js/http has a string parameter");
    let key = param["name"].as_str().unwrap();
    let value = "zebra-7f3a";
    let out = motif(
        tmp.path(),
        &[
            "create",
            "given",
            "--language",
            "js",
            "--param",
            &format!("{key}={value}"),
        ],
    );
    ok(&out);
    let all: String = files(&tmp.path().join("given"))
        .iter()
        .map(|f| std::fs::read_to_string(tmp.path().join("given").join(f)).unwrap_or_default())
        .collect();
    assert!(all.contains(value), "the parameter's value is rendered");

    let out = motif(
        tmp.path(),
        &["create", "bad", "--language", "js", "--param", "nope=1"],
    );
    assert_eq!(out.status.code(), Some(3));
    insta::assert_snapshot!("create_unknown_param", stderr(&out));
    assert!(!tmp.path().join("bad").exists(), "nothing is written");
}

#[test]
fn input_errors_are_clear() {
    let tmp = temp();
    let cases: [(&str, &[&str], i32); 4] = [
        (
            "bad_name",
            &["create", "Hello_World", "--language", "rust"],
            3,
        ),
        (
            "unknown_template",
            &["create", "x", "--language", "rust", "--template", "grpc"],
            3,
        ),
        (
            "unknown_language",
            &["create", "x", "--language", "cobol"],
            2,
        ),
        (
            "no_repository",
            &[
                "create",
                "x",
                "--language",
                "js",
                "--repository",
                "./nowhere",
            ],
            3,
        ),
    ];
    for (name, args, code) in cases {
        let out = motif(tmp.path(), args);
        assert_eq!(out.status.code(), Some(code), "{name}: {}", stderr(&out));
        insta::assert_snapshot!(format!("error_{name}"), stderr(&out));
    }
}

#[test]
fn a_non_empty_directory_needs_force() {
    let tmp = temp();
    let dir = tmp.path().join("taken");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let out = motif(tmp.path(), &["create", "taken", "--language", "js"]);
    assert_eq!(out.status.code(), Some(7));
    insta::assert_snapshot!("error_not_empty", stderr(&out));
    assert!(!dir.join("index.js").exists());

    let out = motif(
        tmp.path(),
        &["create", "taken", "--language", "js", "--force"],
    );
    ok(&out);
    assert!(dir.join("index.js").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn force_never_writes_through_a_symlink() {
    let tmp = temp();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let dir = tmp.path().join("linked");
    std::fs::create_dir(&dir).unwrap();
    // A rust template writes src/main.rs: make src a link out of the function.
    std::os::unix::fs::symlink(&outside, dir.join("src")).unwrap();
    let out = motif(
        tmp.path(),
        &["create", "linked", "--language", "rust", "--force"],
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).contains("symlink"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing written outside"
    );
}

/// A template repository in a real git repository: `js/hello` with a typed parameter.
fn template_repo(root: &Path) -> std::path::PathBuf {
    let repo = root.join("templates-repo");
    let t = repo.join("js/hello");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        t.join("manifest.toml"),
        "description = \"Says hello\"\nkind = \"http\"\nhandler = \"index.js\"\n\n\
         [params.word]\ntype = \"string\"\ndefault = \"hi\"\ndescription = \"The word\"\n\n\
         [params.times]\ntype = \"integer\"\ndefault = 1\ndescription = \"How often\"\n",
    )
    .unwrap();
    std::fs::write(
        t.join("index.js"),
        "// {{ name }} v1\nexports.handle = () => '{{ word }} '.repeat({{ times }});\n",
    )
    .unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "v1"]);
    git(&repo, &["tag", "v1"]);
    std::fs::write(
        t.join("index.js"),
        "// {{ name }} v2\nexports.handle = () => '{{ word }}';\n",
    )
    .unwrap();
    git(&repo, &["commit", "-qam", "v2"]);
    repo
}

#[test]
fn a_git_template_repository_by_url_and_ref() {
    let tmp = temp();
    let repo = template_repo(tmp.path());
    let url = format!("file://{}", repo.display());

    let out = motif(
        tmp.path(),
        &["templates", "list", "--repository", &url, "-o", "json"],
    );
    ok(&out);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["language"], "js");
    assert_eq!(listed[0]["template"], "hello");
    assert_eq!(listed[0]["params"][1]["name"], "word");

    let v1 = format!("{url}#v1");
    let out = motif(
        tmp.path(),
        &[
            "create",
            "old",
            "--language",
            "js",
            "--template",
            "hello",
            "--repository",
            &v1,
            "--param",
            "times=3",
        ],
    );
    ok(&out);
    let js = std::fs::read_to_string(tmp.path().join("old/index.js")).unwrap();
    assert_eq!(js, "// old v1\nexports.handle = () => 'hi '.repeat(3);\n");
    let spec = std::fs::read_to_string(tmp.path().join("old/motif.toml")).unwrap();
    assert!(spec.contains(&v1), "the origin is recorded: {spec}");

    let out = motif(
        tmp.path(),
        &[
            "create",
            "new",
            "--language",
            "js",
            "--template",
            "hello",
            "--repository",
            &url,
        ],
    );
    ok(&out);
    let js = std::fs::read_to_string(tmp.path().join("new/index.js")).unwrap();
    assert_eq!(js, "// new v2\nexports.handle = () => 'hi';\n");

    let out = motif(
        tmp.path(),
        &[
            "create",
            "typed",
            "--language",
            "js",
            "--template",
            "hello",
            "--repository",
            &url,
            "--param",
            "times=many",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("integer"), "{}", stderr(&out));

    let missing = format!("{url}#no-such-ref");
    let out = motif(tmp.path(), &["templates", "list", "--repository", &missing]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such-ref"), "{}", stderr(&out));
}

#[test]
fn repositories_by_name() {
    let tmp = temp();
    let repo = template_repo(tmp.path());
    let url = format!("file://{}#v1", repo.display());
    let out = motif(tmp.path(), &["repository", "add", "team", &url]);
    ok(&out);
    let out = motif(tmp.path(), &["repository", "list", "-o", "json"]);
    ok(&out);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["name"], "team");
    assert_eq!(listed[0]["templates"][0], "js/hello");

    let out = motif(
        tmp.path(),
        &[
            "create",
            "named",
            "--language",
            "js",
            "--template",
            "hello",
            "--repository",
            "team",
        ],
    );
    ok(&out);
    assert!(
        std::fs::read_to_string(tmp.path().join("named/index.js"))
            .unwrap()
            .contains("v1")
    );

    let out = motif(tmp.path(), &["repository", "add", "team", &url]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));

    // A folder works as well, by name.
    let out = motif(
        tmp.path(),
        &["repository", "add", "local", repo.to_str().unwrap()],
    );
    ok(&out);
    let out = motif(tmp.path(), &["repository", "remove", "team"]);
    ok(&out);
    let out = motif(tmp.path(), &["repository", "list", "-o", "json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "local");
    let out = motif(tmp.path(), &["repository", "remove", "team"]);
    assert_eq!(out.status.code(), Some(3));
}

/// Unsafe templates are refused before anything is written.
#[test]
fn unsafe_templates_are_refused() {
    type Setup = fn(&Path);
    let cases: [(&str, Setup, &[&str]); 5] = [
        (
            "a symlink out of the template",
            |t| {
                std::os::unix::fs::symlink("../../../../etc/passwd", t.join("passwd")).unwrap();
            },
            &[],
        ),
        (
            "an absolute symlink",
            |t| {
                std::os::unix::fs::symlink("/etc/passwd", t.join("passwd")).unwrap();
            },
            &[],
        ),
        (
            "a rendered path that climbs out",
            |t| {
                std::fs::write(t.join("{{ dir }}.js"), "x").unwrap();
            },
            &["--param", "dir=../../escaped"],
        ),
        (
            "a template folder linked out of the repository",
            |t| {
                // Replace the folder by a link to one outside the repository.
                let real = t
                    .parent()
                    .unwrap()
                    .parent()
                    .unwrap()
                    .parent()
                    .unwrap()
                    .join("elsewhere");
                std::fs::create_dir_all(&real).unwrap();
                std::fs::rename(t.join("manifest.toml"), real.join("manifest.toml")).unwrap();
                std::fs::remove_dir_all(t).unwrap();
                std::os::unix::fs::symlink(&real, t).unwrap();
            },
            &[],
        ),
        (
            "a symlink through a parent",
            |t| {
                std::fs::create_dir(t.join("sub")).unwrap();
                std::os::unix::fs::symlink("../..", t.join("sub/up")).unwrap();
            },
            &[],
        ),
    ];
    for (what, setup, extra) in cases {
        let tmp = temp();
        let repo = tmp.path().join("repo");
        let t = repo.join("js/bad");
        std::fs::create_dir_all(&t).unwrap();
        std::fs::write(
            t.join("manifest.toml"),
            "description = \"bad\"\nkind = \"http\"\n[params.dir]\ntype = \"string\"\ndefault = \"x\"\n",
        )
        .unwrap();
        std::fs::write(t.join("index.js"), "exports.handle = () => 'x';\n").unwrap();
        setup(&t);
        git(&repo, &["init", "-q"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "bad"]);
        let url = format!("file://{}", repo.display());
        for source in [repo.to_str().unwrap(), url.as_str()] {
            let mut args = vec![
                "create",
                "victim",
                "--language",
                "js",
                "--template",
                "bad",
                "--repository",
                source,
            ];
            args.extend_from_slice(extra);
            let out = motif(tmp.path(), &args);
            assert_eq!(
                out.status.code(),
                Some(3),
                "{what} from {source}: {}",
                stderr(&out)
            );
            assert!(
                stderr(&out).contains("unsafe") || stderr(&out).contains("outside"),
                "{what}: {}",
                stderr(&out)
            );
            assert!(
                !tmp.path().join("victim").exists(),
                "{what}: nothing is written"
            );
            assert!(
                !tmp.path().join("escaped.js").exists(),
                "{what}: nothing escapes"
            );
        }
    }
}
