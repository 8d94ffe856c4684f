//! An assembled image: its manifest, its config and every blob they name.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

use super::blobs::{BlobData, sha256_digest};
use super::pull::BaseImage;
use super::spec::{
    BASE_DIGEST_ANNOTATION, BASE_NAME_ANNOTATION, CONFIG_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, Manifest,
    canonical_json,
};
use super::{Descriptor, Error, ImageConfig, Layer, Platform, config, source_date_epoch};

/// An image ready to be written to a layout or pushed: an OCI manifest, its config and its
/// layers (a base image's, read from the pull cache, then the new ones, in memory).
#[derive(Debug, Clone)]
pub struct Image {
    pub(crate) manifest: Bytes,
    pub(crate) digest: String,
    pub(crate) config: Bytes,
    pub(crate) config_descriptor: Descriptor,
    pub(crate) layers: Vec<(Descriptor, BlobData)>,
    pub(crate) platform: Platform,
}

impl Image {
    /// Assembles an image from `layers` on top of `base` (if any), for `platform`.
    ///
    /// The config is the base's with `config` merged in: the base's environment first,
    /// then ours, an entry of ours replacing the base's of the same name; the base's
    /// labels and exposed ports, then ours; our entrypoint replaces the base's and clears
    /// its `Cmd` unless we set one; our working directory and user replace the base's.
    /// `rootfs.diff_ids` and `history` are the base's, then one for each new layer. The
    /// manifest names its base with the `org.opencontainers.image.base.*` annotations.
    ///
    /// Fails when `config` is malformed, when `SOURCE_DATE_EPOCH` is not a number, or
    /// when the base is for another platform.
    pub fn assemble(
        base: Option<&BaseImage>,
        layers: Vec<Layer>,
        config: &ImageConfig,
        platform: &Platform,
    ) -> Result<Image, Error> {
        let created = time::OffsetDateTime::from_unix_timestamp(source_date_epoch()? as i64)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
        if let Some(base) = base {
            check_base_platform(base, platform)?;
        }
        for layer in &layers {
            if layer.size != layer.data.len() as u64 {
                return Err(Error::InvalidConfig(format!(
                    "layer `{}` says it has {} bytes but holds {}",
                    layer.digest,
                    layer.size,
                    layer.data.len()
                )));
            }
        }

        let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
        let config_json = config::build(
            base.map(|b| &b.config),
            config,
            &diff_ids,
            platform,
            &created,
        )?;
        let config_bytes = Bytes::from(canonical_json(&config_json));
        let config_descriptor = Descriptor::new(
            CONFIG_MEDIA_TYPE,
            sha256_digest(&config_bytes),
            config_bytes.len() as u64,
        );

        let mut blobs: Vec<(Descriptor, BlobData)> = Vec::new();
        let mut annotations = BTreeMap::new();
        if let Some(base) = base {
            for layer in &base.layers {
                let path = base
                    .blob_path(&layer.digest)
                    .ok_or_else(|| Error::InvalidImage {
                        reference: base.reference.clone(),
                        what: "manifest".into(),
                        reason: format!("`{}` is not a sha256 digest", layer.digest),
                    })?;
                blobs.push((layer.clone(), BlobData::File(path)));
            }
            annotations.insert(BASE_NAME_ANNOTATION.to_owned(), base.reference.clone());
            annotations.insert(BASE_DIGEST_ANNOTATION.to_owned(), base.digest.clone());
        }
        for layer in layers {
            let descriptor = Descriptor::new(&layer.media_type, layer.digest, layer.size);
            blobs.push((descriptor, BlobData::Memory(Bytes::from(layer.data))));
        }

        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
            config: config_descriptor.clone(),
            layers: blobs.iter().map(|(d, _)| d.clone()).collect(),
            annotations,
        };
        // A struct serializes its fields in declaration order and its maps are BTreeMaps:
        // the bytes are the same for the same image.
        let manifest =
            Bytes::from(serde_json::to_vec(&manifest).map_err(|e| {
                Error::InvalidConfig(format!("cannot serialize the manifest: {e}"))
            })?);
        Ok(Image {
            digest: sha256_digest(&manifest),
            manifest,
            config: config_bytes,
            config_descriptor,
            layers: blobs,
            platform: platform.clone(),
        })
    }

    /// `sha256:<hex>` of the manifest: the image's name by content.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The compressed size: the config and every layer (what a registry stores).
    pub fn size(&self) -> u64 {
        self.config_descriptor.size + self.layers.iter().map(|(d, _)| d.size).sum::<u64>()
    }

    /// The platform it was assembled for.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// The manifest's JSON, as pushed.
    pub fn manifest_json(&self) -> &[u8] {
        &self.manifest
    }

    /// The config's JSON, as pushed.
    pub fn config_json(&self) -> &[u8] {
        &self.config
    }

    /// The layers' descriptors: the base's, then the new ones.
    pub fn layers(&self) -> impl Iterator<Item = &Descriptor> {
        self.layers.iter().map(|(d, _)| d)
    }

    /// Every blob the manifest names: the layers, then the config.
    pub(crate) fn blobs(&self) -> impl Iterator<Item = (&Descriptor, BlobData)> {
        self.layers
            .iter()
            .map(|(d, data)| (d, data.clone()))
            .chain(std::iter::once((
                &self.config_descriptor,
                BlobData::Memory(self.config.clone()),
            )))
    }
}

/// Refuses a base whose config names another platform than the image's.
fn check_base_platform(base: &BaseImage, wanted: &Platform) -> Result<(), Error> {
    let field = |name: &str| base.config.get(name).and_then(Value::as_str);
    let (Some(os), Some(architecture)) = (field("os"), field("architecture")) else {
        return Ok(());
    };
    let actual = Platform {
        os: os.to_owned(),
        architecture: architecture.to_owned(),
        variant: field("variant").map(str::to_owned),
    };
    if actual.satisfies(wanted) {
        Ok(())
    } else {
        Err(Error::PlatformMismatch {
            reference: base.reference.clone(),
            actual: actual.to_string(),
            wanted: wanted.to_string(),
        })
    }
}
