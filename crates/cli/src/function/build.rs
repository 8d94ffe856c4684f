//! `motif function build`: the builder. It fetches a function's code, builds its image
//! and pushes it, then reports the image by digest (and the commit) in one JSON object:
//! what the in-cluster build Job runs (the controller reads the report from the Job's
//! termination message), and what `motif function create --cluster --local-path` does
//! on this machine.

use std::path::{Path, PathBuf};

use motif_build::Project;
use motif_build::oci::{NoProgress, RegistryOptions};
use serde::Serialize;

use crate::build::{fail, reference, reference_repository};
use crate::error::CliError;
use crate::function::source::{self, SourceArgs};
use crate::output::{Format, status};
use crate::paths;

/// The most a Kubernetes termination message holds.
const REPORT_LIMIT: usize = 4096;

/// Build a function from a git repository (or a directory) into an image, push it, and
/// report it: what the cluster's build Job runs.
///
/// The report is one JSON object, written to --report (the Job's
/// /dev/termination-log) and printed: `{"image": "HOST/REPO@sha256:...", "commit":
/// "..."}`, or `{"error": "..."}` when the build fails (the exit code is then not 0).
/// Registry credentials come from MOTIF_REGISTRY_USERNAME and MOTIF_REGISTRY_PASSWORD.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The function's name.
    name: String,
    #[command(flatten)]
    source: SourceArgs,
    /// Where to push: HOST/REPO[:TAG] (a bare HOST gets /NAME).
    #[arg(long, env = "MOTIF_REGISTRY", value_name = "HOST/REPO")]
    push: String,
    /// The base image of js, ts, python and command functions [default: motif.toml's
    /// `build.base`, else the language's].
    #[arg(long, env = "MOTIF_BASE_IMAGE", value_name = "REFERENCE")]
    base: Option<String>,
    /// Write the report here too (the build Job's /dev/termination-log).
    #[arg(long, env = "MOTIF_BUILD_REPORT", value_name = "FILE")]
    report: Option<PathBuf>,
    /// The motif-invoker binary for wasm and command images [default: beside motif].
    #[arg(long, env = "MOTIF_INVOKER_BIN", value_name = "FILE")]
    invoker: Option<PathBuf>,
}

/// What a build reports.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Report {
    Built {
        image: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
    },
    Failed {
        error: String,
    },
}

/// Runs `motif function build`.
pub async fn build(args: BuildArgs, format: Format) -> Result<(), CliError> {
    let result = build_and_push(&args).await;
    let report = match &result {
        Ok((image, commit)) => Report::Built {
            image: image.clone(),
            commit: commit.clone(),
        },
        Err(error) => Report::Failed {
            error: one_line(error),
        },
    };
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    result?;
    format.print(&report, |out| {
        if let Report::Built { image, commit } = &report {
            let _ = writeln!(out, "Pushed {image}");
            if let Some(commit) = commit {
                let _ = writeln!(out, "  from commit {commit}");
            }
        }
    });
    Ok(())
}

async fn build_and_push(args: &BuildArgs) -> Result<(String, Option<String>), CliError> {
    motif_api::validate_name(&args.name).map_err(CliError::input)?;
    let target = reference(&args.push, &args.name)?;
    let work = paths::data_dir().join("sources").join(&args.name);
    let source_args = args.source.clone();
    let name = args.name.clone();
    let (project, commit) = tokio::task::spawn_blocking(move || {
        let checkout = source::fetch(&source_args, &work)?;
        let commit = checkout.commit().map(str::to_owned);
        Ok::<_, CliError>((source::project(&name, &checkout, &source_args)?, commit))
    })
    .await
    .map_err(|e| CliError::new(crate::error::Kind::Other, e))??;
    let base = args
        .base
        .clone()
        .or_else(|| project.spec.build.base.clone());
    let image = push(&project, &target, base, args.invoker.clone()).await?;
    Ok((image, commit))
}

/// Builds `project`'s image for this machine's platform and pushes it to `target`
/// (`HOST/REPO:TAG`): its reference by digest.
pub async fn push(
    project: &Project,
    target: &str,
    base: Option<String>,
    invoker: Option<PathBuf>,
) -> Result<String, CliError> {
    let image = crate::local::deploy::build_image(project, base, invoker).await?;
    status(format!("pushing {target}"));
    let digest = image
        .push(target, &RegistryOptions::from_env(), &NoProgress)
        .await
        .map_err(|e| fail(e.into()))?;
    Ok(format!("{}@{digest}", reference_repository(target)))
}

/// An error and its causes (and hint) on one line, as short as a termination message.
fn one_line(error: &CliError) -> String {
    let mut text = format!("{:#}", error.error);
    if let Some(hint) = &error.hint {
        text.push_str(&format!(" (hint: {hint})"));
    }
    text
}

/// Writes the report, cut to what a termination message holds.
fn write_report(path: &Path, report: &Report) -> Result<(), CliError> {
    let mut json = serde_json::to_string(report).expect("a report serializes");
    if json.len() > REPORT_LIMIT
        && let Report::Failed { error } = report
    {
        let mut cut = error.clone();
        while serde_json::to_string(&Report::Failed { error: cut.clone() }).map_or(0, |j| j.len())
            > REPORT_LIMIT
        {
            let mut end = cut.len() - 64;
            while !cut.is_char_boundary(end) {
                end -= 1;
            }
            cut.truncate(end);
        }
        json = serde_json::to_string(&Report::Failed { error: cut }).expect("serializes");
    }
    std::fs::write(path, json).map_err(|e| {
        CliError::new(
            crate::error::Kind::Other,
            anyhow::Error::new(e).context(format!("cannot write the report {}", path.display())),
        )
    })
}
