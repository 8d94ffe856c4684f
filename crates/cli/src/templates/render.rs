//! Renders a template's tree with minijinja and writes it into the function's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior, Value};

use super::tree::{Entry, Node, Tree, check_relative};
use crate::error::{CliError, Kind, ResultExt};

/// Renders every path and every UTF-8 file of `tree` with `context`; other files are
/// copied as they are. The result is checked again, since a rendered path could leave
/// the directory.
pub fn render(
    tree: &Tree,
    context: &BTreeMap<String, Value>,
    origin: &str,
) -> Result<Tree, CliError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    let fail = |path: &Path, e: minijinja::Error| {
        CliError::new(
            Kind::Input,
            anyhow::anyhow!("{e:#}").context(format!(
                "cannot render `{}` of template {origin}",
                path.display()
            )),
        )
    };
    let mut out = Tree::default();
    for entry in &tree.entries {
        let path_text = entry.path.to_string_lossy();
        let path = if path_text.contains("{{") {
            PathBuf::from(
                env.render_str(&path_text, context)
                    .map_err(|e| fail(&entry.path, e))?,
            )
        } else {
            entry.path.clone()
        };
        let node = match &entry.node {
            Node::File { bytes, executable } => match std::str::from_utf8(bytes) {
                Ok(text) if text.contains("{{") || text.contains("{%") || text.contains("{#") => {
                    Node::File {
                        bytes: env
                            .render_str(text, context)
                            .map_err(|e| fail(&entry.path, e))?
                            .into_bytes(),
                        executable: *executable,
                    }
                }
                _ => entry.node.clone(),
            },
            other => other.clone(),
        };
        out.entries.push(Entry { path, node });
    }
    out.entries.sort_by(|a, b| a.path.cmp(&b.path));
    out.check(origin)?;
    Ok(out)
}

/// Whether `dir` is missing or empty.
pub fn is_empty_dir(dir: &Path) -> Result<bool, CliError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(CliError::new(
            Kind::Exists,
            anyhow::anyhow!("{} exists and is not a directory", dir.display()),
        )),
        Err(e) => Err(e).or_fail(Kind::Other, format!("cannot read {}", dir.display())),
    }
}

/// Writes a rendered tree under `target`. Never writes through a symlink: an existing
/// link on the way is an error, and one in the file's place is replaced (with `--force`
/// only; without it the target was checked to be empty).
pub fn write(tree: &Tree, target: &Path) -> Result<Vec<PathBuf>, CliError> {
    let io = |what: String| {
        move |e: std::io::Error| CliError::new(Kind::Other, anyhow::Error::new(e).context(what))
    };
    std::fs::create_dir_all(target).map_err(io(format!("cannot create {}", target.display())))?;
    let mut written = Vec::new();
    for entry in &tree.entries {
        check_relative(&entry.path).map_err(|why| {
            CliError::input(format!(
                "refusing to write `{}`: it {why}",
                entry.path.display()
            ))
        })?;
        no_links_above(target, &entry.path)?;
        let dest = target.join(&entry.path);
        let existing = std::fs::symlink_metadata(&dest).ok();
        match &entry.node {
            Node::Dir => {
                if existing.as_ref().is_some_and(|m| m.is_dir()) {
                    continue;
                }
                if existing
                    .as_ref()
                    .is_some_and(|m| m.file_type().is_symlink())
                {
                    return Err(CliError::new(
                        Kind::Exists,
                        anyhow::anyhow!(
                            "{} is a symlink where the template has a folder; refusing to write through it",
                            dest.display()
                        ),
                    )
                    .hint("remove the symlink, or create the function in another directory"));
                }
                remove_file_or_link(&dest, existing.as_ref())?;
                std::fs::create_dir(&dest)
                    .map_err(io(format!("cannot create {}", dest.display())))?;
            }
            Node::File { bytes, executable } => {
                remove_file_or_link(&dest, existing.as_ref())?;
                std::fs::write(&dest, bytes)
                    .map_err(io(format!("cannot write {}", dest.display())))?;
                if *executable {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))
                        .map_err(io(format!("cannot make {} executable", dest.display())))?;
                }
                written.push(entry.path.clone());
            }
            Node::Symlink(link) => {
                remove_file_or_link(&dest, existing.as_ref())?;
                std::os::unix::fs::symlink(link, &dest)
                    .map_err(io(format!("cannot create the symlink {}", dest.display())))?;
                written.push(entry.path.clone());
            }
        }
    }
    Ok(written)
}

fn remove_file_or_link(dest: &Path, existing: Option<&std::fs::Metadata>) -> Result<(), CliError> {
    match existing {
        None => Ok(()),
        Some(m) if m.is_dir() => Err(CliError::new(
            Kind::Exists,
            anyhow::anyhow!(
                "{} is a directory in the way of a template file",
                dest.display()
            ),
        )),
        Some(_) => std::fs::remove_file(dest)
            .or_fail(Kind::Other, format!("cannot replace {}", dest.display())),
    }
}

/// Refuses to write below a symlink that already exists in the target (it could lead
/// anywhere).
fn no_links_above(target: &Path, relative: &Path) -> Result<(), CliError> {
    let mut at = target.to_owned();
    let parents: Vec<_> = relative
        .parent()
        .into_iter()
        .flat_map(|p| p.components())
        .collect();
    for component in parents {
        at.push(component);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(CliError::new(
                Kind::Exists,
                anyhow::anyhow!(
                    "{} is a symlink; refusing to write {} through it",
                    at.display(),
                    relative.display()
                ),
            )
            .hint("remove the symlink, or create the function in another directory"));
        }
    }
    Ok(())
}
