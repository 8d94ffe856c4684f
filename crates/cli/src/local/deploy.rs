//! `motif deploy` without `--cluster`: the function built on this machine and deployed
//! to `motif serve` as a new revision: its wasm, its process, or its OCI image.

use std::path::{Path, PathBuf};

use motif_build::Project;
use motif_build::image::{self, ImageOptions};
use motif_build::local::{self, Servable};
use motif_build::oci::{Image, Platform, RegistryOptions};
use motif_serve::admin::DeployRequest;
use motif_serve::artifact::Source;
use motif_serve::serving::{Deployment, Serving};
use reqwest::Method;

use crate::build::fail;
use crate::error::{CliError, Kind};
use crate::local::{Admin, StateArgs};
use crate::output::{Format, status};
use crate::paths;

/// How `motif serve` runs a deployed function's instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Runtime {
    /// WebAssembly functions in motif serve's own process, any other as a process.
    #[default]
    Auto,
    /// The function behind its invoker as a child process (not for wasm functions).
    Process,
    /// The function's OCI image, built here as `motif build` builds it, run with runc
    /// (motif serve must run as root, with runc and umoci installed).
    Oci,
}

/// What a local deploy needs.
pub struct DeployOptions {
    /// The function's directory.
    pub path: PathBuf,
    /// A tag to point at the new revision.
    pub tag: Option<String>,
    /// The motif-invoker binary.
    pub invoker: Option<PathBuf>,
    /// How it runs.
    pub runtime: Runtime,
}

/// Builds the function and says what to deploy.
async fn request(options: &DeployOptions) -> Result<(String, DeployRequest), CliError> {
    let dir = options.path.clone();
    let project = tokio::task::spawn_blocking(move || Project::load(&dir))
        .await
        .map_err(|e| CliError::new(Kind::Other, e))?
        .map_err(fail)?;
    request_for(project, options).await
}

/// Builds a loaded function (its directory, name and spec) and says what to deploy.
pub async fn request_for(
    project: Project,
    options: &DeployOptions,
) -> Result<(String, DeployRequest), CliError> {
    let language = project.spec.language;
    let source = match options.runtime {
        Runtime::Oci => image_source(&project, options.invoker.clone()).await?,
        Runtime::Process if language.is_wasm() => {
            return Err(CliError::input(format!(
                "a {language} function runs as wasm, not as a process"
            ))
            .hint(
                "deploy it with --runtime auto (in motif serve's process) or --runtime oci \
                 (its image, in a container)",
            ));
        }
        Runtime::Auto | Runtime::Process => {
            process_source(&project, options.invoker.clone()).await?
        }
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

/// The function's wasm (a wasm language) or its process (any other), built here.
async fn process_source(project: &Project, invoker: Option<PathBuf>) -> Result<Source, CliError> {
    let built = project.clone();
    let servable = tokio::task::spawn_blocking(move || {
        local::prepare_servable(&built, &paths::data_dir(), invoker.as_deref())
    })
    .await
    .map_err(|e| CliError::new(Kind::Other, e))?
    .map_err(fail)?;
    Ok(match servable {
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
    })
}

/// The function's image for this machine, built as `motif build` builds it (into the
/// OCI layout `.motif/build/image`, tagged with its name), not pushed.
async fn image_source(project: &Project, invoker: Option<PathBuf>) -> Result<Source, CliError> {
    let image = build_image(project, None, invoker).await?;
    let layout = project.build_dir().map_err(fail)?.join("image");
    image
        .write_layout(&layout, &project.name)
        .map_err(|e| fail(e.into()))?;
    Ok(Source::Oci {
        layout: absolute(&layout),
        tag: project.name.clone(),
    })
}

/// Builds `project`'s image for this machine's platform, as `motif build` does (`base`
/// over `build.base`, else the language's).
pub async fn build_image(
    project: &Project,
    base: Option<String>,
    invoker: Option<PathBuf>,
) -> Result<Image, CliError> {
    let platform = Platform::host();
    let options = ImageOptions {
        platform: platform.clone(),
        base,
        registry: RegistryOptions::from_env(),
        invoker,
        data_dir: paths::data_dir(),
    };
    status(format!(
        "building {} ({}) into an image for {platform}",
        project.name, project.spec.language
    ));
    image::build(project, &options).await.map_err(fail)
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

/// Prints a deploy's outcome: the revision, whether it is new, and the URL.
pub fn print(deployment: &Deployment, format: Format) {
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
