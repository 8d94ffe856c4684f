//! OCI images without a Docker daemon: layers, the image config, the manifest, the image
//! layout on disk, and pulls and pushes against a registry.
//!
//! It is for turning files into a runnable, reproducible image, on top of an optional base
//! image pulled from a registry. It is not a general registry tool: no signing, no
//! garbage collection of layouts, no cross-repository blob mounts.
//!
//! ```no_run
//! use std::path::Path;
//! use motif_build::oci::{Image, ImageConfig, LayerBuilder, NoProgress, Platform, RegistryOptions};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let options = RegistryOptions::from_env();
//! let platform = Platform::host();
//! let base = motif_build::oci::pull("127.0.0.1:5000/base:1", &platform, &options, Path::new(".cache"))
//!     .await?;
//! let mut layer = LayerBuilder::new();
//! layer.add_file("/app/hello.sh", b"#!/bin/sh\necho hello\n".to_vec(), 0o755);
//! let config = ImageConfig { entrypoint: vec!["/app/hello.sh".into()], ..Default::default() };
//! let image = Image::assemble(Some(&base), vec![layer.finish()?], &config, &platform)?;
//! image.write_layout(Path::new("out/layout"), "latest")?;
//! image.push("127.0.0.1:5000/hello:latest", &options, &NoProgress).await?;
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//!
//! - Reproducible: the same files, config and base give the same manifest digest. Layer
//!   entries are sorted by path, with parents emitted once; every entry has mtime 0 (or
//!   `SOURCE_DATE_EPOCH`), uid and gid 0 and no user or group names; gzip has a fixed
//!   header and level, through a pure-Rust compressor whose output does not depend on the
//!   CPU. The config's `created` is the same epoch.
//! - Everything fetched is verified against its digest before it is used or cached.
//!
//! # Caveats
//!
//! - Layers are built in memory: fine for binaries and source trees, not for gigabytes.
//! - A base image that uses Docker v2 media types keeps its layers' media types inside an
//!   OCI manifest, which every current runtime and registry accepts.

mod blobs;
mod config;
mod error;
mod image;
mod layer;
mod layout;
mod platform;
mod pull;
mod push;
mod registry;
mod spec;

pub use config::ImageConfig;
pub use error::Error;
pub use image::Image;
pub use layer::{Layer, LayerBuilder};
pub use platform::Platform;
pub use pull::{BaseImage, pull};
pub use push::push_index;
pub use registry::{NoProgress, Progress, RegistryOptions};
pub use spec::{
    CONFIG_MEDIA_TYPE, Descriptor, INDEX_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE,
    REF_NAME_ANNOTATION,
};

/// The largest timestamp a tar header holds in its 11 octal digits.
const MAX_EPOCH: u64 = 0o77_777_777_777;

/// The seconds since 1970 of every timestamp in an image: `SOURCE_DATE_EPOCH` when set
/// (the reproducible-builds convention), else 0.
pub(crate) fn source_date_epoch() -> Result<u64, Error> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|seconds| *seconds <= MAX_EPOCH)
            .ok_or(Error::SourceDateEpoch(value)),
        _ => Ok(0),
    }
}
