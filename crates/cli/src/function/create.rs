//! `motif function create`: riff's one step from source to a served function. The code
//! is fetched and told apart here; then on motif serve it is built on this machine and
//! deployed as a revision, and on a cluster the Function carries its `source` and the
//! cluster builds it (or, from `--local-path`, it is built here and pushed).

use std::path::PathBuf;
use std::time::Duration;

use kube::api::{Patch, PatchParams};
use motif_api::{Function, FunctionSpec};
use motif_build::Project;
use reqwest::Method;
use serde::Serialize;

use crate::cluster::{self, Target, TargetArgs, wait};
use crate::error::{CliError, Kind};
use crate::function::source::{self, SourceArgs};
use crate::local::deploy::{DeployOptions, Runtime};
use crate::local::{Admin, StateArgs, print_json_lines};
use crate::output::{Format, status};
use crate::paths;

/// Create a function from a source repository in one step: fetch, build, deploy, wait.
///
/// The code comes from --git-repo (cloned at --git-revision; the commit is recorded as
/// the Function's `source`) or --local-path. What it is comes from its motif.toml, else
/// from --language, --handler and its files; an ambiguity is an error naming the flag
/// that settles it.
///
/// On motif serve (the default) it is built here and deployed as a revision; `motif
/// function status NAME` shows it. With --cluster, a Function with `source.git` is
/// applied and the cluster builds it (a Job running the motif builder pushes to --image);
/// with --local-path it is built here, pushed to --image, and applied by digest. Then
/// motif waits until it is ready and prints its URL.
///
/// Exit codes: 0 ready; 3 bad flags or code that cannot be told apart; 4 a build step
/// failed; 5 the repository, registry, server or cluster cannot be reached; 6 the
/// function did not become ready; 7 it exists (without --force).
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The function's name: lowercase letters, digits and `-`.
    name: String,
    #[command(flatten)]
    source: SourceArgs,
    /// An environment variable of the function, KEY=VALUE (repeat it).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = crate::create::parse_param)]
    env: Vec<(String, String)>,
    #[command(flatten)]
    target: TargetArgs,
    /// With --cluster: where the build pushes the image, HOST/REPO[:TAG] [default:
    /// motif.toml's `build.image`].
    #[arg(long, env = "MOTIF_IMAGE", value_name = "HOST/REPO")]
    image: Option<String>,
    /// With --cluster: the Secret (`kubernetes.io/basic-auth`: `username`, `password`)
    /// the cluster's build pushes with.
    #[arg(long, env = "MOTIF_REGISTRY_SECRET", value_name = "SECRET")]
    registry_secret: Option<String>,
    /// Replace a function that exists: this source becomes its new revision.
    #[arg(long, env = "MOTIF_FORCE")]
    force: bool,
    /// Wait until the function is ready (the default).
    #[arg(long, overrides_with = "no_wait")]
    wait: bool,
    /// With --cluster: apply the Function and return without waiting.
    #[arg(long, overrides_with = "wait")]
    no_wait: bool,
    /// How long to wait for the function (and its build) to become ready.
    #[arg(
        long,
        env = "MOTIF_DEPLOY_TIMEOUT",
        value_name = "DURATION",
        default_value = "10m",
        value_parser = wait::parse_duration,
    )]
    timeout: Duration,
    /// Stream the build's and the function's logs until it is ready.
    #[arg(long)]
    tail: bool,
    /// Without --cluster: the motif-invoker binary for command functions [default:
    /// beside motif].
    #[arg(long, env = "MOTIF_INVOKER_BIN", value_name = "FILE")]
    invoker: Option<PathBuf>,
    /// Without --cluster: how motif serve runs the function.
    #[arg(long, env = "MOTIF_DEPLOY_RUNTIME", value_enum, default_value_t = Runtime::Auto)]
    runtime: Runtime,
    #[command(flatten)]
    state: StateArgs,
}

