//! `motif deploy` without `--cluster`: the function built on this machine and deployed
//! to `motif serve` as a new revision.

use std::path::{Path, PathBuf};

use motif_build::Project;
use motif_build::local::{self, Servable};
use motif_serve::admin::DeployRequest;
use motif_serve::artifact::Source;
use motif_serve::serving::{Deployment, Serving};
use reqwest::Method;

use crate::build::fail;
use crate::error::{CliError, Kind};
use crate::local::{Admin, StateArgs};
use crate::output::{Format, status};
use crate::paths;

/// What a local deploy needs.
pub struct DeployOptions {
    /// The function's directory.
    pub path: PathBuf,
    /// A tag to point at the new revision.
    pub tag: Option<String>,
    /// The motif-invoker binary.
    pub invoker: Option<PathBuf>,
}

/// Builds the function and says what to deploy.
async fn request(options: &DeployOptions) -> Result<(String, DeployRequest), CliError> {
    let dir = options.path.clone();
    let invoker = options.invoker.clone();
    let (project, servable) = tokio::task::spawn_blocking(move || {
        let project = Project::load(&dir)?;
        let servable = local::prepare_servable(&project, &paths::data_dir(), invoker.as_deref())?;
        Ok::<_, motif_build::Error>((project, servable))
    })
    .await
    .map_err(|e| CliError::new(Kind::Other, e))?
    .map_err(fail)?;
    let source = match servable {
        Servable::Wasm(path) => Source::Wasm { path },
        Servable::Process {
            launch,
            program_is_artifact,
        } => Source::Process {
            program: launch.program,
            args: launch
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            // The function's own variables come from its spec, on the server.
            env: launch
                .env
                .into_iter()
                .filter(|(key, _)| !is_spec_env(&project.spec, key))
                .collect(),
            dir: absolute(&launch.dir),
            program_is_artifact,
        },
    };
    Ok((
        project.name.clone(),
        DeployRequest {
            spec: project.spec,
            source,
            tag: options.tag.clone(),
        },
    ))
}

/// Whether `key` is one of the variables the server derives from the spec itself.
fn is_spec_env(spec: &motif_api::FunctionSpec, key: &str) -> bool {
    spec.runtime_env("-").iter().any(|(k, _)| k == key)
}

fn absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// Deploys through the admin API of the running `motif serve`.
pub async fn deploy(
    options: DeployOptions,
    state: &StateArgs,
    format: Format,
) -> Result<(), CliError> {
    let admin = Admin::connect(state)?;
    let (name, request) = request(&options).await?;
    status(format!("deploying {name} to motif serve"));
    let deployment: Deployment = admin
        .call(
            Method::PUT,
            &format!("/v1/functions/{name}"),
            Some(&request),
        )
        .await?;
    print(&deployment, format);
    Ok(())
}

/// Deploys straight into a server in this process (`motif serve --deploy`).
pub async fn deploy_in_process(
    serving: &Serving,
    options: &DeployOptions,
) -> Result<Deployment, CliError> {
    let (name, request) = request(options).await?;
    serving
        .deploy(
            &name,
            &request.spec,
            &request.source,
            request.tag.as_deref(),
        )
        .await
        .map_err(|e| CliError::new(Kind::Function, e))
}

fn print(deployment: &Deployment, format: Format) {
    format.print(deployment, |out| {
        let what = if deployment.created {
            match deployment.ready_after_millis {
                Some(ms) => format!("new revision, first instance ready in {ms:.1} ms"),
                None => "new revision".to_owned(),
            }
        } else {
            "unchanged: no new revision".to_owned()
        };
        let _ = writeln!(
            out,
            "{} is serving {} ({what})",
            deployment.name, deployment.revision
        );
        let _ = writeln!(out, "  URL: {}", deployment.url);
    });
}
