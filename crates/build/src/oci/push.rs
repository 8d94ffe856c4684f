//! Pushing an image (and an index of images, one per platform) to a registry.

use bytes::Bytes;
use futures_util::{StreamExt as _, TryStreamExt as _};
use http::HeaderValue;
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use tokio::sync::mpsc;

use super::blobs::{BlobData, sha256_digest};
use super::registry::{parse_reference, registry_error};
use super::spec::{INDEX_MEDIA_TYPE, Index, MANIFEST_MEDIA_TYPE};
use super::{Descriptor, Error, Image, NoProgress, Progress, RegistryOptions};

/// How many blobs a push sends at once.
const CONCURRENT_UPLOADS: usize = 3;

/// The size of the pieces a blob is handed to the HTTP client in, which is how often the
/// progress display moves.
const UPLOAD_CHUNK: usize = 256 * 1024;

impl Image {
    /// Pushes the image to `reference` (`HOST/REPO[:TAG]`, `latest` without a tag):
    /// every blob the registry does not have yet (a `HEAD` says), then the manifest.
    /// Returns the manifest's digest. `progress` hears of the bytes of every blob, those
    /// already there included.
    pub async fn push(
        &self,
        reference: &str,
        options: &RegistryOptions,
        progress: &dyn Progress,
    ) -> Result<String, Error> {
        let parsed = parse_reference(reference)?;
        if parsed.digest().is_some_and(|d| d != self.digest) {
            return Err(Error::InvalidReference {
                reference: reference.to_owned(),
                reason: format!("the image's digest is `{}`", self.digest),
            });
        }
        let client = options.client(&parsed);
        push_image(&client, &parsed, &options.auth(), self, progress).await?;
        Ok(self.digest.clone())
    }
}

/// Pushes each image (by digest) and then an OCI index of them, one entry per image
/// with its platform, to `reference`. Returns the index's digest: a multi-platform image.
pub async fn push_index(
    reference: &str,
    images: &[&Image],
    options: &RegistryOptions,
) -> Result<String, Error> {
    let parsed = parse_reference(reference)?;
    let client = options.client(&parsed);
    let auth = options.auth();
    let mut index = Index::new();
    for image in images {
        let by_digest = parsed.clone_with_digest(image.digest.clone());
        push_image(&client, &by_digest, &auth, image, &NoProgress).await?;
        index.manifests.push(Descriptor {
            platform: Some(image.platform.clone()),
            ..Descriptor::new(
                MANIFEST_MEDIA_TYPE,
                image.digest.clone(),
                image.manifest.len() as u64,
            )
        });
    }
    let body = serde_json::to_vec(&index).map_err(|e| Error::InvalidConfig(e.to_string()))?;
    let digest = sha256_digest(&body);
    client
        .push_manifest_raw(&parsed, body, HeaderValue::from_static(INDEX_MEDIA_TYPE))
        .await
        .map_err(|e| registry_error("pushing", "index", &parsed, e))?;
    Ok(digest)
}

async fn push_image(
    client: &Client,
    reference: &Reference,
    auth: &RegistryAuth,
    image: &Image,
    progress: &dyn Progress,
) -> Result<(), Error> {
    client
        .store_auth_if_needed(reference.resolve_registry(), auth)
        .await;
    progress.start(&reference.whole(), image.size());
    // Uploads report the bytes they hand over on a channel; this task turns them into
    // progress calls (a `&dyn Progress` cannot go into the 'static body streams).
    let (sent, mut counts) = mpsc::unbounded_channel::<u64>();
    let uploads = futures_util::stream::iter(image.blobs())
        .map(|(descriptor, data)| upload(client, reference, descriptor, data, sent.clone()))
        .buffer_unordered(CONCURRENT_UPLOADS)
        .try_collect::<Vec<()>>();
    tokio::pin!(uploads);
    let uploaded = loop {
        tokio::select! {
            result = &mut uploads => break result,
            Some(bytes) = counts.recv() => progress.advance(bytes),
        }
    };
    while let Ok(bytes) = counts.try_recv() {
        progress.advance(bytes);
    }
    let result = match uploaded {
        Ok(_) => client
            .push_manifest_raw(
                reference,
                image.manifest.clone(),
                HeaderValue::from_static(MANIFEST_MEDIA_TYPE),
            )
            .await
            .map(drop)
            .map_err(|e| registry_error("pushing", "manifest", reference, e)),
        Err(e) => Err(e),
    };
    // Over either way: a display stops drawing.
    progress.finish();
    result
}

/// Sends one blob unless the registry has it.
async fn upload(
    client: &Client,
    reference: &Reference,
    descriptor: &Descriptor,
    data: BlobData,
    sent: mpsc::UnboundedSender<u64>,
) -> Result<(), Error> {
    let what = format!("blob {}", descriptor.digest);
    let exists = client
        .blob_exists(reference, &descriptor.digest)
        .await
        .map_err(|e| registry_error("checking", &what, reference, e))?;
    if exists {
        let _ = sent.send(descriptor.size);
        return Ok(());
    }
    let bytes = match data {
        BlobData::Memory(bytes) => bytes,
        BlobData::File(path) => {
            let read = path.clone();
            tokio::task::spawn_blocking(move || BlobData::File(read).load())
                .await
                .map_err(|e| Error::io("read", &path)(std::io::Error::other(e)))?
                .map_err(Error::io("read", &path))?
        }
    };
    let body = futures_util::stream::iter(chunks(bytes).into_iter().map(move |chunk| {
        let _ = sent.send(chunk.len() as u64);
        Ok::<Bytes, OciDistributionError>(chunk)
    }));
    client
        .push_blob_stream(reference, body, &descriptor.digest, Some(descriptor.size))
        .await
        .map_err(|e| registry_error("pushing", &what, reference, e))?;
    Ok(())
}

/// Splits `bytes` into pieces of [`UPLOAD_CHUNK`] (without copying).
fn chunks(mut bytes: Bytes) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(bytes.len() / UPLOAD_CHUNK + 1);
    while bytes.len() > UPLOAD_CHUNK {
        out.push(bytes.split_to(UPLOAD_CHUNK));
    }
    out.push(bytes);
    out
}
