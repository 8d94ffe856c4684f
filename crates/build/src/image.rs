//! A function as an OCI image, without a Docker daemon: which layers each language gets,
//! on which base, with which entrypoint, environment and labels.
//!
//! | language | base | layers | entrypoint |
//! |---|---|---|---|
//! | rust | none | the static (musl) binary | `/function/BIN` |
//! | rust-wasm, python-wasm, c-wasm | none | `motif-invoker`; the `.wasm` | `motif-invoker --wasm /function/function.wasm` |
//! | command | `debian:bookworm-slim` | `motif-invoker`; the function's files | `motif-invoker --command /function/HANDLER` |
//! | js, ts | `node:20-bookworm-slim` | the Node invoker; production dependencies; the function | `node .../motif-node.js /function/...` |
//! | python | `python:3.11-slim-bookworm` | the Python invoker and its wheels; requirements; the function | `python3 -m motif /function/HANDLER` |
//!
//! A `motif-invoker` that is dynamically linked carries its libraries in `/motif/lib` and
//! starts through their loader, so it runs on an empty base and never shadows a base's
//! own `/lib`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use motif_api::Language;

use crate::error::Error;
use crate::invokers::Invokers;
use crate::local::function_env;
use crate::oci::{self, ImageConfig, LayerBuilder, Platform, RegistryOptions};
use crate::project::Project;
use crate::{rust, steps, tools};

/// What an image build needs besides the function.
#[derive(Clone, Debug)]
pub struct ImageOptions {
    /// The platform to build for.
    pub platform: Platform,
    /// The base image for js, ts, python and command functions [default: the language's].
    pub base: Option<String>,
    /// How to reach registries (to pull the base).
    pub registry: RegistryOptions,
    /// The `motif-invoker` binary to put in wasm and command images.
    pub invoker: Option<PathBuf>,
    /// motif's data directory (unpacked invokers, cached base blobs).
    pub data_dir: PathBuf,
}

/// The default base image of a language, if it has one.
pub fn default_base(language: Language) -> Option<&'static str> {
    match language {
        Language::Js | Language::Ts => Some("node:20-bookworm-slim"),
        Language::Python => Some("python:3.11-slim-bookworm"),
        Language::Command => Some("debian:bookworm-slim"),
        Language::Rust | Language::RustWasm | Language::PythonWasm | Language::CWasm => None,
    }
}

/// Files of a function's directory that never go into its image.
fn keep(path: &Path) -> bool {
    !path.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some(".git" | ".motif" | "node_modules" | "target" | "__pycache__")
        )
    })
}

