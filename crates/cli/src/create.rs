//! `motif create`: a function directory from a template.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::Value;
use motif_api::{FunctionFile, FunctionSpec, Language, TemplateOrigin};
use serde::Serialize;

use crate::error::{CliError, Kind};
use crate::output::Format;
use crate::templates::render;
use crate::templates::source::Repository;

/// Create a function from a template.
///
/// Writes NAME/ (or --path) with motif.toml, the handler to edit and its test. The
/// directory must be empty or missing unless --force is given.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The function's name: lowercase letters, digits and `-`.
    name: String,
    /// The handler's language.
    #[arg(short, long, env = "MOTIF_LANGUAGE")]
    language: Language,
    /// The template, by name within the language.
    #[arg(short, long, env = "MOTIF_TEMPLATE", default_value = "http")]
    template: String,
    /// The template repository: `builtin`, a name from `motif repository add`, a folder,
    /// or a git URL (`URL#REF` for a branch, tag or commit).
    #[arg(long, env = "MOTIF_REPOSITORY", default_value = "builtin")]
    repository: String,
    /// A template parameter, `KEY=VALUE` (repeat it); `motif templates list` shows them.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Where to write the function [default: ./NAME].
    #[arg(long, env = "MOTIF_PATH")]
    path: Option<PathBuf>,
    /// Write into a directory that is not empty, replacing files the template has.
    #[arg(long, env = "MOTIF_FORCE")]
    force: bool,
}

/// A `KEY=VALUE` flag's value.
pub(crate) fn parse_param(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

/// What `motif create` made.
#[derive(Debug, Serialize)]
struct Created {
    name: String,
    language: String,
    kind: String,
    template: String,
    repository: String,
    path: PathBuf,
    files: Vec<PathBuf>,
    next: Vec<String>,
}

/// Runs `motif create`.
pub fn create(args: CreateArgs, format: Format) -> Result<(), CliError> {
    motif_api::validate_name(&args.name).map_err(|e| {
        CliError::input(e).hint("for example `motif create hello-world --language rust`")
    })?;
    let target = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if !args.force && !render::is_empty_dir(&target)? {
        return Err(CliError::new(
            Kind::Exists,
            anyhow::anyhow!("{} exists and is not empty", target.display()),
        )
        .hint("choose another --path, or give --force to write into it"));
    }
    let repository = Repository::open(&args.repository)?;
    let template = repository.find(args.language, &args.template)?;
    let origin = repository.origin(&template);
    let manifest = repository.manifest(&template)?;
    let values = manifest.values(&args.params, &origin)?;

    let mut context: BTreeMap<String, Value> = values;
    context.insert("name".into(), args.name.as_str().into());
    context.insert("name_snake".into(), args.name.replace('-', "_").into());
    context.insert("kind".into(), manifest.kind.as_str().into());
    context.insert("language".into(), args.language.as_str().into());
    context.insert("motif_function".into(), motif_function_dependency().into());

    let rendered = render::render(&repository.files(&template)?, &context, &origin)?;
    let spec_in_template = rendered
        .entries
        .iter()
        .any(|e| e.path == Path::new(motif_api::FILE_NAME));
    let mut files = render::write(&rendered, &target)?;

    // motif.toml: the template's own (rendered) if it has one, else made from the
    // manifest; either way it names this function, its language and its origin.
    let mut file = if spec_in_template {
        FunctionFile::load(&target)?
    } else {
        files.push(PathBuf::from(motif_api::FILE_NAME));
        FunctionFile {
            name: args.name.clone(),
            spec: FunctionSpec {
                language: args.language,
                kind: manifest.kind,
                handler: manifest.handler.clone(),
                env: manifest.env.clone(),
                ..FunctionSpec::default()
            },
        }
    };
    file.name = args.name.clone();
    file.spec.language = args.language;
    file.spec.template = Some(TemplateOrigin {
        repository: args.repository.clone(),
        name: args.template.clone(),
    });
    file.save(&target)?;
    files.sort();

    let mut next = vec![format!("cd {}", target.display())];
    next.extend(manifest.hints.build.clone());
    next.extend(manifest.hints.run.clone());
    next.push("motif invoke".into());
    next.extend(manifest.hints.test.clone());
    let created = Created {
        name: args.name.clone(),
        language: args.language.to_string(),
        kind: manifest.kind.to_string(),
        template: args.template.clone(),
        repository: args.repository.clone(),
        path: target.clone(),
        files,
        next,
    };
    format.print(&created, |out| {
        let _ = writeln!(
            out,
            "Created {} function `{}` from {} in {}",
            created.language,
            created.name,
            origin,
            created.path.display()
        );
        if let Some(handler) = &manifest.handler {
            let _ = writeln!(out, "Edit the handler: {}", target.join(handler).display());
        }
        let _ = writeln!(out, "\nNext:");
        for step in &created.next {
            let _ = writeln!(out, "  {step}");
        }
    });
    Ok(())
}

/// The TOML dependency line for the Rust SDK in a Rust function's Cargo.toml:
/// `MOTIF_SDK_PATH` if set, else the source tree motif was built from if it is still
/// there, else the project's git repository.
pub fn motif_function_dependency() -> String {
    let local = std::env::var_os("MOTIF_SDK_PATH")
        .map(PathBuf::from)
        .or_else(|| {
            let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../invokers/rust");
            tree.join("Cargo.toml").is_file().then_some(tree)
        })
        .and_then(|p| p.canonicalize().ok());
    match local {
        Some(path) => format!("{{ path = {} }}", toml_string(&path.display().to_string())),
        None => format!("{{ git = {} }}", toml_string(env!("CARGO_PKG_REPOSITORY"))),
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}