/// What was created, besides the deployment or the Function.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Created<T: Serialize> {
    name: String,
    language: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    handler: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<motif_api::CodeSource>,
    #[serde(flatten)]
    result: T,
}

/// Runs `motif function create`.
pub async fn create(args: CreateArgs, format: Format) -> Result<(), CliError> {
    motif_api::validate_name(&args.name).map_err(|e| {
        CliError::input(e).hint("for example `motif function create square --git-repo URL`")
    })?;
    if args.target.cluster {
        return on_cluster(args, format).await;
    }
    for (flag, given) in [
        ("--image", args.image.is_some()),
        ("--registry-secret", args.registry_secret.is_some()),
        ("--no-wait", args.no_wait),
    ] {
        if given {
            return Err(CliError::input(format!("{flag} goes with --cluster"))
                .hint("on motif serve the function is built here and is ready when deployed"));
        }
    }
    let admin = Admin::connect(&args.state)?;
    if admin.exists(&args.name).await? && !args.force {
        return Err(exists(&args.name, "motif serve"));
    }
    let project = load(&args).await?;
    let options = DeployOptions {
        path: project.dir.clone(),
        tag: None,
        invoker: args.invoker.clone(),
        runtime: args.runtime,
    };
    let summary = created(&project, ());
    let (name, request) = crate::local::deploy::request_for(project, &options).await?;
    status(format!("deploying {name} to motif serve"));
    let deployment: motif_serve::serving::Deployment = admin
        .call(
            Method::PUT,
            &format!("/v1/functions/{name}"),
            Some(&request),
        )
        .await?;
    if args.tail {
        // Ready is when the deploy answers: the new revision's lines until then.
        let path = format!("/v1/functions/{name}/logs?tail=1000&follow=false");
        let response = admin.send(Method::GET, &path, None::<&()>).await?;
        let revision = format!("{}/", deployment.revision);
        print_json_lines(response, None, |line: motif_serve::logs::LogLine| {
            let ours = line.source == deployment.revision || line.source.starts_with(&revision);
            if ours {
                eprintln!("[{}] {}", line.source, line.text);
            }
            None::<String>
        })
        .await?;
    }
    let printed = Created {
        result: &deployment,
        name: summary.name,
        language: summary.language,
        handler: summary.handler,
        source: summary.source,
    };
    format.print(&printed, |out| {
        let what = if deployment.created {
            "new revision"
        } else {
            "unchanged: no new revision"
        };
        let _ = writeln!(
            out,
            "{} is serving {} ({what})",
            deployment.name, deployment.revision
        );
        let _ = writeln!(out, "  URL:    {}", deployment.url);
        if let Some(source) = &printed.source {
            let _ = writeln!(out, "  Source: {}", describe(source));
        }
    });
    Ok(())
}

/// The function as its code says, with the flags over it.
async fn load(args: &CreateArgs) -> Result<Project, CliError> {
    let work = paths::data_dir().join("sources").join(&args.name);
    let source = args.source.clone();
    let name = args.name.clone();
    let env = args.env.clone();
    tokio::task::spawn_blocking(move || {
        if let Some(url) = &source.git_repo {
            status(format!("fetching {url}"));
        }
        let checkout = source::fetch(&source, &work)?;
        let mut project = source::project(&name, &checkout, &source)?;
        project.spec.env.extend(env);
        let problems = motif_api::validate_function(&name, &project.spec);
        if !problems.is_empty() {
            let each: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(CliError::input(format!(
                "the function `{name}` has invalid values: {}",
                each.join("; ")
            )));
        }
        status(format!(
            "{name} is {} with the handler {}",
            project.spec.language,
            project.handler()
        ));
        Ok(project)
    })
    .await
    .map_err(|e| CliError::new(Kind::Other, e))?
}

