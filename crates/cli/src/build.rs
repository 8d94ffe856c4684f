//! `motif build`: a WebAssembly component or an OCI image, optionally pushed.

use std::path::PathBuf;

use motif_build::image::{self, ImageOptions};
use motif_build::oci::{self, Platform, Progress, RegistryOptions};
use motif_build::{Error as BuildError, Project};
use serde::Serialize;

use crate::error::{CliError, Kind};
use crate::output::{self, Format, status};
use crate::paths;

/// Build a function into a WebAssembly component or an OCI image, and push it.
///
/// Without --wasm or --image, a wasm function builds its component and any other
/// builds an image; --push builds an image and pushes it to --registry (or `build.image`
/// in motif.toml), then records the digest in motif.toml as `artifact.image`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The function's directory.
    #[arg(default_value = ".", env = "MOTIF_FUNCTION_DIR")]
    path: PathBuf,
    /// Build only the WebAssembly component (wasm functions).
    #[arg(long, conflicts_with = "image")]
    wasm: bool,
    /// Build an OCI image (written as an OCI layout in .motif/build/image).
    #[arg(long)]
    image: bool,
    /// Push the image (implies --image).
    #[arg(long, env = "MOTIF_PUSH", conflicts_with = "wasm")]
    push: bool,
    /// Where to push: HOST/REPO[:TAG] (a bare HOST gets /NAME) [default: `build.image`].
    #[arg(long, env = "MOTIF_REGISTRY", value_name = "HOST/REPO")]
    registry: Option<String>,
    /// The image's platform, OS/ARCH [default: this machine's].
    #[arg(long, env = "MOTIF_PLATFORM", value_name = "OS/ARCH")]
    platform: Option<Platform>,
    /// The base image of js, ts, python and command functions [default: the
    /// language's, or `build.base` in motif.toml].
    #[arg(long, env = "MOTIF_BASE_IMAGE", value_name = "REFERENCE")]
    base: Option<String>,
    /// The motif-invoker binary for wasm and command images [default: beside motif].
    #[arg(long, env = "MOTIF_INVOKER_BIN", value_name = "FILE")]
    invoker: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Built {
    name: String,
    language: String,
    /// `wasm` or `image`.
    artifact: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    wasm: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    layout: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pushed: Option<String>,
}

/// Turns a build error into the CLI's, keeping its hint.
pub fn fail(error: BuildError) -> CliError {
    let kind = match &error {
        BuildError::Input { .. } | BuildError::File(_) => Kind::Input,
        BuildError::MissingTool { .. } | BuildError::Step { .. } => Kind::Build,
        BuildError::Oci(
            oci::Error::Connect { .. }
            | oci::Error::NotFound { .. }
            | oci::Error::Unauthorized { .. }
            | oci::Error::Registry { .. },
        ) => Kind::Network,
        _ => Kind::Other,
    };
    let hint = error.hint().map(str::to_owned);
    if let BuildError::File(file) = error {
        return file.into();
    }
    let error = CliError::new(kind, error);
    match hint {
        Some(hint) => error.hint(hint),
        None => error,
    }
}

