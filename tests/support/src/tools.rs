//! Running the external tools the tests check with (skopeo, umoci, runc...).

use std::ffi::OsStr;
use std::io;
use std::process::{Command, Stdio};

/// Fails with what to install when `program` is not on `PATH`. `package` is its Debian
/// package.
pub fn require_tool(program: &str, package: &str) -> io::Result<()> {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if found {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "`{program}` is not installed: `apt-get install {package}` \
                 (scripts/test.sh installs it)"
            ),
        ))
    }
}

/// Runs `program` with `args` and returns its stdout; a failure carries the command line
/// and its stderr.
pub fn run_tool<S: AsRef<OsStr>>(program: &str, args: &[S]) -> io::Result<String> {
    let line = || {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        format!("{program} {}", args.join(" "))
    };
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run `{}`: {e}", line())))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(io::Error::other(format!(
            "`{}` failed ({}): {}",
            line(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}
