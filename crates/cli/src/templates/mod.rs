//! Template repositories: the built-in one (embedded in the binary), folders and git
//! repositories, all with the layout `<language>/<template>/manifest.toml` + files.
//!
//! A template is read whole into memory ([`tree::Tree`]), checked (no path may leave the
//! function's directory, no symlink may point out of the template, nothing but files,
//! folders and symlinks), rendered with its typed parameters ([`manifest`], minijinja),
//! and only then written, so a bad template writes nothing.

pub mod manifest;
pub mod render;
pub mod source;
pub mod tree;

use motif_api::Language;
use serde::Serialize;

use crate::error::CliError;
use crate::output::Format;
use source::Repository;

/// `motif templates ...`
#[derive(Debug, clap::Subcommand)]
pub enum TemplatesCommand {
    /// List the templates of a repository (the built-in one by default).
    List {
        /// A repository: `builtin`, a name added with `motif repository add`, a folder,
        /// or a git URL (`URL#REF` for a branch, tag or commit).
        #[arg(long, env = "MOTIF_REPOSITORY", default_value = "builtin")]
        repository: String,
        /// Only this language's templates.
        #[arg(long)]
        language: Option<Language>,
    },
}

/// One template, as `motif templates list` shows it.
#[derive(Debug, Serialize)]
struct Listed {
    language: String,
    template: String,
    kind: String,
    description: String,
    params: Vec<ListedParam>,
}

#[derive(Debug, Serialize)]
struct ListedParam {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    default: serde_json::Value,
    description: String,
}

/// Runs `motif templates ...`.
pub fn command(command: TemplatesCommand, format: Format) -> Result<(), CliError> {
    let TemplatesCommand::List {
        repository,
        language,
    } = command;
    let repository = Repository::open(&repository)?;
    let mut listed = Vec::new();
    for template in repository.templates()? {
        if language.is_some_and(|l| l != template.language) {
            continue;
        }
        let manifest = repository.manifest(&template)?;
        listed.push(Listed {
            language: template.language.to_string(),
            template: template.name.clone(),
            kind: manifest.kind.to_string(),
            description: manifest.description.clone(),
            params: manifest
                .params
                .iter()
                .map(|(name, p)| ListedParam {
                    name: name.clone(),
                    kind: p.kind.to_string(),
                    default: p.default_json(),
                    description: p.description.clone(),
                })
                .collect(),
        });
    }
    format.print(&listed, |out| {
        let width = listed
            .iter()
            .map(|t| t.language.len() + 1 + t.template.len())
            .max()
            .unwrap_or(0);
        for t in &listed {
            let id = format!("{}/{}", t.language, t.template);
            let _ = writeln!(out, "{id:width$}  {}", t.description);
            for p in &t.params {
                let _ = writeln!(
                    out,
                    "{:width$}    --param {}=<{}> (default {}): {}",
                    "", p.name, p.kind, p.default, p.description
                );
            }
        }
        if listed.is_empty() {
            let _ = writeln!(out, "no templates");
        }
    });
    Ok(())
}
