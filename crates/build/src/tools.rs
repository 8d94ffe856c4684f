//! Running the build's tools (cargo, clang, npm, pip, componentize-py): their output
//! goes to our stderr as it comes, and a failure keeps its last lines for the error.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Error;

/// Finds `tool` on PATH.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Finds `tool` or says how to install it.
pub fn require(tool: &str, what: &str, hint: &str) -> Result<PathBuf, Error> {
    which(tool).ok_or_else(|| Error::MissingTool {
        tool: tool.into(),
        what: what.into(),
        hint: hint.into(),
    })
}

/// Runs a build step: stdout and stderr are streamed to our stderr (so compiler
/// messages show as they come) and the last 40 lines are kept for the error.
pub fn run(step: &str, command: &mut Command) -> Result<(), Error> {
    tracing::debug!(?command, "{step}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Step {
            step: format!("{step} ({})", describe(command)),
            status: "could not start".into(),
            output: e.to_string(),
        })?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let tail = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
    let pump = |reader: Box<dyn std::io::Read + Send>| {
        let tail = tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines().map_while(Result::ok) {
                eprintln!("{line}");
                let mut tail = tail.lock().expect("not poisoned");
                if tail.len() == 40 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        })
    };
    let a = pump(Box::new(stdout));
    let b = pump(Box::new(stderr));
    let status = child
        .wait()
        .map_err(Error::io("wait for", describe(command)))?;
    let _ = a.join();
    let _ = b.join();
    if status.success() {
        return Ok(());
    }
    let output = tail
        .lock()
        .expect("not poisoned")
        .iter()
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    Err(Error::Step {
        step: format!("{step} ({})", describe(command)),
        status: status.to_string(),
        output,
    })
}

/// Runs a command and returns its stdout (for queries such as `ldd`).
pub fn output(step: &str, command: &mut Command) -> Result<String, Error> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Step {
            step: format!("{step} ({})", describe(command)),
            status: "could not start".into(),
            output: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(Error::Step {
            step: format!("{step} ({})", describe(command)),
            status: out.status.to_string(),
            output: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}