/// Runs `motif build`.
pub async fn build(args: BuildArgs, format: Format) -> Result<(), CliError> {
    let project = Project::load(&args.path).map_err(fail)?;
    let language = project.spec.language;
    let wants_image = args.image || args.push || !(args.wasm || language.is_wasm());
    if args.wasm && !language.is_wasm() {
        return Err(
            CliError::input(format!("a {language} function has no wasm build"))
                .hint("build an image with --image"),
        );
    }
    let data_dir = paths::data_dir();
    if !wants_image {
        status(format!(
            "building {} ({language}) to WebAssembly",
            project.name
        ));
        let dir = data_dir.clone();
        let p = project.clone();
        let wasm = tokio::task::spawn_blocking(move || {
            let invokers = motif_build::invokers::Invokers::unpack(&dir)?;
            motif_build::steps::wasm(&p, &invokers)
        })
        .await
        .map_err(|e| CliError::new(Kind::Other, e))?
        .map_err(fail)?;
        let built = Built {
            name: project.name.clone(),
            language: language.to_string(),
            artifact: "wasm",
            wasm: Some(wasm),
            platform: None,
            digest: None,
            size: None,
            layout: None,
            pushed: None,
        };
        format.print(&built, |out| {
            let path = built.wasm.as_ref().expect("set");
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let _ = writeln!(
                out,
                "Built {} ({}): {}",
                built.name,
                human(size),
                path.display()
            );
        });
        return Ok(());
    }

    let reference = if args.push {
        let target = args
            .registry
            .clone()
            .or_else(|| project.spec.build.image.clone())
            .ok_or_else(|| {
                CliError::input("--push needs a registry to push to").hint(
                    "give --registry HOST/REPO (or MOTIF_REGISTRY), or set `image` under [build] in motif.toml",
                )
            })?;
        Some(reference(&target, &project.name)?)
    } else {
        None
    };
    let platform = args.platform.clone().unwrap_or_else(Platform::host);
    let options = ImageOptions {
        platform: platform.clone(),
        base: args.base.clone(),
        registry: RegistryOptions::from_env(),
        invoker: args.invoker.clone(),
        data_dir,
    };
    status(format!(
        "building {} ({language}) into an image for {platform}",
        project.name
    ));
    let image = image::build(&project, &options).await.map_err(fail)?;
    let layout = project.build_dir().map_err(fail)?.join("image");
    image
        .write_layout(&layout, &project.name)
        .map_err(|e| fail(e.into()))?;
    let mut pushed = None;
    if let Some(reference) = &reference {
        status(format!("pushing {reference}"));
        let progress = Bar::new();
        let digest = image
            .push(reference, &options.registry, &progress)
            .await
            .map_err(|e| fail(e.into()))?;
        progress.done();
        let repository = reference_repository(reference);
        let by_digest = format!("{repository}@{digest}");
        if project.has_file {
            motif_api::FunctionFile::record_image(&project.dir, &by_digest)?;
        }
        pushed = Some(by_digest);
    }
    let built = Built {
        name: project.name.clone(),
        language: language.to_string(),
        artifact: "image",
        wasm: None,
        platform: Some(platform.to_string()),
        digest: Some(image.digest().to_owned()),
        size: Some(image.size()),
        layout: Some(layout),
        pushed,
    };
    format.print(&built, |out| {
        let _ = writeln!(
            out,
            "Built image {} ({}, {}): {} ({})",
            built.name,
            built.language,
            platform,
            image.digest(),
            human(image.size())
        );
        let _ = writeln!(
            out,
            "  OCI layout: {} (tag {})",
            built.layout.as_ref().expect("set").display(),
            built.name
        );
        if let Some(pushed) = &built.pushed {
            let _ = writeln!(out, "Pushed {pushed}");
            if project.has_file {
                let _ = writeln!(out, "  recorded in motif.toml as artifact.image");
            }
        }
    });
    Ok(())
}

/// `HOST/REPO[:TAG]` from `--registry`: a bare host gets `/NAME`, no tag gets `latest`.
pub(crate) fn reference(target: &str, name: &str) -> Result<String, CliError> {
    if target.contains('@') {
        return Err(
            CliError::input(format!("--registry {target} names a digest"))
                .hint("give HOST/REPO[:TAG]; the digest is what the push makes"),
        );
    }
    let target = target.trim_end_matches('/');
    let with_repo = if target.contains('/') {
        target.to_owned()
    } else {
        format!("{target}/{name}")
    };
    let last = with_repo.rsplit('/').next().unwrap_or("");
    Ok(if last.contains(':') {
        with_repo
    } else {
        format!("{with_repo}:latest")
    })
}

/// `HOST/REPO` of `HOST/REPO:TAG`.
pub(crate) fn reference_repository(reference: &str) -> &str {
    let slash = reference.rfind('/').unwrap_or(0);
    match reference[slash..].find(':') {
        Some(colon) => &reference[..slash + colon],
        None => reference,
    }
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// A push's progress bar (hidden when stderr is not a terminal).
struct Bar {
    bar: indicatif::ProgressBar,
}

impl Bar {
    fn new() -> Bar {
        let bar = if output::interactive() {
            indicatif::ProgressBar::new(0)
        } else {
            indicatif::ProgressBar::hidden()
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg:30} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar { bar }
    }

    fn done(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total_bytes: u64) {
        self.bar.set_message(what.to_owned());
        self.bar.set_length(total_bytes);
        self.bar.set_position(0);
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn finish(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(
            reference("127.0.0.1:5000", "hello").unwrap(),
            "127.0.0.1:5000/hello:latest"
        );
        assert_eq!(
            reference("127.0.0.1:5000/a/b", "x").unwrap(),
            "127.0.0.1:5000/a/b:latest"
        );
        assert_eq!(
            reference("127.0.0.1:5000/a:v1", "x").unwrap(),
            "127.0.0.1:5000/a:v1"
        );
        assert!(reference("h/a@sha256:00", "x").is_err());
        assert_eq!(
            reference_repository("127.0.0.1:5000/a:v1"),
            "127.0.0.1:5000/a"
        );
        assert_eq!(reference_repository("127.0.0.1:5000/a"), "127.0.0.1:5000/a");
    }
}