fn created<T: Serialize>(project: &Project, result: T) -> Created<T> {
    Created {
        name: project.name.clone(),
        language: project.spec.language.to_string(),
        handler: Some(project.handler().to_owned()),
        source: project.spec.source.clone(),
        result,
    }
}

fn describe(source: &motif_api::CodeSource) -> String {
    let mut text = source.git.url.clone();
    if let Some(sub_path) = &source.sub_path {
        text.push_str(&format!(" ({sub_path})"));
    }
    if let Some(revision) = &source.git.revision {
        text.push_str(&format!(" at {revision}"));
    }
    text
}

fn exists(name: &str, where_: &str) -> CliError {
    CliError::new(
        Kind::Exists,
        anyhow::anyhow!("the function `{name}` exists on {where_}"),
    )
    .hint("give --force to make this source its new revision")
}

/// `--cluster`: the Function applied with its source (the cluster builds it), or built
/// here from --local-path and applied by digest; then the wait.
async fn on_cluster(args: CreateArgs, format: Format) -> Result<(), CliError> {
    let target = Target::connect(&args.target).await?;
    let api = target.functions();
    let existing = api
        .get_opt(&args.name)
        .await
        .map_err(|e| target.fail(e, format!("looking for the Function `{}`", args.name)))?;
    if existing.is_some() && !args.force {
        return Err(exists(
            &args.name,
            &format!("the cluster (namespace {})", target.namespace),
        ));
    }
    let project = load(&args).await?;
    let mut spec: FunctionSpec = project.spec.clone();
    let image = args.image.clone().or_else(|| spec.build.image.clone());
    let Some(image) = image else {
        return Err(
            CliError::input("a function built for a cluster needs a registry to push to")
                .hint("give --image HOST/REPO (or MOTIF_IMAGE), or set `image` under [build] in motif.toml"),
        );
    };
    if spec.source.is_some() {
        // The cluster builds it, from the commit fetched here.
        spec.build.image = Some(image);
        spec.artifact.image = None;
        if args.registry_secret.is_some() {
            spec.build.registry_secret = args.registry_secret.clone();
        }
    } else {
        let reference = crate::build::reference(&image, &project.name)?;
        let base = spec.build.base.clone();
        let pushed =
            crate::function::build::push(&project, &reference, base, args.invoker.clone()).await?;
        status(format!("pushed {pushed}"));
        spec.artifact.image = Some(pushed);
    }
    let mut function = Function::new(&args.name, spec);
    function.metadata.namespace = Some(target.namespace.clone());
    motif_api::compile(&function).map_or_else(
        |e| match e {
            motif_api::CompileError::NotBuilt(_) => Ok(()),
            other => Err(crate::render::compile_error(other)),
        },
        |_| Ok(()),
    )?;
    let applied = api
        .patch(
            &args.name,
            &PatchParams::apply(cluster::FIELD_MANAGER).force(),
            &Patch::Apply(&function),
        )
        .await
        .map_err(|e| target.fail(e, format!("applying the Function `{}`", args.name)))?;
    status(format!(
        "applied Function {}/{} (generation {}){}",
        target.namespace,
        args.name,
        applied.metadata.generation.unwrap_or(0),
        if function.spec.source.is_some() {
            "; the cluster builds it"
        } else {
            ""
        }
    ));
    if args.no_wait {
        format.print(&cluster::printable(&applied), |out| {
            let _ = writeln!(
                out,
                "Function {} applied in namespace {}; `motif function status {} --cluster` \
                 shows its build and when it is ready",
                args.name, target.namespace, args.name
            );
        });
        return Ok(());
    }
    let waiting = crate::deploy::await_ready(&target, &args.name, args.timeout, format);
    if !args.tail {
        return waiting.await;
    }
    let tail = super::tail::pods(
        target.client.clone(),
        target.namespace.clone(),
        args.name.clone(),
    );
    tokio::select! {
        result = waiting => result,
        () = tail => unreachable!("the tail runs until it is dropped"),
    }
}
