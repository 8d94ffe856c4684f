//! Opening a template repository: built in, added by name, a folder, or a git URL
//! (`URL#REF`), and finding its templates.

use std::path::{Path, PathBuf};
use std::process::Command;

use include_dir::{Dir, include_dir};
use motif_api::Language;

use super::manifest::{MANIFEST, Manifest};
use super::tree::{Node, Tree};
use crate::error::{CliError, Kind};

/// The built-in template repository, embedded at build time.
static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../templates");

/// A template repository, opened.
pub struct Repository {
    /// How the user named it (`builtin`, a name, a folder, a URL).
    pub label: String,
    root: Root,
}

enum Root {
    Builtin,
    Folder(PathBuf),
    /// A fresh clone, removed when the repository is dropped.
    Clone(tempfile::TempDir),
}

/// One template of a repository.
#[derive(Clone, Debug)]
pub struct Template {
    /// Its language (the first folder).
    pub language: Language,
    /// Its name (the second folder).
    pub name: String,
}

impl Template {
    fn folder(&self) -> PathBuf {
        Path::new(self.language.as_str()).join(&self.name)
    }
}

/// A repository argument that `git clone` should fetch, split into URL and ref.
pub fn git_location(spec: &str) -> Option<(&str, Option<&str>)> {
    let (url, reference) = match spec.split_once('#') {
        Some((url, reference)) => (url, Some(reference).filter(|r| !r.is_empty())),
        None => (spec, None),
    };
    let is_git = spec.contains('#')
        || url.contains("://")
        || url.ends_with(".git")
        || (url.contains('@') && url.contains(':'));
    is_git.then_some((url, reference))
}

/// Clones `url` into `into` and checks out `reference` (a branch, tag or commit).
pub fn clone(url: &str, reference: Option<&str>, into: &Path) -> Result<(), CliError> {
    let git = |args: &[&std::ffi::OsStr]| -> Result<(), CliError> {
        let output = Command::new("git")
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .map_err(|e| {
                CliError::new(Kind::Other, anyhow::Error::new(e).context("cannot run git"))
                    .hint("install git to use template repositories by URL")
            })?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(CliError::new(
            Kind::Network,
            anyhow::anyhow!("{}", stderr.trim()).context(format!(
                "cannot fetch the template repository {url}{}",
                reference.map(|r| format!(" at `{r}`")).unwrap_or_default()
            )),
        )
        .hint("check the URL (anything `git clone` accepts) and the ref after `#`"))
    };
    git(&[
        "clone".as_ref(),
        "--quiet".as_ref(),
        "--".as_ref(),
        url.as_ref(),
        into.as_os_str(),
    ])?;
    if let Some(reference) = reference {
        git(&[
            "-C".as_ref(),
            into.as_os_str(),
            "-c".as_ref(),
            "advice.detachedHead=false".as_ref(),
            "checkout".as_ref(),
            "--quiet".as_ref(),
            reference.as_ref(),
            "--".as_ref(),
        ])?;
    }
    Ok(())
}

impl Repository {
    /// Opens a repository by what the user gave: `builtin`, a name added with `motif
    /// repository add`, a git URL (`URL#REF`), or a folder.
    pub fn open(spec: &str) -> Result<Repository, CliError> {
        let label = spec.to_owned();
        if spec == "builtin" {
            return Ok(Repository {
                label,
                root: Root::Builtin,
            });
        }
        if let Some(location) = crate::repository::lookup(spec)? {
            return Ok(Repository {
                label,
                root: Root::Folder(location),
            });
        }
        if let Some((url, reference)) = git_location(spec) {
            let dir = tempfile::Builder::new()
                .prefix("motif-templates-")
                .tempdir()
                .map_err(|e| CliError::new(Kind::Other, e))?;
            clone(url, reference, dir.path())?;
            return Ok(Repository {
                label,
                root: Root::Clone(dir),
            });
        }
        let path = Path::new(spec);
        if path.is_dir() {
            return Ok(Repository {
                label,
                root: Root::Folder(path.to_owned()),
            });
        }
        Err(
            CliError::input(format!("no template repository `{spec}`")).hint(
                "give `builtin`, a name from `motif repository list`, a folder, or a git URL \
             (`URL#REF` picks a branch, tag or commit)",
            ),
        )
    }

