//! Where `motif function create` and `motif function build` get a function's code (a
//! git repository cloned at a revision, or a directory of this machine), and what that
//! code is: its `motif.toml`, else the language and handler told from the flags and the
//! files, as riff told them from `riff.toml`, `--artifact` and `--handler`.
//!
//! # Guarantees
//! - Detection never guesses between two answers: two languages, or two candidate
//!   handler files, are an error naming the flag that settles it.
//! - The function's directory (`--sub-path`) and handler stay inside the checkout: an
//!   absolute path, `..` or a symbolic link out of it is refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use motif_api::{CodeSource, FunctionFile, FunctionSpec, GitSource, Language};
use motif_build::Project;

use crate::error::{CliError, Kind};

/// The flags that say where a function's code is and what it is.
#[derive(Clone, Debug, clap::Args)]
pub struct SourceArgs {
    /// The git repository to build: any URL `git clone` accepts, or a path to one.
    #[arg(
        long,
        env = "MOTIF_GIT_REPO",
        value_name = "URL",
        required_unless_present = "local_path",
        conflicts_with = "local_path"
    )]
    pub git_repo: Option<String>,
    /// The branch, tag or commit of --git-repo [default: its default branch].
    #[arg(
        long,
        env = "MOTIF_GIT_REVISION",
        value_name = "REF",
        requires = "git_repo"
    )]
    pub git_revision: Option<String>,
    /// A directory of this machine to build, as it is (nothing is cloned).
    #[arg(long, env = "MOTIF_LOCAL_PATH", value_name = "DIR")]
    pub local_path: Option<PathBuf>,
    /// The function's directory within the repository [default: its root].
    #[arg(
        long,
        env = "MOTIF_SUB_PATH",
        value_name = "DIR",
        requires = "git_repo"
    )]
    pub sub_path: Option<String>,
    /// The handler's file, relative to the function's directory (`--artifact` is riff's
    /// name for it) [default: motif.toml's, else the language's (`index.js`, `func.py`,
    /// ...), else the one source file of the language].
    #[arg(
        long,
        visible_alias = "artifact",
        env = "MOTIF_HANDLER",
        value_name = "FILE"
    )]
    pub handler: Option<String>,
    /// The handler's language [default: motif.toml's, else told from the files].
    #[arg(short, long, env = "MOTIF_LANGUAGE", value_name = "LANGUAGE")]
    pub language: Option<Language>,
    /// `http` or `cloudevent` [default: motif.toml's, else http].
    #[arg(long, env = "MOTIF_KIND", value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<motif_api::Kind>,
}

fn parse_kind(text: &str) -> Result<motif_api::Kind, String> {
    match text {
        "http" => Ok(motif_api::Kind::Http),
        "cloudevent" => Ok(motif_api::Kind::Cloudevent),
        _ => Err(format!("`{text}` is not a kind (http or cloudevent)")),
    }
}

/// Code on this machine, ready to build.
#[derive(Debug)]
pub struct Checkout {
    /// The function's directory (the checkout's `--sub-path`, or `--local-path`).
    pub dir: PathBuf,
    /// Where it came from, with the revision resolved to its commit (git only).
    pub source: Option<CodeSource>,
}

impl Checkout {
    /// The commit that was checked out (git only).
    pub fn commit(&self) -> Option<&str> {
        self.source.as_ref()?.git.revision.as_deref()
    }
}

