//! `motif list --cluster`: the Functions of a namespace, or of every namespace.

use kube::api::{Api, ListParams};
use motif_api::Function;

use crate::cluster::{self, Target, TargetArgs};
use crate::error::CliError;
use crate::output::{Format, status};
use crate::render;

/// List the Functions on the cluster: NAME, READY, URL and AGE.
///
/// With `-o json` or `-o yaml`, a `v1` `List` of the Function objects.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    state: crate::local::StateArgs,
    /// The Functions of every namespace (overrides --namespace).
    #[arg(
        short = 'A',
        long,
        env = "MOTIF_ALL_NAMESPACES",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    all_namespaces: bool,
}

/// Runs `motif list`.
pub async fn list(args: ListArgs, format: Format) -> Result<(), CliError> {
    if !args.target.cluster {
        return crate::local::view::list(&args.state, format).await;
    }
    let target = Target::connect(&args.target).await?;
    let api: Api<Function> = if args.all_namespaces {
        Api::all(target.client.clone())
    } else {
        target.functions()
    };
    let functions = api
        .list(&ListParams::default())
        .await
        .map_err(|e| target.fail(e, "listing the Functions"))?
        .items;
    let objects = functions.iter().map(cluster::printable).collect();
    format.print(&render::list(objects), |out| {
        if functions.is_empty() {
            status(if args.all_namespaces {
                "no Functions in any namespace".to_owned()
            } else {
                format!("no Functions in namespace `{}`", target.namespace)
            });
            return;
        }
        let mut rows = vec![];
        let mut header = vec!["NAME", "READY", "URL", "AGE"];
        if args.all_namespaces {
            header.insert(0, "NAMESPACE");
        }
        rows.push(header.into_iter().map(str::to_owned).collect());
        for function in &functions {
            let state = function.status.clone().unwrap_or_default();
            let mut row = vec![
                function.metadata.name.clone().unwrap_or_default(),
                cluster::ready_status(&state.conditions).to_owned(),
                state.url.unwrap_or_else(|| "-".to_owned()),
                cluster::object_age(&function.metadata),
            ];
            if args.all_namespaces {
                row.insert(0, function.metadata.namespace.clone().unwrap_or_default());
            }
            rows.push(row);
        }
        let _ = cluster::table(out, &rows);
    });
    Ok(())
}
