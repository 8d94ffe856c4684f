//! Running a README's shell blocks as written: the commands a user would type, with the
//! workspace's `motif` first on PATH.

use std::path::Path;
use std::process::{Command, Output};

use super::{data_dir, invoker};

/// The ```` ```sh ```` blocks of the Markdown file `path`, in order.
pub fn shell_blocks(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim_start() == "```sh" => current = Some(String::new()),
            Some(block) if line.trim_start() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// Runs `script` with `sh -eu` in `cwd` with `env`: `motif` is the workspace's, its state
/// directory `state`, its data directory the tests' shared one. The shell runs in a
/// process group of its own, killed when it exits: what the script left running in the
/// background (`motif serve &` and its instances) goes with it.
pub fn run_shell(script: &str, cwd: &Path, state: &Path, env: &[(&str, &str)]) -> Output {
    let motif = Path::new(env!("CARGO_BIN_EXE_motif"));
    let path = std::env::join_paths(std::iter::once(motif.parent().unwrap().to_owned()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    use std::os::unix::process::CommandExt;
    let child = Command::new("sh")
        .args(["-eu", "-c", script])
        .process_group(0)
        .current_dir(cwd)
        .env("PATH", path)
        .env("MOTIF_STATE_DIR", state)
        .env("MOTIF_DATA_DIR", data_dir())
        .env("MOTIF_INVOKER_BIN", invoker())
        .env_remove("MOTIF_OUTPUT")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sh runs");
    let group = nix::unistd::Pid::from_raw(child.id() as i32);
    let output = child.wait_with_output().expect("sh runs");
    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
    output
}
