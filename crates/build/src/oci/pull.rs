//! Pulling a base image: its manifest (through an index to the wanted platform's), its
//! config and its layers, into a content-addressed cache.

use std::path::{Path, PathBuf};

use futures_util::{StreamExt as _, TryStreamExt as _};
use oci_client::{Client, Reference};
use serde_json::Value;

use super::blobs::{blob_path, file_digest, temp_path};
use super::registry::{parse_reference, registry_error};
use super::spec::{
    ACCEPTED_MANIFESTS, CONFIG_MEDIA_TYPE, DOCKER_CONFIG_MEDIA_TYPE, Index, Manifest, ManifestKind,
    manifest_kind,
};
use super::{Descriptor, Error, Platform, RegistryOptions};

/// How many blobs a pull fetches at once.
const CONCURRENT_FETCHES: usize = 3;

/// A pulled image, to build on: its config and its layers, whose blobs are in the cache.
#[derive(Debug, Clone)]
pub struct BaseImage {
    pub(crate) reference: String,
    pub(crate) digest: String,
    pub(crate) config: Value,
    pub(crate) layers: Vec<Descriptor>,
    pub(crate) cache_dir: PathBuf,
}

impl BaseImage {
    /// The reference it was pulled by.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// `sha256:<hex>` of its (platform's) image manifest.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Its config JSON.
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// Its layers' descriptors, with their media types as the registry gave them.
    pub fn layers(&self) -> &[Descriptor] {
        &self.layers
    }

    /// Where the blob `digest` is cached (`CACHE/blobs/sha256/<hex>`); `None` for a
    /// malformed digest.
    pub fn blob_path(&self, digest: &str) -> Option<PathBuf> {
        blob_path(&self.cache_dir, digest)
    }
}

/// Pulls `reference` for `platform`: from an index (or Docker manifest list), the
/// manifest of that platform; its config and layers are stored in `cache_dir` under
/// `blobs/sha256/`, each verified against its digest. A blob already in the cache is
/// verified and not fetched again (or fetched again if it does not match).
///
/// Fails with a clear [`Error`] on a malformed reference, an unreachable registry, a
/// missing image or platform, content that does not match its digest, or an artifact
/// that is not a container image.
pub async fn pull(
    reference: &str,
    platform: &Platform,
    options: &RegistryOptions,
    cache_dir: &Path,
) -> Result<BaseImage, Error> {
    let parsed = parse_reference(reference)?;
    let client = options.client(&parsed);
    let auth = options.auth();

    let (mut body, mut digest) = client
        .pull_manifest_raw(&parsed, &auth, ACCEPTED_MANIFESTS)
        .await
        .map_err(|e| registry_error("pulling", "manifest", &parsed, e))?;
    let invalid = |what: &str, reason: String| Error::InvalidImage {
        reference: reference.to_owned(),
        what: what.to_owned(),
        reason,
    };
    let kind = manifest_kind(&body).map_err(|r| invalid("manifest", r))?;
    if kind == ManifestKind::Index {
        let index: Index =
            serde_json::from_slice(&body).map_err(|e| invalid("index", e.to_string()))?;
        let entry = choose(&index, platform).ok_or_else(|| Error::PlatformNotFound {
            reference: reference.to_owned(),
            platform: platform.to_string(),
            available: available(&index),
        })?;
        let by_digest = parsed.clone_with_digest(entry.digest.clone());
        (body, digest) = client
            .pull_manifest_raw(&by_digest, &auth, ACCEPTED_MANIFESTS)
            .await
            .map_err(|e| registry_error("pulling", "manifest", &by_digest, e))?;
        if manifest_kind(&body).map_err(|r| invalid("manifest", r))? != ManifestKind::Image {
            return Err(invalid(
                "index",
                format!("its {platform} entry is an index, not an image manifest"),
            ));
        }
    }
    let manifest: Manifest =
        serde_json::from_slice(&body).map_err(|e| invalid("manifest", e.to_string()))?;
    if ![CONFIG_MEDIA_TYPE, DOCKER_CONFIG_MEDIA_TYPE].contains(&manifest.config.media_type.as_str())
    {
        return Err(invalid(
            "manifest",
            format!(
                "not a container image: its config is `{}`",
                manifest.config.media_type
            ),
        ));
    }

    let config_path = fetch_blob(&client, &parsed, &manifest.config, cache_dir, "config").await?;
    futures_util::stream::iter(&manifest.layers)
        .map(|layer| fetch_blob(&client, &parsed, layer, cache_dir, "layer"))
        .buffer_unordered(CONCURRENT_FETCHES)
        .try_collect::<Vec<_>>()
        .await?;
    let config_bytes = std::fs::read(&config_path).map_err(Error::io("read", &config_path))?;
    let config: Value =
        serde_json::from_slice(&config_bytes).map_err(|e| invalid("config", e.to_string()))?;

    Ok(BaseImage {
        reference: reference.to_owned(),
        digest,
        config,
        layers: manifest.layers,
        cache_dir: cache_dir.to_owned(),
    })
}

