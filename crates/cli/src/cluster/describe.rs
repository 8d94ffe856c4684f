//! `motif describe --cluster`: one Function, its status and conditions, and the Knative
//! Service and Triggers the controller made of it.

use std::io::Write;

use kube::api::{Api, ListParams};
use motif_api::knative::{KnativeService, Trigger};
use motif_api::{Condition, FUNCTION_LABEL, Function};

use crate::cluster::{self, NotFound, Target, TargetArgs};
use crate::error::CliError;
use crate::output::Format;
use crate::render;

/// Show a Function on the cluster: its spec, status and conditions, and its Knative
/// Service and Triggers with their readiness.
///
/// With `-o json` or `-o yaml`, a `v1` `List` of the objects: the Function, then the
/// Service and the Triggers that exist.
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// The Function's name.
    name: String,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    state: crate::local::StateArgs,
}

/// Runs `motif describe`.
pub async fn describe(args: DescribeArgs, format: Format) -> Result<(), CliError> {
    if !args.target.cluster {
        return crate::local::view::describe(&args.name, &args.state, format).await;
    }
    let target = Target::connect(&args.target).await?;
    let name = args.name;
    let function = target
        .functions()
        .get(&name)
        .await
        .map_err(|e| target.fail_function(e, &name, "reading"))?;
    let services: Api<KnativeService> = Api::namespaced(target.client.clone(), &target.namespace);
    // Not there yet (or Knative is not installed): shown as such, not an error.
    let service = match services.get(&name).await {
        Ok(service) => Some(service),
        Err(kube::Error::Api(status)) if cluster::not_found(&status).is_some() => None,
        Err(e) => return Err(target.fail(e, format!("reading the Knative Service `{name}`"))),
    };
    let triggers: Api<Trigger> = Api::namespaced(target.client.clone(), &target.namespace);
    let selector = format!("{FUNCTION_LABEL}={name}");
    let triggers = match triggers
        .list(&ListParams::default().labels(&selector))
        .await
    {
        Ok(list) => list.items,
        Err(kube::Error::Api(status))
            if cluster::not_found(&status) == Some(NotFound::ResourceType) =>
        {
            Vec::new()
        }
        Err(e) => return Err(target.fail(e, format!("listing the Triggers of `{name}`"))),
    };

    let mut objects = vec![cluster::printable(&function)];
    objects.extend(service.iter().map(cluster::printable));
    objects.extend(triggers.iter().map(cluster::printable));
    format.print(&render::list(objects), |out| {
        let _ = write_text(out, &function, service.as_ref(), &triggers);
    });
    Ok(())
}

