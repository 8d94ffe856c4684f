//! The language-specific build steps shared by `motif run` and image builds: wasm
//! components and modules, TypeScript's compile, a function's own dependencies.

use std::path::{Path, PathBuf};
use std::process::Command;

use motif_api::Language;

use crate::error::Error;
use crate::invokers::Invokers;
use crate::project::Project;
use crate::rust;
use crate::tools;

/// Builds a wasm function into `.motif/build/function.wasm` (or Cargo's output) and
/// returns its path.
pub fn wasm(project: &Project, invokers: &Invokers) -> Result<PathBuf, Error> {
    match project.spec.language {
        Language::RustWasm => rust::Package::read(&project.dir)?.build_wasm(),
        Language::CWasm => {
            let handler = project.check_handler()?;
            let out = project.build_dir()?.join("function.wasm");
            let clang = tools::require(
                "clang",
                "C functions for wasm",
                "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32",
            )?;
            tools::run(
                "clang --target=wasm32-wasi",
                Command::new(clang)
                    .args(["--target=wasm32-wasi", "-O2", "-Wall", "-o"])
                    .arg(&out)
                    .arg(&handler)
                    .current_dir(&project.dir),
            )?;
            Ok(out)
        }
        Language::PythonWasm => {
            let handler = project.check_handler()?;
            let out = project.build_dir()?.join("function.wasm");
            let python = python()?;
            tools::require(
                "componentize-py",
                "Python functions for wasm",
                "python3 -m pip install componentize-py==0.25.1",
            )?;
            tools::run(
                "componentize-py (python3 -m motif.guest)",
                Command::new(python)
                    .args([
                        "-m",
                        "motif.guest",
                        "--kind",
                        project.spec.kind.as_str(),
                        "-o",
                    ])
                    .arg(&out)
                    .arg(&handler)
                    .env("PYTHONPATH", invokers.python())
                    .current_dir(&project.dir),
            )?;
            Ok(out)
        }
        other => Err(Error::input(
            format!("a {other} function does not build to WebAssembly"),
            "use --image for it, or create a rust-wasm, python-wasm or c-wasm function",
        )),
    }
}

/// Installs a JavaScript function's dependencies (`npm install`) when it has a
/// package.json with some and no `node_modules` yet.
pub fn npm_install(project: &Project) -> Result<(), Error> {
    let package = project.dir.join("package.json");
    let Ok(text) = std::fs::read_to_string(&package) else {
        return Ok(());
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let has_deps = ["dependencies", "devDependencies"]
        .iter()
        .any(|k| json[k].as_object().is_some_and(|d| !d.is_empty()));
    if !has_deps || project.dir.join("node_modules").is_dir() {
        return Ok(());
    }
    tools::run(
        "npm install",
        Command::new(npm()?)
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&project.dir),
    )
}

/// Compiles a TypeScript function with its own `tsc` (`npm install` first if its
/// `node_modules` is missing).
pub fn typescript(project: &Project) -> Result<(), Error> {
    npm_install(project)?;
    let npx = tools::require(
        "npx",
        "TypeScript functions",
        "install Node.js 20 or later with npm",
    )?;
    tools::run(
        "tsc",
        Command::new(npx)
            .args(["--no-install", "tsc", "-p", "."])
            .current_dir(&project.dir),
    )
}

/// Installs a JavaScript function's production dependencies (its package.json's
/// `dependencies`) into `into/node_modules` from a copy of its package files, so the
/// function's own `node_modules` (with dev dependencies) is left alone. `false` when it
/// has none.
pub fn node_dependencies(project: &Project, into: &Path) -> Result<bool, Error> {
    let package = project.dir.join("package.json");
    let Ok(text) = std::fs::read_to_string(&package) else {
        return Ok(false);
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::input(
            format!("{} is not valid JSON: {e}", package.display()),
            "fix package.json",
        )
    })?;
    if json["dependencies"]
        .as_object()
        .is_none_or(|d| d.is_empty())
    {
        return Ok(false);
    }
    std::fs::create_dir_all(into).map_err(Error::io("create", into))?;
    for file in ["package.json", "package-lock.json"] {
        let from = project.dir.join(file);
        if from.is_file() {
            std::fs::copy(&from, into.join(file)).map_err(Error::io("copy", &from))?;
        }
    }
    let lock = into.join("package-lock.json").is_file();
    tools::run(
        "npm install --omit=dev",
        Command::new(npm()?)
            .args([
                if lock { "ci" } else { "install" },
                "--omit=dev",
                "--ignore-scripts",
            ])
            .args(["--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(into),
    )?;
    Ok(true)
}

/// Installs a Python function's `requirements.txt` into `into` (for PYTHONPATH); for an
/// image, as wheels for the image's platform and Python. `false` when it has none.
pub fn python_dependencies(
    project: &Project,
    into: &Path,
    target: Option<(&str, &str)>,
) -> Result<bool, Error> {
    let requirements = project.dir.join("requirements.txt");
    let has_any = std::fs::read_to_string(&requirements).is_ok_and(|t| {
        t.lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .any(|l| !l.is_empty())
    });
    if !has_any {
        return Ok(false);
    }
    pip_install(
        &python()?,
        &requirements,
        into,
        target,
        "pip install -r requirements.txt",
    )?;
    Ok(true)
}

/// `pip install --target into -r requirements` (emptying `into` first); with a target
/// `(platform tag, Python version)`, binary wheels for that platform and Python only.
pub(crate) fn pip_install(
    python: &Path,
    requirements: &Path,
    into: &Path,
    target: Option<(&str, &str)>,
    step: &str,
) -> Result<(), Error> {
    let _ = std::fs::remove_dir_all(into);
    let mut pip = Command::new(python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ])
    .args(["--no-compile", "--target"])
    .arg(into)
    .arg("-r")
    .arg(requirements);
    if let Some((platform, version)) = target {
        pip.args(["--only-binary=:all:", "--platform", platform])
            .args(["--python-version", version, "--implementation", "cp"]);
    }
    tools::run(step, &mut pip)
}

/// This machine's Python 3.
pub fn python() -> Result<PathBuf, Error> {
    tools::require(
        "python3",
        "Python functions",
        "install Python 3.11 or later",
    )
}

fn npm() -> Result<PathBuf, Error> {
    tools::require(
        "npm",
        "JavaScript functions",
        "install Node.js 20 or later with npm",
    )
}

/// The `motif-invoker` binary: `explicit`, else `MOTIF_INVOKER_BIN`, else beside the
/// running program, else on PATH.
pub fn invoker(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    if let Some(path) = std::env::var_os("MOTIF_INVOKER_BIN").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    if let Some(sibling) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("motif-invoker")))
        .filter(|p| p.is_file())
    {
        return Ok(sibling);
    }
    tools::which("motif-invoker").ok_or_else(|| Error::MissingTool {
        tool: "motif-invoker".into(),
        what: "wasm and command functions".into(),
        hint: "install motif-invoker beside motif (cargo install --path crates/invoker), \
               or point MOTIF_INVOKER_BIN at it"
            .into(),
    })
}
