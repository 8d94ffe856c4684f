//! `motif repository add|list|remove`: template repositories known by name, kept in
//! `repositories.toml` in the config directory; git repositories are cloned once into
//! the data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{CliError, Kind, ResultExt};
use crate::output::{Format, status};
use crate::paths;
use crate::templates::source::{self, Repository};

/// `motif repository ...`
#[derive(Debug, clap::Subcommand)]
pub enum RepositoryCommand {
    /// Add a template repository by name: a folder, or a git URL (`URL#REF`), cloned now.
    Add {
        /// The name `--repository` will know it by.
        name: String,
        /// A folder, or anything `git clone` accepts (`URL#REF` for a branch, tag or commit).
        location: String,
    },
    /// List the template repositories added by name.
    List,
    /// Remove a template repository (and its clone).
    Remove {
        /// Its name.
        name: String,
    },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Config {
    #[serde(default)]
    repositories: BTreeMap<String, Entry>,
}

/// One repository added by name.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    /// What the user gave: a folder (made absolute) or a git URL with its ref.
    location: String,
    /// Where its templates are on disk: the folder, or the clone.
    path: PathBuf,
}

fn config_file() -> PathBuf {
    paths::config_dir().join("repositories.toml")
}

fn load() -> Result<Config, CliError> {
    let file = config_file();
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            toml::from_str(&text).or_fail(Kind::Input, format!("{} is not valid", file.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).or_fail(Kind::Other, format!("cannot read {}", file.display())),
    }
}

fn save(config: &Config) -> Result<(), CliError> {
    let file = config_file();
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .or_fail(Kind::Other, format!("cannot create {}", dir.display()))?;
    }
    let text = toml::to_string(config).or_fail(Kind::Other, "cannot encode the repositories")?;
    let temp = file.with_extension("toml.tmp");
    std::fs::write(&temp, text).or_fail(Kind::Other, format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, &file).or_fail(Kind::Other, format!("cannot write {}", file.display()))
}

/// The folder of a repository added by name, if `name` is one.
pub fn lookup(name: &str) -> Result<Option<PathBuf>, CliError> {
    if !is_name(name) {
        return Ok(None);
    }
    Ok(load()?.repositories.get(name).map(|e| e.path.clone()))
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Runs `motif repository ...`.
pub fn command(command: RepositoryCommand, format: Format) -> Result<(), CliError> {
    match command {
        RepositoryCommand::Add { name, location } => add(&name, &location, format),
        RepositoryCommand::List => list(format),
        RepositoryCommand::Remove { name } => remove(&name, format),
    }
}

#[derive(Serialize)]
struct Shown {
    name: String,
    location: String,
    path: PathBuf,
    templates: Vec<String>,
}

fn add(name: &str, location: &str, format: Format) -> Result<(), CliError> {
    if !is_name(name) || name == "builtin" {
        return Err(
            CliError::input(format!("`{name}` cannot name a repository"))
                .hint("use letters, digits, `-`, `_` and `.`; `builtin` is taken"),
        );
    }
    let mut config = load()?;
    if config.repositories.contains_key(name) {
        return Err(CliError::new(
            Kind::Exists,
            anyhow::anyhow!("a repository named `{name}` exists"),
        )
        .hint(format!(
            "remove it first with `motif repository remove {name}`"
        )));
    }
    let entry = if let Some((url, reference)) = source::git_location(location) {
        let path = paths::data_dir().join("repositories").join(name);
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .or_fail(Kind::Other, format!("cannot clear {}", path.display()))?;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .or_fail(Kind::Other, format!("cannot create {}", parent.display()))?;
        }
        status(format!("cloning {location}"));
        source::clone(url, reference, &path)?;
        Entry {
            location: location.to_owned(),
            path,
        }
    } else {
        let path = Path::new(location).canonicalize().map_err(|e| {
            CliError::new(
                Kind::Input,
                anyhow::Error::new(e).context(format!("no folder {location}")),
            )
            .hint("give a folder of templates, or a git URL (`URL#REF`)")
        })?;
        Entry {
            location: path.display().to_string(),
            path,
        }
    };
    let templates = match check(name, &entry.path) {
        Ok(templates) => templates,
        Err(e) => {
            if entry.path.starts_with(paths::data_dir()) {
                let _ = std::fs::remove_dir_all(&entry.path);
            }
            return Err(e);
        }
    };
    config.repositories.insert(name.to_owned(), entry.clone());
    save(&config)?;
    let shown = Shown {
        name: name.to_owned(),
        location: entry.location,
        path: entry.path,
        templates,
    };
    format.print(&shown, |out| {
        let _ = writeln!(
            out,
            "added repository `{}` ({} templates): motif create NAME --repository {} ...",
            shown.name,
            shown.templates.len(),
            shown.name
        );
    });
    Ok(())
}

/// The repository's templates, each of whose manifest parses.
fn check(name: &str, path: &Path) -> Result<Vec<String>, CliError> {
    let repository = Repository::open(&path.display().to_string()).map_err(|e| {
        CliError::new(
            e.kind,
            e.error
                .context(format!("repository `{name}` cannot be used")),
        )
    })?;
    let mut names = Vec::new();
    for template in repository.templates()? {
        repository.manifest(&template)?;
        names.push(format!("{}/{}", template.language, template.name));
    }
    Ok(names)
}

fn list(format: Format) -> Result<(), CliError> {
    let config = load()?;
    let shown: Vec<_> = config
        .repositories
        .iter()
        .map(|(name, entry)| Shown {
            name: name.clone(),
            location: entry.location.clone(),
            path: entry.path.clone(),
            templates: Repository::open(&entry.path.display().to_string())
                .and_then(|r| r.templates())
                .map(|ts| {
                    ts.iter()
                        .map(|t| format!("{}/{}", t.language, t.name))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    format.print(&shown, |out| {
        let _ = writeln!(out, "builtin  (embedded in motif)");
        for s in &shown {
            let _ = writeln!(
                out,
                "{}  {}  ({} templates)",
                s.name,
                s.location,
                s.templates.len()
            );
        }
    });
    Ok(())
}

fn remove(name: &str, format: Format) -> Result<(), CliError> {
    let mut config = load()?;
    let Some(entry) = config.repositories.remove(name) else {
        return Err(CliError::input(format!("no repository named `{name}`"))
            .hint("see `motif repository list`"));
    };
    let clone = paths::data_dir().join("repositories").join(name);
    if entry.path == clone && clone.exists() {
        std::fs::remove_dir_all(&clone)
            .or_fail(Kind::Other, format!("cannot remove {}", clone.display()))?;
    }
    save(&config)?;
    format.print(&serde_json::json!({ "removed": name }), |out| {
        let _ = writeln!(out, "removed repository `{name}`");
    });
    Ok(())
}