fn write_text(
    out: &mut dyn Write,
    function: &Function,
    service: Option<&KnativeService>,
    triggers: &[Trigger],
) -> std::io::Result<()> {
    let spec = &function.spec;
    let state = function.status.clone().unwrap_or_default();
    let or_dash = |value: Option<&str>| value.unwrap_or("-").to_owned();
    let mut fields = vec![
        ("Name", or_dash(function.metadata.name.as_deref())),
        ("Namespace", or_dash(function.metadata.namespace.as_deref())),
        ("Language", spec.language.to_string()),
        ("Kind", spec.kind.to_string()),
    ];
    match &spec.source {
        // Built by the cluster: the source, and what its latest build made.
        Some(source) if spec.artifact.image.is_none() => {
            let mut text = source.git.url.clone();
            if let Some(sub_path) = &source.sub_path {
                text.push_str(&format!(" ({sub_path})"));
            }
            if let Some(revision) = &source.git.revision {
                text.push_str(&format!(" at {revision}"));
            }
            fields.push(("Source", text));
            fields.push(("Build image", or_dash(spec.build.image.as_deref())));
            fields.push(("Latest image", or_dash(state.latest_image.as_deref())));
            if let Some(build) = &state.build {
                let commit = build.commit.as_deref().unwrap_or("-");
                fields.push(("Built by", format!("Job {} (commit {commit})", build.job)));
            }
        }
        _ => fields.push(("Image", or_dash(spec.artifact.image.as_deref()))),
    }
    fields.push(("Timeout", format!("{}s", spec.timeout())));
    if let Some(concurrency) = spec.concurrency {
        fields.push(("Concurrency", concurrency.to_string()));
    }
    if spec.scale.min.is_some() || spec.scale.max.is_some() {
        let bound = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        fields.push((
            "Scale",
            format!(
                "min {}, max {}",
                bound(spec.scale.min),
                bound(spec.scale.max)
            ),
        ));
    }
    fields.push(("Subscriptions", spec.subscriptions.len().to_string()));
    let generation = function.metadata.generation.unwrap_or(0);
    let observed = state.observed_generation.map_or_else(
        || "not observed yet".to_owned(),
        |g| format!("observed {g}"),
    );
    fields.push(("Generation", format!("{generation} ({observed})")));
    fields.push(("Ready", cluster::ready_status(&state.conditions).to_owned()));
    fields.push(("URL", or_dash(state.url.as_deref())));
    fields.push(("Revision", or_dash(state.latest_ready_revision.as_deref())));
    fields.push(("Age", cluster::object_age(&function.metadata)));
    for (label, value) in fields {
        writeln!(out, "{:<15}{value}", format!("{label}:"))?;
    }

    writeln!(out, "\nConditions:")?;
    if state.conditions.is_empty() {
        writeln!(
            out,
            "  none reported yet (is the motif controller running?)"
        )?;
    } else {
        conditions(out, &state.conditions)?;
    }

    writeln!(out, "\nService:")?;
    match service {
        Some(service) => {
            let conditions = service
                .status
                .as_ref()
                .map(|s| s.conditions.as_slice())
                .unwrap_or_default();
            let rows = vec![
                vec!["NAME".into(), "READY".into(), "REASON".into()],
                vec![
                    service.metadata.name.clone().unwrap_or_default(),
                    cluster::ready_status(conditions).to_owned(),
                    ready_reason(conditions),
                ],
            ];
            indented(out, &rows)?;
        }
        None => writeln!(out, "  not created yet")?,
    }

    writeln!(out, "\nTriggers:")?;
    if triggers.is_empty() {
        let none = if spec.subscriptions.is_empty() {
            "  none (no subscriptions)"
        } else {
            "  not created yet"
        };
        writeln!(out, "{none}")?;
    } else {
        let mut rows = vec![vec![
            "NAME".into(),
            "BROKER".into(),
            "READY".into(),
            "REASON".into(),
        ]];
        for trigger in triggers {
            let conditions = trigger
                .status
                .as_ref()
                .map(|s| s.conditions.as_slice())
                .unwrap_or_default();
            rows.push(vec![
                trigger.metadata.name.clone().unwrap_or_default(),
                trigger.spec.broker.clone(),
                cluster::ready_status(conditions).to_owned(),
                ready_reason(conditions),
            ]);
        }
        indented(out, &rows)?;
    }
    Ok(())
}

fn conditions(out: &mut dyn Write, conditions: &[Condition]) -> std::io::Result<()> {
    let mut rows = vec![vec![
        "TYPE".into(),
        "STATUS".into(),
        "REASON".into(),
        "MESSAGE".into(),
    ]];
    for c in conditions {
        rows.push(vec![
            c.type_.clone(),
            c.status.clone(),
            c.reason.clone().unwrap_or_default(),
            c.message.clone().unwrap_or_default(),
        ]);
    }
    indented(out, &rows)
}

fn ready_reason(conditions: &[Condition]) -> String {
    motif_api::knative::ready(conditions)
        .and_then(|c| c.reason.clone())
        .unwrap_or_default()
}

/// A table indented by two spaces, under a heading.
fn indented(out: &mut dyn Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut text = Vec::new();
    cluster::table(&mut text, rows)?;
    for line in String::from_utf8_lossy(&text).lines() {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}
