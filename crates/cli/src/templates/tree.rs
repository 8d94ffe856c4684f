//! A template's files in memory: read from the embedded repository or from disk without
//! following symlinks, then checked so that nothing can be written outside the target.

use std::path::{Component, Path, PathBuf};

use crate::error::CliError;

/// One entry of a template, at a relative path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the template's folder (and to the function's directory once written).
    pub path: PathBuf,
    /// What it is.
    pub node: Node,
}

/// What an entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A folder.
    Dir,
    /// A file and whether it is executable.
    File {
        /// The contents.
        bytes: Vec<u8>,
        /// Executable by its owner.
        executable: bool,
    },
    /// A symbolic link and its target, as written.
    Symlink(PathBuf),
}

/// A template's entries, sorted by path.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// The entries.
    pub entries: Vec<Entry>,
}

impl Tree {
    /// Reads a folder on disk. Symlinks are kept as links (never followed); sockets,
    /// pipes and devices are refused.
    pub fn read_dir(root: &Path) -> Result<Tree, CliError> {
        let mut tree = Tree::default();
        read_into(root, Path::new(""), &mut tree)?;
        tree.entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(tree)
    }

    /// Reads the embedded built-in repository's folder. The embedding keeps no file
    /// modes, so a file starting with `#!` is taken to be executable.
    pub fn read_embedded(dir: &include_dir::Dir<'_>) -> Tree {
        let mut tree = Tree::default();
        embedded_into(dir, dir.path(), &mut tree);
        tree.entries.sort_by(|a, b| a.path.cmp(&b.path));
        tree
    }

    /// Refuses absolute paths, `..`, and symlinks that are absolute or lead outside the
    /// tree; the message names the entry.
    pub fn check(&self, origin: &str) -> Result<(), CliError> {
        for entry in &self.entries {
            check_relative(&entry.path).map_err(|why| unsafe_entry(origin, &entry.path, why))?;
            if let Node::Symlink(target) = &entry.node {
                let parent = entry.path.parent().unwrap_or(Path::new(""));
                if target.is_absolute() {
                    return Err(unsafe_entry(
                        origin,
                        &entry.path,
                        &format!("is a symlink to the absolute path {}", target.display()),
                    ));
                }
                if normalize(&parent.join(target)).is_none() {
                    return Err(unsafe_entry(
                        origin,
                        &entry.path,
                        &format!(
                            "is a symlink to {}, which is outside the template",
                            target.display()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn unsafe_entry(origin: &str, path: &Path, why: &str) -> CliError {
    CliError::input(format!(
        "template {origin} is unsafe: `{}` {why}",
        path.display()
    ))
    .hint("a template may only write inside the function's directory; fix the template or use another")
}

/// Checks that a path is relative and made of plain names only.
pub fn check_relative(path: &Path) -> Result<(), &'static str> {
    if path.as_os_str().is_empty() {
        return Err("has an empty path");
    }
    for component in path.components() {
        match component {
            Component::Normal(_) => {}
            Component::CurDir => {}
            Component::ParentDir => {
                return Err("has a path that leaves the function's directory (`..`)");
            }
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path"),
        }
    }
    Ok(())
}

/// Resolves `.` and `..` lexically; `None` when the path climbs above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

fn read_into(root: &Path, relative: &Path, tree: &mut Tree) -> Result<(), CliError> {
    let dir = root.join(relative);
    let read = |e: std::io::Error, path: &Path| {
        CliError::new(
            crate::error::Kind::Input,
            anyhow::Error::new(e)
                .context(format!("cannot read the template at {}", path.display())),
        )
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| read(e, &dir))?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(|e| read(e, &dir))?;
    names.sort();
    for name in names {
        let path = relative.join(&name);
        let full = root.join(&path);
        let meta = std::fs::symlink_metadata(&full).map_err(|e| read(e, &full))?;
        let kind = meta.file_type();
        let node = if kind.is_symlink() {
            Node::Symlink(std::fs::read_link(&full).map_err(|e| read(e, &full))?)
        } else if kind.is_dir() {
            tree.entries.push(Entry {
                path: path.clone(),
                node: Node::Dir,
            });
            read_into(root, &path, tree)?;
            continue;
        } else if kind.is_file() {
            use std::os::unix::fs::PermissionsExt;
            Node::File {
                bytes: std::fs::read(&full).map_err(|e| read(e, &full))?,
                executable: meta.permissions().mode() & 0o100 != 0,
            }
        } else {
            return Err(CliError::input(format!(
                "template entry {} is not a file, folder or symlink",
                full.display()
            )));
        };
        tree.entries.push(Entry { path, node });
    }
    Ok(())
}

fn embedded_into(dir: &include_dir::Dir<'_>, base: &Path, tree: &mut Tree) {
    for entry in dir.entries() {
        let path = entry
            .path()
            .strip_prefix(base)
            .unwrap_or(entry.path())
            .to_owned();
        match entry {
            include_dir::DirEntry::Dir(sub) => {
                tree.entries.push(Entry {
                    path,
                    node: Node::Dir,
                });
                embedded_into(sub, base, tree);
            }
            include_dir::DirEntry::File(file) => tree.entries.push(Entry {
                path,
                node: Node::File {
                    bytes: file.contents().to_vec(),
                    executable: file.contents().starts_with(b"#!"),
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(entries: &[(&str, Node)]) -> Tree {
        Tree {
            entries: entries
                .iter()
                .map(|(p, n)| Entry {
                    path: PathBuf::from(p),
                    node: n.clone(),
                })
                .collect(),
        }
    }

    #[test]
    fn links_inside_are_fine_and_links_out_are_refused() {
        let inside = tree(&[("a/b", Node::Symlink("../c".into()))]);
        assert!(inside.check("t").is_ok());
        for target in ["../../etc/passwd", "/etc/passwd", "../.."] {
            let out = tree(&[("a/b", Node::Symlink(target.into()))]);
            assert!(out.check("t").is_err(), "{target}");
        }
    }

    #[test]
    fn escaping_paths_are_refused() {
        for path in ["../x", "/etc/x", "a/../../x"] {
            let t = tree(&[(path, Node::Dir)]);
            assert!(t.check("t").is_err(), "{path}");
        }
    }
}