/// Clones `--git-repo` into `work` (emptied first) at `--git-revision`, or opens
/// `--local-path`.
pub fn fetch(args: &SourceArgs, work: &Path) -> Result<Checkout, CliError> {
    let Some(url) = &args.git_repo else {
        let path = args
            .local_path
            .as_deref()
            .expect("clap requires --git-repo or --local-path");
        let dir = path.canonicalize().map_err(|e| {
            CliError::new(
                Kind::Input,
                anyhow::Error::new(e).context(format!("cannot open {}", path.display())),
            )
            .hint("give --local-path a function's directory, or build from --git-repo URL")
        })?;
        if !dir.is_dir() {
            return Err(CliError::input(format!(
                "--local-path {} is not a directory",
                path.display()
            )));
        }
        return Ok(Checkout { dir, source: None });
    };
    let source = CodeSource {
        git: GitSource {
            url: url.clone(),
            revision: args.git_revision.clone(),
        },
        sub_path: args.sub_path.clone(),
    };
    if let Some(sub_path) = &args.sub_path {
        motif_api::check_sub_path(sub_path)
            .map_err(|e| CliError::input(format!("--sub-path {e}")))?;
    }
    if let Some(revision) = &args.git_revision
        && revision.starts_with('-')
    {
        return Err(CliError::input(format!(
            "--git-revision `{revision}` is not a branch, tag or commit"
        )));
    }
    if work.exists() {
        std::fs::remove_dir_all(work).map_err(|e| io(e, "empty", work))?;
    }
    if let Some(parent) = work.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(e, "create", parent))?;
    }
    let what = || {
        format!(
            "cannot fetch {url}{}",
            args.git_revision
                .as_deref()
                .map(|r| format!(" at `{r}`"))
                .unwrap_or_default()
        )
    };
    git(
        &["clone", "--quiet", "--", url, &path_str(work)],
        None,
        what,
    )?;
    if let Some(revision) = &args.git_revision {
        git(
            &[
                "-c",
                "advice.detachedHead=false",
                "checkout",
                "--quiet",
                revision,
                "--",
            ],
            Some(work),
            what,
        )?;
    }
    let commit = git(&["rev-parse", "HEAD"], Some(work), what)?;
    let root = work.canonicalize().map_err(|e| io(e, "open", work))?;
    let dir = match &args.sub_path {
        None => root.clone(),
        Some(sub_path) => {
            let dir = root.join(sub_path).canonicalize().map_err(|e| {
                CliError::new(
                    Kind::Input,
                    anyhow::Error::new(e)
                        .context(format!("--sub-path `{sub_path}` is not in {url}")),
                )
                .hint("give the function's directory relative to the repository's root")
            })?;
            if !dir.starts_with(&root) || !dir.is_dir() {
                return Err(CliError::input(format!(
                    "--sub-path `{sub_path}` is not a directory inside {url}"
                )));
            }
            dir
        }
    };
    Ok(Checkout {
        dir,
        source: Some(CodeSource {
            git: GitSource {
                url: url.clone(),
                revision: Some(commit),
            },
            ..source
        }),
    })
}

/// Runs git (in `dir`), returning its trimmed stdout; a failure is a network error with
/// git's own words.
fn git(args: &[&str], dir: Option<&Path>, what: impl Fn() -> String) -> Result<String, CliError> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    let output = command
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| {
            CliError::new(Kind::Other, anyhow::Error::new(e).context("cannot run git"))
                .hint("install git to build functions from a repository")
        })?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(CliError::new(
        Kind::Network,
        anyhow::anyhow!("{}", stderr.trim()).context(what()),
    )
    .hint("check --git-repo (anything `git clone` accepts) and --git-revision"))
}

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn io(error: std::io::Error, verb: &str, path: &Path) -> CliError {
    CliError::new(
        Kind::Other,
        anyhow::Error::new(error).context(format!("cannot {verb} {}", path.display())),
    )
}

/// The function in `checkout`, named `name`: its motif.toml (with the flags over it),
/// else what the flags and its files say.
pub fn project(name: &str, checkout: &Checkout, args: &SourceArgs) -> Result<Project, CliError> {
    let dir = &checkout.dir;
    let mut spec = match FunctionFile::load(dir) {
        Ok(file) => file.spec,
        Err(motif_api::FileError::Missing(_)) => detect(dir, args)?,
        Err(e) => return Err(e.into()),
    };
    if let Some(language) = args.language {
        spec.language = language;
    }
    if let Some(kind) = args.kind {
        spec.kind = kind;
    }
    if let Some(handler) = &args.handler {
        spec.handler = Some(handler.clone());
    }
    check_handler(dir, &spec)?;
    spec.source = checkout.source.clone();
    Ok(Project {
        dir: dir.clone(),
        name: name.to_owned(),
        spec,
        has_file: false,
    })
}