/// The index entry for `platform`: one whose platform satisfies it, preferring an exact
/// match (so `arm64/v8` over a bare `arm64` when asked for `v8`).
fn choose<'a>(index: &'a Index, platform: &Platform) -> Option<&'a Descriptor> {
    let candidates = || {
        index
            .manifests
            .iter()
            .filter(|m| m.platform.as_ref().is_some_and(|p| p.satisfies(platform)))
    };
    candidates()
        .find(|m| m.platform.as_ref() == Some(platform))
        .or_else(|| candidates().next())
}

/// The platforms an index lists, for an error message.
fn available(index: &Index) -> String {
    let platforms: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|m| m.platform.as_ref().map(Platform::to_string))
        .collect();
    if platforms.is_empty() {
        "no platforms".to_owned()
    } else {
        platforms.join(", ")
    }
}

/// Fetches a blob into the cache unless it is there and matches its digest; returns its
/// path. It is written under a temporary name and renamed once verified, so the cache
/// never holds a partial or wrong blob under a digest.
async fn fetch_blob(
    client: &Client,
    reference: &Reference,
    descriptor: &Descriptor,
    cache_dir: &Path,
    kind: &str,
) -> Result<PathBuf, Error> {
    let what = format!("{kind} {}", descriptor.digest);
    let path = blob_path(cache_dir, &descriptor.digest).ok_or_else(|| Error::InvalidImage {
        reference: reference.whole(),
        what: "manifest".into(),
        reason: format!("`{}` is not a sha256 digest", descriptor.digest),
    })?;
    if path.exists() {
        let check = path.clone();
        let cached = tokio::task::spawn_blocking(move || file_digest(&check))
            .await
            .ok()
            .and_then(Result::ok);
        if cached.is_some_and(|(digest, _)| digest == descriptor.digest) {
            return Ok(path);
        }
        tracing::warn!(blob = %descriptor.digest, "the cached blob does not match its digest: fetching it again");
    }
    let dir = path.parent().unwrap_or(cache_dir);
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(Error::io("create", dir))?;

    let tmp = temp_path(&path);
    let file = tokio::fs::File::create(&tmp)
        .await
        .map_err(Error::io("create", &tmp))?;
    let fetched = client
        .pull_blob(reference, descriptor.digest.as_str(), file)
        .await
        .map_err(|e| registry_error("pulling", &what, reference, e));
    let size = tokio::fs::metadata(&tmp).await.map(|m| m.len());
    let result = match (fetched, size) {
        (Err(e), _) => Err(e),
        (Ok(()), Err(e)) => Err(Error::io("read", &tmp)(e)),
        (Ok(()), Ok(size)) if size != descriptor.size => Err(Error::InvalidImage {
            reference: reference.whole(),
            what: what.clone(),
            reason: format!(
                "the manifest says {} bytes, the registry sent {size}",
                descriptor.size
            ),
        }),
        (Ok(()), Ok(_)) => tokio::fs::rename(&tmp, &path)
            .await
            .map_err(Error::io("write", &path)),
    };
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result.map(|()| path)
}
