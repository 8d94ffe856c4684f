//! What can go wrong building, reading, pulling or pushing an image.

use std::path::PathBuf;

/// An error of [`oci`](super): each names the reference, blob or file it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A platform string is not `os/arch[/variant]`.
    #[error("invalid platform `{platform}`: {reason}")]
    InvalidPlatform {
        /// What was given.
        platform: String,
        /// What is wrong with it.
        reason: String,
    },

    /// An image reference does not parse.
    #[error("invalid image reference `{reference}`: {reason}")]
    InvalidReference {
        /// What was given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The registry could not be reached at all.
    #[error("cannot connect to the registry `{registry}` (for `{reference}`)")]
    Connect {
        /// `host[:port]`.
        registry: String,
        /// The image.
        reference: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The registry has no such manifest or blob.
    #[error("`{reference}` not found: the registry has no {what}")]
    NotFound {
        /// The image.
        reference: String,
        /// What it has not: `manifest`, `blob sha256:...`.
        what: String,
    },

    /// The registry refused the credentials (or asked for some).
    #[error(
        "the registry refused access to `{reference}`: set MOTIF_REGISTRY_USERNAME and \
         MOTIF_REGISTRY_PASSWORD if it needs credentials"
    )]
    Unauthorized {
        /// The image.
        reference: String,
        /// The registry's answer.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Content did not hash to the digest it was asked for by.
    #[error(
        "{what} of `{reference}` does not match its digest: expected `{expected}`, got `{actual}`"
    )]
    DigestMismatch {
        /// The image.
        reference: String,
        /// `manifest`, `config`, `layer`.
        what: String,
        /// The digest it was fetched by.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },

    /// Any other failure of a registry operation.
    #[error("{action} `{reference}` failed")]
    Registry {
        /// What was being done: `pulling the manifest of`, `pushing blob sha256:... of`.
        action: String,
        /// The image.
        reference: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// An index has no manifest for the wanted platform.
    #[error("`{reference}` has no image for {platform} (it has: {available})")]
    PlatformNotFound {
        /// The image.
        reference: String,
        /// The platform wanted.
        platform: String,
        /// The platforms the index lists.
        available: String,
    },

    /// A base image was built for another platform than the image built on it.
    #[error("base image `{reference}` is for {actual}, not {wanted}")]
    PlatformMismatch {
        /// The base image.
        reference: String,
        /// Its platform.
        actual: String,
        /// The image's.
        wanted: String,
    },

    /// A manifest, index or config is not what an image needs.
    #[error("invalid {what} of `{reference}`: {reason}")]
    InvalidImage {
        /// The image (or image layout).
        reference: String,
        /// `manifest`, `index`, `config`.
        what: String,
        /// What is wrong.
        reason: String,
    },

    /// An [`ImageConfig`](super::ImageConfig) value is malformed.
    #[error("invalid image config: {0}")]
    InvalidConfig(String),

    /// `SOURCE_DATE_EPOCH` is set but is not a count of seconds.
    #[error("invalid SOURCE_DATE_EPOCH `{0}`: expected seconds since 1970 (a whole number)")]
    SourceDateEpoch(String),

    /// A file or directory could not be read or written.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// `write`, `read`, `create`...
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An [`Error::Io`].
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}
