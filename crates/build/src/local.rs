//! What `motif run` starts: the function behind its invoker as a process on this
//! machine, built first where the language needs a build.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use motif_api::Language;

use crate::error::Error;
use crate::invokers::Invokers;
use crate::project::Project;
use crate::{rust, steps};

/// A process to start: program, arguments, environment, working directory.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Environment added to ours.
    pub env: Vec<(String, String)>,
    /// Its working directory (the function's).
    pub dir: PathBuf,
}

/// The contract's environment for a function: its name and kind, the spec's limits,
/// then the spec's `env` (which may override any of them).
pub fn function_env(project: &Project) -> Vec<(String, String)> {
    project.spec.runtime_env(&project.name)
}

/// Builds what needs building and says how to start the function locally.
pub fn prepare(
    project: &Project,
    data_dir: &Path,
    invoker: Option<&Path>,
) -> Result<Launch, Error> {
    let mut env = function_env(project);
    let dir = project.dir.clone();
    let invokers = || Invokers::unpack(data_dir);
    let (program, args): (PathBuf, Vec<OsString>) = match project.spec.language {
        Language::Rust => {
            let binary = rust::Package::read(&project.dir)?.build_native()?;
            (binary, vec![])
        }
        Language::RustWasm | Language::PythonWasm | Language::CWasm => {
            let wasm = steps::wasm(project, &invokers()?)?;
            let invoker = steps::invoker(invoker)?;
            (invoker, vec!["--wasm".into(), absolute(&wasm).into()])
        }
        Language::Command => {
            let handler = project.check_handler()?;
            let invoker = steps::invoker(invoker)?;
            (invoker, vec!["--command".into(), absolute(&handler).into()])
        }
        Language::Js | Language::Ts => {
            let invokers = invokers()?;
            invokers.node()?;
            let target = if project.spec.language == Language::Ts {
                steps::typescript(project)?;
                absolute(&project.dir)
            } else {
                steps::npm_install(project)?;
                absolute(&project.check_handler()?)
            };
            let node = crate::tools::require(
                "node",
                "JavaScript functions",
                "install Node.js 20 or later",
            )?;
            (node, vec![invokers.node_main().into(), target.into()])
        }
        Language::Python => {
            let handler = project.check_handler()?;
            let invokers = invokers()?;
            let python = steps::python()?;
            let mut path = vec![invokers.python(), invokers.python_deps(&python)?];
            let own = project.build_dir()?.join("python-deps");
            if steps::python_dependencies(project, &own, None)? {
                path.insert(0, own);
            }
            path.insert(0, absolute(&project.dir));
            let joined = std::env::join_paths(&path).map_err(|e| {
                Error::input(e.to_string(), "move the function to a path without `:`")
            })?;
            env.push(("PYTHONPATH".into(), joined.to_string_lossy().into_owned()));
            (
                python,
                vec!["-m".into(), "motif".into(), absolute(&handler).into()],
            )
        }
    };
    Ok(Launch {
        program,
        args,
        env,
        dir,
    })
}

fn absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// What `motif deploy` hands to `motif serve`: a wasm file it runs in its own process,
/// or a process to start per instance.
#[derive(Clone, Debug)]
pub enum Servable {
    /// The function's component or module.
    Wasm(PathBuf),
    /// The function behind its invoker.
    Process {
        /// How to start it.
        launch: Launch,
        /// Whether the program is the function's own build output (a Rust binary),
        /// which a revision must keep a copy of.
        program_is_artifact: bool,
    },
}

/// Builds what needs building and says what `motif serve` should run: wasm languages
/// as their `.wasm` (served in process), the others as [`prepare`] would start them.
pub fn prepare_servable(
    project: &Project,
    data_dir: &Path,
    invoker: Option<&Path>,
) -> Result<Servable, Error> {
    if project.spec.language.is_wasm() {
        let wasm = steps::wasm(project, &Invokers::unpack(data_dir)?)?;
        return Ok(Servable::Wasm(absolute(&wasm)));
    }
    if project.spec.language == Language::Rust {
        // A deployed function runs optimised, as its image would; `motif run` keeps the
        // quicker debug build.
        let binary = rust::Package::read(&project.dir)?.build_native_release()?;
        return Ok(Servable::Process {
            launch: Launch {
                program: binary,
                args: vec![],
                env: function_env(project),
                dir: project.dir.clone(),
            },
            program_is_artifact: true,
        });
    }
    let launch = prepare(project, data_dir, invoker)?;
    Ok(Servable::Process {
        launch,
        program_is_artifact: false,
    })
}