/// Builds the function and assembles its image.
pub async fn build(project: &Project, options: &ImageOptions) -> Result<oci::Image, Error> {
    let language = project.spec.language;
    let platform = &options.platform;
    let mut layers = Vec::new();
    let mut env = vec!["PORT=8080".to_owned()];
    env.extend(
        function_env(project)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}")),
    );
    let mut config = ImageConfig {
        working_dir: Some("/function".into()),
        exposed_ports: vec!["8080/tcp".into()],
        labels: labels(project),
        ..ImageConfig::default()
    };
    let base_ref = options
        .base
        .clone()
        .or_else(|| project.spec.build.base.clone())
        .or_else(|| default_base(language).map(str::to_owned));
    let base = match (default_base(language), &base_ref) {
        (Some(_), Some(reference)) => {
            let cache = options.data_dir.join("oci");
            Some(oci::pull(reference, platform, &options.registry, &cache).await?)
        }
        _ => None,
    };
    if let Some(reference) = base_ref.as_ref().filter(|_| base.is_some()) {
        config.labels.insert(
            "org.opencontainers.image.base.name".into(),
            reference.clone(),
        );
    }

    match language {
        Language::Rust => {
            let package = rust::Package::read(&project.dir)?;
            let binary = package.build_static(&musl_triple(platform)?)?;
            let mut layer = LayerBuilder::new();
            let path = format!("/function/{}", package.bin);
            layer
                .add_file_from(&path, &binary)
                .map_err(Error::io("read", &binary))?;
            layers.push(layer.finish().map_err(Error::io("write", "a layer"))?);
            config.entrypoint = vec![path];
        }
        Language::RustWasm | Language::PythonWasm | Language::CWasm => {
            let invokers = Invokers::unpack(&options.data_dir)?;
            let wasm = steps::wasm(project, &invokers)?;
            let (layer, entry) = invoker_layer(options, platform)?;
            layers.push(layer);
            let mut component = LayerBuilder::new();
            component
                .add_file_from("/function/function.wasm", &wasm)
                .map_err(Error::io("read", &wasm))?;
            layers.push(component.finish().map_err(Error::io("write", "a layer"))?);
            config.entrypoint = entry;
            config
                .entrypoint
                .extend(["--wasm".into(), "/function/function.wasm".into()]);
        }
        Language::Command => {
            project.check_handler()?;
            let (layer, entry) = invoker_layer(options, platform)?;
            layers.push(layer);
            layers.push(function_layer(project)?);
            config.entrypoint = entry;
            config.entrypoint.extend([
                "--command".into(),
                format!("/function/{}", project.handler()),
            ]);
        }
        Language::Js | Language::Ts => {
            let invokers = Invokers::unpack(&options.data_dir)?;
            let node_dir = invokers.node()?;
            let mut invoker = LayerBuilder::new();
            invoker
                .add_tree("/motif/invoker/node", &node_dir, &|p| {
                    !p.ends_with(".complete") && !p.starts_with("node_modules/.package-lock.json")
                })
                .map_err(Error::io("read", &node_dir))?;
            layers.push(invoker.finish().map_err(Error::io("write", "a layer"))?);
            let target = if language == Language::Ts {
                steps::typescript(project)?;
                "/function".to_owned()
            } else {
                project.check_handler()?;
                format!("/function/{}", project.handler())
            };
            let staging = project.build_dir()?.join("node-deps");
            let _ = std::fs::remove_dir_all(&staging);
            if steps::node_dependencies(project, &staging)? {
                let mut deps = LayerBuilder::new();
                let modules = staging.join("node_modules");
                deps.add_tree("/function/node_modules", &modules, &|p| {
                    !p.starts_with(".package-lock.json")
                })
                .map_err(Error::io("read", &modules))?;
                layers.push(deps.finish().map_err(Error::io("write", "a layer"))?);
            }
            layers.push(function_layer(project)?);
            config.entrypoint = vec![
                "node".into(),
                "/motif/invoker/node/bin/motif-node.js".into(),
                target,
            ];
        }
        Language::Python => {
            project.check_handler()?;
            let invokers = Invokers::unpack(&options.data_dir)?;
            let python = steps::python()?;
            let version = python_version(base.as_ref(), &python)?;
            let tags = wheel_platforms(platform)?;
            let target = (tags.as_str(), version.as_str());
            let deps = invokers.python_deps_for(&python, Some(target))?;
            let mut invoker = LayerBuilder::new();
            let package = invokers.python().join("motif");
            invoker
                .add_tree("/motif/invoker/python/motif", &package, &keep)
                .map_err(Error::io("read", &package))?;
            invoker
                .add_tree("/motif/invoker/python/deps", &deps, &|p| {
                    keep(p) && !p.ends_with(".complete")
                })
                .map_err(Error::io("read", &deps))?;
            let wit = invokers.root().join("wit");
            invoker
                .add_tree("/motif/invoker/wit", &wit, &keep)
                .map_err(Error::io("read", &wit))?;
            layers.push(invoker.finish().map_err(Error::io("write", "a layer"))?);
            let own = project.build_dir()?.join("python-image-deps");
            let mut path = vec!["/function".to_owned()];
            if steps::python_dependencies(project, &own, Some(target))? {
                let mut layer = LayerBuilder::new();
                layer
                    .add_tree("/motif/function-deps", &own, &keep)
                    .map_err(Error::io("read", &own))?;
                layers.push(layer.finish().map_err(Error::io("write", "a layer"))?);
                path.push("/motif/function-deps".into());
            }
            path.extend([
                "/motif/invoker/python".into(),
                "/motif/invoker/python/deps".into(),
            ]);
            layers.push(function_layer(project)?);
            env.push(format!("PYTHONPATH={}", path.join(":")));
            env.push("PYTHONDONTWRITEBYTECODE=1".into());
            config.entrypoint = vec![
                "python3".into(),
                "-m".into(),
                "motif".into(),
                format!("/function/{}", project.handler()),
            ];
        }
    }
    config.env = env;
    Ok(oci::Image::assemble(
        base.as_ref(),
        layers,
        &config,
        platform,
    )?)
}

fn labels(project: &Project) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "org.opencontainers.image.title".into(),
            project.name.clone(),
        ),
        ("dev.motif.function.name".into(), project.name.clone()),
        (
            "dev.motif.function.language".into(),
            project.spec.language.to_string(),
        ),
        (
            "dev.motif.function.kind".into(),
            project.spec.kind.to_string(),
        ),
    ])
}

/// The function's directory as `/function` (without `.git`, `.motif`, `node_modules`,
/// `target`).
fn function_layer(project: &Project) -> Result<oci::Layer, Error> {
    let mut layer = LayerBuilder::new();
    layer
        .add_tree("/function", &project.dir, &keep)
        .map_err(Error::io("read", &project.dir))?;
    layer.finish().map_err(Error::io("write", "a layer"))
}

