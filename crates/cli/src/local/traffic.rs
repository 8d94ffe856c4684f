//! `motif traffic NAME REV=PCT ...`: how a function's requests split between its
//! revisions on motif serve.

use motif_api::TrafficTarget;
use motif_serve::admin::TrafficRequest;
use motif_serve::store::Route;
use reqwest::Method;

use crate::error::CliError;
use crate::local::{Admin, StateArgs};
use crate::output::Format;

/// Split a function's traffic between its revisions, and tag revisions.
///
/// Each target is REVISION=PERCENT: a revision's name (hello-00002), its number (2), or
/// `latest` (whatever the newest revision is, now and after later deploys). The
/// percentages must sum to 100. `--tag TAG=REVISION` routes TAG-NAME.localhost to that
/// revision alone, whatever its share.
///
/// Example: motif traffic hello hello-00001=90 latest=10 --tag canary=latest
#[derive(Debug, clap::Args)]
pub struct TrafficArgs {
    /// The function's name.
    name: String,
    /// REVISION=PERCENT, one or more.
    #[arg(value_name = "REVISION=PERCENT", required = true)]
    targets: Vec<String>,
    /// TAG=REVISION: a tag for a revision (it may have 0 %).
    #[arg(long = "tag", value_name = "TAG=REVISION")]
    tags: Vec<String>,
    #[command(flatten)]
    state: StateArgs,
}

/// Runs `motif traffic`.
pub async fn traffic(args: TrafficArgs, format: Format) -> Result<(), CliError> {
    let mut targets = Vec::new();
    for target in &args.targets {
        let (revision, percent) = target.split_once('=').ok_or_else(|| {
            CliError::input(format!("`{target}` is not REVISION=PERCENT"))
                .hint("write each target as hello-00002=90, 2=90 or latest=10")
        })?;
        let percent = percent.trim_end_matches('%').parse::<u32>().map_err(|_| {
            CliError::input(format!(
                "`{percent}` in `{target}` is not a whole percentage"
            ))
        })?;
        targets.push(TrafficTarget {
            revision: revision_name(&args.name, revision),
            percent,
            tag: None,
        });
    }
    for tag in &args.tags {
        let (tag, revision) = tag.split_once('=').ok_or_else(|| {
            CliError::input(format!("`{tag}` is not TAG=REVISION"))
                .hint("write a tag as --tag canary=hello-00002")
        })?;
        let revision = revision_name(&args.name, revision);
        match targets
            .iter_mut()
            .find(|t| t.revision == revision && t.tag.is_none())
        {
            Some(target) => target.tag = Some(tag.to_owned()),
            None => targets.push(TrafficTarget {
                revision,
                percent: 0,
                tag: Some(tag.to_owned()),
            }),
        }
    }
    let admin = Admin::connect(&args.state)?;
    let route: Route = admin
        .call(
            Method::PUT,
            &format!("/v1/functions/{}/traffic", args.name),
            Some(&TrafficRequest { targets }),
        )
        .await?;
    format.print(&route, |out| {
        let _ = writeln!(out, "traffic of {}:", args.name);
        for target in &route.targets {
            let revision = target
                .revision
                .clone()
                .unwrap_or_else(|| format!("latest ({})", route.latest));
            let tag = target
                .tag
                .as_ref()
                .map_or_else(String::new, |t| format!("  tag {t}"));
            let _ = writeln!(out, "  {revision:<24} {:>3}%{tag}", target.percent);
        }
    });
    Ok(())
}

/// `latest` → none (follow the latest), `2` → `NAME-00002`, a name as it is.
fn revision_name(function: &str, revision: &str) -> Option<String> {
    if revision == "latest" || revision == "@latest" {
        return None;
    }
    match revision.parse::<u32>() {
        Ok(number) => Some(format!("{function}-{number:05}")),
        Err(_) => Some(revision.to_owned()),
    }
}