/// The handler file exists inside the function's directory (a Rust function's is its
/// crate, built by cargo).
fn check_handler(dir: &Path, spec: &FunctionSpec) -> Result<(), CliError> {
    if matches!(spec.language, Language::Rust | Language::RustWasm) {
        return if dir.join("Cargo.toml").is_file() {
            Ok(())
        } else {
            Err(CliError::input(format!(
                "a {} function is a Cargo package, and {} has no Cargo.toml",
                spec.language,
                dir.display()
            ))
            .hint("point --sub-path at the package, or give the right --language"))
        };
    }
    let handler = spec
        .handler
        .as_deref()
        .unwrap_or(spec.language.default_handler());
    motif_api::check_sub_path(handler).map_err(|e| CliError::input(format!("--handler {e}")))?;
    let path = dir.join(handler);
    let inside = path
        .canonicalize()
        .is_ok_and(|p| p.starts_with(dir) && p.is_file());
    if inside {
        return Ok(());
    }
    Err(CliError::input(format!(
        "the {} handler `{handler}` is not in {}",
        spec.language,
        dir.display()
    ))
    .hint("name the handler's file with --handler FILE (relative to the function's directory)"))
}

/// The files that say a language, in the order they are looked for.
const MARKERS: [(&str, Language); 8] = [
    ("Cargo.toml", Language::Rust),
    ("tsconfig.json", Language::Ts),
    ("package.json", Language::Js),
    ("func.py", Language::Python),
    ("requirements.txt", Language::Python),
    ("pyproject.toml", Language::Python),
    ("handler.c", Language::CWasm),
    ("handler.sh", Language::Command),
];

/// Source files by extension, for a directory with no marker file.
fn language_of_extension(file: &str) -> Option<Language> {
    let extension = Path::new(file).extension()?.to_str()?;
    Some(match extension {
        "js" | "mjs" | "cjs" => Language::Js,
        "ts" | "mts" => Language::Ts,
        "py" => Language::Python,
        "c" => Language::CWasm,
        "sh" => Language::Command,
        "rs" => Language::Rust,
        _ => return None,
    })
}

/// A spec for a directory without motif.toml: the language (the flag, the handler's
/// extension, the marker files, else the one language of its source files) and the
/// handler (the flag, the language's default file, else its one source file).
fn detect(dir: &Path, args: &SourceArgs) -> Result<FunctionSpec, CliError> {
    let language = match (args.language, &args.handler) {
        (Some(language), _) => language,
        (None, Some(handler)) => language_of_extension(handler).ok_or_else(|| {
            CliError::input(format!(
                "the language of the handler `{handler}` cannot be told from its name"
            ))
            .hint("give it with --language")
        })?,
        (None, None) => language_from_files(dir)?,
    };
    let language = match language {
        Language::Rust if is_wasm_package(dir) => Language::RustWasm,
        other => other,
    };
    let handler = match &args.handler {
        Some(handler) => Some(handler.clone()),
        None => default_or_only_handler(dir, language)?,
    };
    Ok(FunctionSpec {
        language,
        handler,
        ..FunctionSpec::default()
    })
}

fn is_wasm_package(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file()
        && motif_build::rust::Package::read(dir).is_ok_and(|package| package.wasm)
}

/// The top-level files of `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

fn language_from_files(dir: &Path) -> Result<Language, CliError> {
    let present: Vec<(&str, Language)> = MARKERS
        .into_iter()
        .filter(|(file, _)| dir.join(file).is_file())
        .collect();
    fn add(found: &mut Vec<(Language, Vec<String>)>, language: Language, evidence: String) {
        match found.iter_mut().find(|(l, _)| *l == language) {
            Some((_, files)) => files.push(evidence),
            None => found.push((language, vec![evidence])),
        }
    }
    let mut found: Vec<(Language, Vec<String>)> = Vec::new();
    // A TypeScript project has a package.json too.
    let typescript = present.iter().any(|(_, l)| *l == Language::Ts);
    for (file, language) in &present {
        if !(*language == Language::Js && typescript) {
            add(&mut found, *language, (*file).to_owned());
        }
    }
    if found.is_empty() {
        for file in files(dir) {
            if let Some(language) = language_of_extension(&file)
                && language != Language::Rust
            {
                add(&mut found, language, file);
            }
        }
    }
    match found.as_slice() {
        [(language, _)] => Ok(*language),
        [] => Err(CliError::input(format!(
            "the function's language cannot be told: {} has no motif.toml, no Cargo.toml, \
             package.json, tsconfig.json or func.py, and no source file of a language",
            dir.display()
        ))
        .hint("give it with --language (and the handler's file with --handler FILE)")),
        many => {
            let each: Vec<String> = many
                .iter()
                .map(|(language, files)| format!("{language} ({})", files.join(", ")))
                .collect();
            Err(CliError::input(format!(
                "the function's language is ambiguous: {} looks like {}",
                dir.display(),
                each.join(" and ")
            ))
            .hint("choose one with --language"))
        }
    }
}