/// `motif-invoker` as a layer, and how to start it.
fn invoker_layer(
    options: &ImageOptions,
    platform: &Platform,
) -> Result<(oci::Layer, Vec<String>), Error> {
    let binary = steps::invoker(options.invoker.as_deref())?;
    check_machine(&binary, platform)?;
    let mut layer = LayerBuilder::new();
    layer
        .add_file_from("/motif/bin/motif-invoker", &binary)
        .map_err(Error::io("read", &binary))?;
    let libraries = shared_libraries(&binary)?;
    let entry = if libraries.is_empty() {
        vec!["/motif/bin/motif-invoker".to_owned()]
    } else {
        let mut loader = None;
        for (name, path) in &libraries {
            let dest = format!("/motif/lib/{name}");
            layer
                .add_file_from(&dest, path)
                .map_err(Error::io("read", path))?;
            if name.starts_with("ld-") {
                loader = Some(dest);
            }
        }
        let loader = loader.ok_or_else(|| {
            Error::input(
                format!(
                    "{} is dynamically linked but `ldd` shows no loader",
                    binary.display()
                ),
                "use a statically linked motif-invoker (the musl target)",
            )
        })?;
        vec![
            loader,
            "--library-path".into(),
            "/motif/lib".into(),
            "/motif/bin/motif-invoker".into(),
        ]
    };
    Ok((
        layer.finish().map_err(Error::io("write", "a layer"))?,
        entry,
    ))
}

/// A dynamic binary's libraries and loader, by file name; none for a static one (or
/// where there is no `ldd` to ask).
fn shared_libraries(binary: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    if tools::which("ldd").is_none() {
        return Ok(vec![]);
    }
    let mut libraries: Vec<_> = crate::libraries::shared_libraries(binary)
        .map_err(Error::io("run ldd on", binary))?
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, path)
        })
        .collect();
    libraries.sort();
    libraries.dedup();
    Ok(libraries)
}

/// Refuses a binary built for another machine than the platform's.
fn check_machine(binary: &Path, platform: &Platform) -> Result<(), Error> {
    let mut header = [0u8; 20];
    let read = std::fs::File::open(binary)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .map_err(Error::io("read", binary));
    read?;
    if &header[..4] != b"\x7fELF" {
        return Err(Error::input(
            format!("{} is not a Linux executable", binary.display()),
            "point MOTIF_INVOKER_BIN at a Linux motif-invoker",
        ));
    }
    let machine = match u16::from_le_bytes([header[18], header[19]]) {
        0x3e => "amd64",
        0xb7 => "arm64",
        _ => "another architecture",
    };
    if machine != platform.architecture {
        return Err(Error::input(
            format!(
                "{} is built for {machine}, not for {platform}",
                binary.display()
            ),
            format!("give a motif-invoker built for {platform} with MOTIF_INVOKER_BIN"),
        ));
    }
    Ok(())
}

/// The Rust musl target of a platform.
fn musl_triple(platform: &Platform) -> Result<String, Error> {
    match (platform.os.as_str(), platform.architecture.as_str()) {
        ("linux", "amd64") => Ok("x86_64-unknown-linux-musl".into()),
        ("linux", "arm64") => Ok("aarch64-unknown-linux-musl".into()),
        _ => Err(Error::input(
            format!("Rust functions cannot be built for {platform}"),
            "use linux/amd64 or linux/arm64",
        )),
    }
}

/// pip's wheel platform tags for a platform (newest glibc baseline first).
fn wheel_platforms(platform: &Platform) -> Result<String, Error> {
    let arch = match (platform.os.as_str(), platform.architecture.as_str()) {
        ("linux", "amd64") => "x86_64",
        ("linux", "arm64") => "aarch64",
        _ => {
            return Err(Error::input(
                format!("Python functions cannot be built for {platform}"),
                "use linux/amd64 or linux/arm64",
            ));
        }
    };
    Ok(format!("manylinux2014_{arch}"))
}

/// The Python version wheels are chosen for: the base image's `PYTHON_VERSION` (the
/// official images set it), else this machine's.
fn python_version(base: Option<&oci::BaseImage>, python: &Path) -> Result<String, Error> {
    let env = base.and_then(|b| b.config()["config"]["Env"].as_array().cloned());
    let version = env
        .iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .find_map(|kv| kv.strip_prefix("PYTHON_VERSION="));
    if let Some(version) = version {
        let mut parts = version.split('.');
        if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
            return Ok(format!("{major}.{minor}"));
        }
    }
    let out = tools::output(
        "python3 --version",
        Command::new(python).args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]),
    )?;
    Ok(out.trim().to_owned())
}
