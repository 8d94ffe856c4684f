//! The JSON shapes of the OCI image spec that motif reads and writes, and their media types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Platform;

/// An OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// An OCI image index (a manifest per platform).
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// An OCI image config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// A gzip-compressed tar layer, as [`LayerBuilder`](super::LayerBuilder) writes.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// The annotation of an image layout's `index.json` entry that names its tag.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// A Docker v2 (schema 2) image manifest, which a base image may still use.
pub(crate) const DOCKER_MANIFEST_MEDIA_TYPE: &str =
    "application/vnd.docker.distribution.manifest.v2+json";
/// A Docker manifest list, Docker's image index.
pub(crate) const DOCKER_LIST_MEDIA_TYPE: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
/// A Docker image config.
pub(crate) const DOCKER_CONFIG_MEDIA_TYPE: &str = "application/vnd.docker.container.image.v1+json";
/// The `oci-layout` file of an image layout.
pub(crate) const LAYOUT_VERSION: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;
/// The annotations that name a base image in a manifest built on it.
pub(crate) const BASE_NAME_ANNOTATION: &str = "org.opencontainers.image.base.name";
pub(crate) const BASE_DIGEST_ANNOTATION: &str = "org.opencontainers.image.base.digest";

/// What a manifest or index points at: a blob or another manifest, by digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the content.
    pub media_type: String,
    /// `sha256:<hex>` of the content.
    pub digest: String,
    /// The content's size in bytes.
    pub size: u64,
    /// Where the content may be fetched from besides the registry (foreign layers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Annotations (in an index, the tag of an image layout's entry).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// In an index, the platform of the manifest it points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

impl Descriptor {
    /// A descriptor with no annotations, URLs or platform.
    pub(crate) fn new(media_type: &str, digest: String, size: u64) -> Self {
        Self {
            media_type: media_type.to_owned(),
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
        }
    }
}

/// An image manifest (OCI, or Docker v2 when read from a registry).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image index (OCI, or a Docker manifest list when read from a registry), and an
/// image layout's `index.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Index {
    /// An empty OCI index.
    pub(crate) fn new() -> Self {
        Self {
            schema_version: 2,
            media_type: Some(INDEX_MEDIA_TYPE.to_owned()),
            manifests: Vec::new(),
            annotations: BTreeMap::new(),
        }
    }
}

/// What a manifest fetched from a registry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ManifestKind {
    Image,
    Index,
}

/// Tells an image manifest from an index by its media type, or, for an OCI document that
/// leaves `mediaType` out, by its shape.
pub(crate) fn manifest_kind(body: &[u8]) -> Result<ManifestKind, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        config: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    match probe.media_type.as_deref() {
        Some(MANIFEST_MEDIA_TYPE | DOCKER_MANIFEST_MEDIA_TYPE) => Ok(ManifestKind::Image),
        Some(INDEX_MEDIA_TYPE | DOCKER_LIST_MEDIA_TYPE) => Ok(ManifestKind::Index),
        Some(other) => Err(format!("unsupported manifest media type `{other}`")),
        None if probe.manifests.is_some() => Ok(ManifestKind::Index),
        None if probe.config.is_some() => Ok(ManifestKind::Image),
        None => Err("neither an image manifest nor an index".into()),
    }
}

/// The media types a pull accepts for a manifest.
pub(crate) const ACCEPTED_MANIFESTS: &[&str] = &[
    MANIFEST_MEDIA_TYPE,
    INDEX_MEDIA_TYPE,
    DOCKER_MANIFEST_MEDIA_TYPE,
    DOCKER_LIST_MEDIA_TYPE,
];

/// Serializes JSON with its object keys sorted at every level, so that the bytes (and the
/// digest) depend only on the content, whatever order serde_json keeps maps in.
pub(crate) fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    fn sorted(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let entries: BTreeMap<&String, serde_json::Value> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                serde_json::Value::Object(
                    entries.into_iter().map(|(k, v)| (k.clone(), v)).collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(sorted).collect())
            }
            other => other.clone(),
        }
    }
    // Serializing a `Value` cannot fail: its keys are strings.
    serde_json::to_vec(&sorted(value)).unwrap_or_default()
}
