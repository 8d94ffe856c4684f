//! The shared libraries a dynamically linked binary loads, as `ldd` lists them: what an
//! image must carry beside the binary when it is not static.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared libraries `binary` loads, as `ldd` names them (paths on this machine; the
/// vDSO has none and is left out).
pub fn shared_libraries(binary: &Path) -> io::Result<Vec<PathBuf>> {
    let output = Command::new("ldd").arg(binary).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // A static binary: "not a dynamic executable" (glibc's ldd exits 1 for it).
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stdout.contains("not a dynamic executable")
            || stderr.contains("not a dynamic executable")
            || stdout.contains("statically linked")
        {
            return Ok(Vec::new());
        }
        return Err(io::Error::other(format!(
            "`ldd {}` failed: {}",
            binary.display(),
            stderr.trim()
        )));
    }
    let mut libraries = Vec::new();
    for line in stdout.lines() {
        // "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
        // "\t/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(path) = path.filter(|p| p.starts_with('/')) {
            libraries.push(PathBuf::from(path));
        } else if line.contains("not found") {
            return Err(io::Error::other(format!(
                "`{}` needs a library this machine lacks: {}",
                binary.display(),
                line.trim()
            )));
        }
    }
    Ok(libraries)
}
