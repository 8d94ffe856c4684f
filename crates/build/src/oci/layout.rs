//! Writing an image to an OCI image layout: `oci-layout`, `index.json`, `blobs/sha256/`.

use std::fs;
use std::path::Path;

use super::blobs::{BlobData, blob_path, write_atomic};
use super::spec::{Index, LAYOUT_VERSION, MANIFEST_MEDIA_TYPE, REF_NAME_ANNOTATION};
use super::{Descriptor, Error, Image};

impl Image {
    /// Writes the image into the OCI image layout at `dir` (created if need be) under
    /// `tag`: its blobs into `blobs/sha256/`, and an `index.json` entry whose
    /// `org.opencontainers.image.ref.name` is `tag`, replacing the entry of that tag if the
    /// layout has one. Other tags and their blobs stay; blobs no tag uses any more are not
    /// removed.
    ///
    /// Tools read it as `oci:DIR:TAG` (skopeo) or `DIR:TAG` (umoci).
    pub fn write_layout(&self, dir: &Path, tag: &str) -> Result<(), Error> {
        if tag.is_empty() || tag.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::InvalidConfig(format!(
                "invalid tag `{tag}` for the image layout `{}`",
                dir.display()
            )));
        }
        let blobs = dir.join("blobs").join("sha256");
        fs::create_dir_all(&blobs).map_err(Error::io("create", &blobs))?;

        let marker = dir.join("oci-layout");
        if !marker.exists() {
            write_atomic(&marker, LAYOUT_VERSION.as_bytes())
                .map_err(Error::io("write", &marker))?;
        }

        let manifest = BlobData::Memory(self.manifest.clone());
        let manifest_descriptor = Descriptor {
            platform: Some(self.platform.clone()),
            ..Descriptor::new(
                MANIFEST_MEDIA_TYPE,
                self.digest.clone(),
                self.manifest.len() as u64,
            )
        };
        for (descriptor, data) in self
            .blobs()
            .chain(std::iter::once((&manifest_descriptor, manifest)))
        {
            let path = blob_path(dir, &descriptor.digest).ok_or_else(|| Error::InvalidImage {
                reference: dir.display().to_string(),
                what: "blob digest".into(),
                reason: format!("`{}` is not a sha256 digest", descriptor.digest),
            })?;
            // Content-addressed: a blob of the right size under its digest is this blob.
            let present = fs::metadata(&path).is_ok_and(|m| m.len() == descriptor.size);
            if !present {
                data.write_to(&path).map_err(Error::io("write", &path))?;
            }
        }

        let index_path = dir.join("index.json");
        let mut index = match fs::read(&index_path) {
            Ok(bytes) => {
                serde_json::from_slice::<Index>(&bytes).map_err(|e| Error::InvalidImage {
                    reference: dir.display().to_string(),
                    what: "index.json".into(),
                    reason: e.to_string(),
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index::new(),
            Err(e) => return Err(Error::io("read", &index_path)(e)),
        };
        index
            .manifests
            .retain(|m| m.annotations.get(REF_NAME_ANNOTATION).map(String::as_str) != Some(tag));
        let mut entry = manifest_descriptor;
        entry
            .annotations
            .insert(REF_NAME_ANNOTATION.to_owned(), tag.to_owned());
        index.manifests.push(entry);
        let json = serde_json::to_vec(&index).map_err(|e| Error::InvalidConfig(e.to_string()))?;
        write_atomic(&index_path, &json).map_err(Error::io("write", &index_path))
    }
}