/// The language's default handler if it is there, else the directory's one source file
/// of the language; a Rust function needs none.
fn default_or_only_handler(dir: &Path, language: Language) -> Result<Option<String>, CliError> {
    if matches!(language, Language::Rust | Language::RustWasm)
        || dir.join(language.default_handler()).is_file()
    {
        return Ok(None);
    }
    let wanted = match language {
        Language::PythonWasm => Language::Python,
        other => other,
    };
    let candidates: Vec<String> = files(dir)
        .into_iter()
        .filter(|f| language_of_extension(f) == Some(wanted))
        .collect();
    match candidates.as_slice() {
        [only] => Ok(Some(only.clone())),
        [] => Err(CliError::input(format!(
            "the {language} handler cannot be found: {} has no {} and no other {language} file",
            dir.display(),
            language.default_handler()
        ))
        .hint("name the handler's file with --handler FILE")),
        many => Err(CliError::input(format!(
            "the {language} handler is ambiguous: {} has {}",
            dir.display(),
            many.join(", ")
        ))
        .hint("name the handler's file with --handler FILE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> SourceArgs {
        SourceArgs {
            git_repo: None,
            git_revision: None,
            local_path: None,
            sub_path: None,
            handler: None,
            language: None,
            kind: None,
        }
    }

    fn dir_with(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        dir
    }

    fn detected(files: &[&str], args: &SourceArgs) -> Result<(Language, Option<String>), String> {
        let dir = dir_with(files);
        detect(dir.path(), args)
            .map(|s| (s.language, s.handler))
            .map_err(|e| format!("{} / {}", e.error, e.hint.unwrap_or_default()))
    }

    #[test]
    fn one_source_file_is_the_handler() {
        assert_eq!(
            detected(&["square.js", "README.md"], &args()).unwrap(),
            (Language::Js, Some("square.js".into()))
        );
        assert_eq!(
            detected(&["func.py", "requirements.txt"], &args()).unwrap(),
            (Language::Python, None)
        );
        assert_eq!(
            detected(&["package.json", "tsconfig.json", "src.ts"], &args())
                .unwrap()
                .0,
            Language::Ts
        );
    }

    #[test]
    fn two_languages_or_two_handlers_name_the_flag() {
        let error = detected(&["package.json", "index.js", "func.py"], &args()).unwrap_err();
        assert!(
            error.contains("ambiguous") && error.contains("--language"),
            "{error}"
        );
        let error = detected(&["a.js", "b.js"], &args()).unwrap_err();
        assert!(
            error.contains("a.js, b.js") && error.contains("--handler"),
            "{error}"
        );
        let error = detected(&["README.md"], &args()).unwrap_err();
        assert!(error.contains("--language"), "{error}");
    }

    #[test]
    fn the_flags_settle_it() {
        let mut flags = args();
        flags.handler = Some("b.js".into());
        assert_eq!(
            detected(&["a.js", "b.js"], &flags).unwrap(),
            (Language::Js, Some("b.js".into()))
        );
        let mut flags = args();
        flags.language = Some(Language::Python);
        assert_eq!(
            detected(&["index.js", "main.py"], &flags).unwrap(),
            (Language::Python, Some("main.py".into()))
        );
    }

    #[test]
    fn a_handler_outside_the_directory_is_refused() {
        let dir = dir_with(&["index.js"]);
        let spec = FunctionSpec {
            language: Language::Js,
            handler: Some("../index.js".into()),
            ..FunctionSpec::default()
        };
        assert!(check_handler(dir.path(), &spec).is_err());
        let spec = FunctionSpec {
            language: Language::Js,
            ..FunctionSpec::default()
        };
        assert!(check_handler(&dir.path().canonicalize().unwrap(), &spec).is_ok());
    }
}
