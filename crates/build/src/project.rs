//! A function's directory: its `motif.toml`, or, without one, what its files say it is
//! (a Cargo package, a package.json, a Python module, a C file, an executable).

use std::path::{Path, PathBuf};

use motif_api::{FunctionFile, FunctionSpec, Kind, Language};

use crate::error::Error;

/// A function's directory and what it is.
#[derive(Clone, Debug)]
pub struct Project {
    /// The directory.
    pub dir: PathBuf,
    /// The function's name.
    pub name: String,
    /// Its spec (from `motif.toml`, or detected).
    pub spec: FunctionSpec,
    /// Whether the spec came from a `motif.toml` (a build can record its digest there).
    pub has_file: bool,
}

impl Project {
    /// Reads `dir/motif.toml`, or detects the function from its files.
    pub fn load(dir: &Path) -> Result<Project, Error> {
        let dir = &dir.canonicalize().map_err(Error::io("open", dir))?;
        match FunctionFile::load(dir) {
            Ok(file) => Ok(Project {
                dir: dir.to_owned(),
                name: file.name,
                spec: file.spec,
                has_file: true,
            }),
            Err(motif_api::FileError::Missing(_)) => detect(dir),
            Err(e) => Err(e.into()),
        }
    }

    /// The handler's path, relative to the directory.
    pub fn handler(&self) -> &str {
        self.spec
            .handler
            .as_deref()
            .unwrap_or(self.spec.language.default_handler())
    }

    /// Where builds write their outputs: `.motif/build` (with a `.gitignore` in `.motif`).
    pub fn build_dir(&self) -> Result<PathBuf, Error> {
        let motif = self.dir.join(".motif");
        let dir = motif.join("build");
        std::fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
        let ignore = motif.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "*\n").map_err(Error::io("write", &ignore))?;
        }
        Ok(dir)
    }

    /// Checks that the handler file exists.
    pub fn check_handler(&self) -> Result<PathBuf, Error> {
        let path = self.dir.join(self.handler());
        if path.is_file() {
            Ok(path)
        } else {
            Err(Error::input(
                format!(
                    "the {} handler {} does not exist",
                    self.spec.language,
                    path.display()
                ),
                "set `handler` in motif.toml to the handler's file",
            ))
        }
    }
}

/// Detects a function without `motif.toml` from its files.
fn detect(dir: &Path) -> Result<Project, Error> {
    if !dir.is_dir() {
        return Err(Error::input(
            format!("{} is not a directory", dir.display()),
            "give a function's directory",
        ));
    }
    let has = |file: &str| dir.join(file).is_file();
    let dir_name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "function".into());
    let (language, handler) = if has("Cargo.toml") {
        let rust = crate::rust::Package::read(dir)?;
        let language = if rust.wasm {
            Language::RustWasm
        } else {
            Language::Rust
        };
        return Ok(Project {
            dir: dir.to_owned(),
            name: sanitize(&rust.name),
            spec: FunctionSpec {
                language,
                ..FunctionSpec::default()
            },
            has_file: false,
        });
    } else if has("tsconfig.json") {
        (Language::Ts, None)
    } else if has("package.json") || has("index.js") {
        (Language::Js, None)
    } else if has("func.py") {
        (Language::Python, None)
    } else if has("handler.c") {
        (Language::CWasm, None)
    } else if has("handler.sh") {
        (Language::Command, None)
    } else {
        return Err(Error::input(
            format!(
                "{} has no motif.toml, and its language cannot be told from its files",
                dir.display()
            ),
            "create a function with `motif create NAME --language LANGUAGE`, or write a motif.toml naming `name` and `language`",
        ));
    };
    Ok(Project {
        dir: dir.to_owned(),
        name: sanitize(&dir_name),
        spec: FunctionSpec {
            language,
            kind: Kind::Http,
            handler,
            ..FunctionSpec::default()
        },
        has_file: false,
    })
}

/// A name made into a DNS-1123 label as well as it goes.
fn sanitize(name: &str) -> String {
    let mut out: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out = out.trim_matches('-').chars().take(63).collect();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert_str(0, "fn-");
    }
    out.trim_end_matches('-').to_owned()
}