    fn disk_root(&self) -> Option<&Path> {
        match &self.root {
            Root::Builtin => None,
            Root::Folder(path) => Some(path),
            Root::Clone(dir) => Some(dir.path()),
        }
    }

    /// Every template, by language then name.
    pub fn templates(&self) -> Result<Vec<Template>, CliError> {
        let mut found = Vec::new();
        for language in Language::ALL {
            let mut names = Vec::new();
            match self.disk_root() {
                None => {
                    if let Some(dir) = BUILTIN.get_dir(language.as_str()) {
                        for sub in dir.dirs() {
                            if sub.get_file(sub.path().join(MANIFEST)).is_some() {
                                let name = sub.path().file_name().unwrap_or_default();
                                names.push(name.to_string_lossy().into_owned());
                            }
                        }
                    }
                }
                Some(root) => {
                    let Ok(entries) = std::fs::read_dir(root.join(language.as_str())) else {
                        continue;
                    };
                    for entry in entries.flatten() {
                        if entry.path().join(MANIFEST).is_file() {
                            names.push(entry.file_name().to_string_lossy().into_owned());
                        }
                    }
                }
            }
            names.sort();
            found.extend(names.into_iter().map(|name| Template { language, name }));
        }
        if found.is_empty() {
            return Err(CliError::input(format!(
                "template repository {} has no templates",
                self.label
            ))
            .hint("a template is a folder `<language>/<template>/` with a manifest.toml"));
        }
        Ok(found)
    }

    /// Finds one template, or says which exist.
    pub fn find(&self, language: Language, name: &str) -> Result<Template, CliError> {
        let templates = self.templates()?;
        if let Some(t) = templates
            .iter()
            .find(|t| t.language == language && t.name == name)
        {
            return Ok(t.clone());
        }
        let same: Vec<_> = templates
            .iter()
            .filter(|t| t.language == language)
            .map(|t| t.name.as_str())
            .collect();
        let hint = if same.is_empty() {
            format!("repository {} has no {language} templates", self.label)
        } else {
            format!("{language} templates here: {}", same.join(", "))
        };
        Err(CliError::input(format!(
            "no template `{name}` for {language} in repository {}",
            self.label
        ))
        .hint(hint))
    }

    /// A template's folder, read into memory and checked (the manifest apart).
    fn read(&self, template: &Template) -> Result<Tree, CliError> {
        let origin = self.origin(template);
        let tree = match self.disk_root() {
            None => {
                let dir = BUILTIN
                    .get_dir(template.folder())
                    .ok_or_else(|| CliError::input(format!("no template {origin}")))?;
                Tree::read_embedded(dir)
            }
            Some(root) => {
                let folder = root.join(template.folder());
                let inside = folder
                    .canonicalize()
                    .ok()
                    .zip(root.canonicalize().ok())
                    .is_some_and(|(f, r)| f.starts_with(r));
                if !inside {
                    return Err(CliError::input(format!(
                        "template {origin} is unsafe: its folder leads outside the repository"
                    )));
                }
                Tree::read_dir(&folder)?
            }
        };
        tree.check(&origin)?;
        Ok(tree)
    }

    /// A template's manifest.
    pub fn manifest(&self, template: &Template) -> Result<Manifest, CliError> {
        let origin = self.origin(template);
        let tree = self.read(template)?;
        let text = tree
            .entries
            .iter()
            .find_map(|e| match &e.node {
                Node::File { bytes, .. } if e.path == Path::new(MANIFEST) => Some(bytes),
                _ => None,
            })
            .ok_or_else(|| CliError::input(format!("template {origin} has no {MANIFEST}")))?;
        let text = std::str::from_utf8(text)
            .map_err(|_| CliError::input(format!("template {origin}: {MANIFEST} is not UTF-8")))?;
        Manifest::parse(text, &origin)
    }

    /// A template's files (without the manifest).
    pub fn files(&self, template: &Template) -> Result<Tree, CliError> {
        let mut tree = self.read(template)?;
        tree.entries.retain(|e| e.path != Path::new(MANIFEST));
        Ok(tree)
    }

    /// How errors name a template: `rust/http of builtin`.
    pub fn origin(&self, template: &Template) -> String {
        format!("{}/{} of {}", template.language, template.name, self.label)
    }
}
