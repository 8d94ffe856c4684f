//! Digests, and blobs stored by digest under `blobs/sha256/` (an image layout, the pull cache).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use sha2::{Digest as _, Sha256};

/// `sha256:<hex>` of `data`.
pub(crate) fn sha256_digest(data: &[u8]) -> String {
    digest_string(Sha256::digest(data).as_slice())
}

/// `sha256:<hex>` of a finished hash.
pub(crate) fn digest_string(hash: &[u8]) -> String {
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in hash {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    out
}

/// The path of a blob under `root` (`root/blobs/sha256/<hex>`), or `None` when `digest`
/// is not a well-formed sha256 digest. Digests come from registries: checking them keeps
/// a hostile one from naming a path outside `root`.
pub(crate) fn blob_path(root: &Path, digest: &str) -> Option<PathBuf> {
    let hex = digest.strip_prefix("sha256:")?;
    let well_formed = hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    well_formed.then(|| root.join("blobs").join("sha256").join(hex))
}

/// The `sha256:<hex>` digest and size of a file.
pub(crate) fn file_digest(path: &Path) -> io::Result<(String, u64)> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    let mut size = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((digest_string(hasher.finalize().as_slice()), size))
}

/// A unique temporary path next to `path`, to write and then rename into place, so that a
/// reader never sees half a blob under its digest.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.{n}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Writes `data` to `path` atomically (a temporary file renamed into place).
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Where a blob's bytes are: in memory (built here) or in a file (pulled into the cache).
#[derive(Debug, Clone)]
pub(crate) enum BlobData {
    Memory(Bytes),
    File(PathBuf),
}

impl BlobData {
    /// The bytes, read from the file if need be.
    pub(crate) fn load(&self) -> io::Result<Bytes> {
        match self {
            BlobData::Memory(bytes) => Ok(bytes.clone()),
            BlobData::File(path) => fs::read(path).map(Bytes::from),
        }
    }

    /// Copies the blob to `dest` (atomically).
    pub(crate) fn write_to(&self, dest: &Path) -> io::Result<()> {
        match self {
            BlobData::Memory(bytes) => write_atomic(dest, bytes),
            BlobData::File(path) => {
                let tmp = temp_path(dest);
                let result = fs::copy(path, &tmp).and_then(|_| fs::rename(&tmp, dest));
                if result.is_err() {
                    let _ = fs::remove_file(&tmp);
                }
                result
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_input_is_the_well_known_one() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn malformed_digests_name_no_path() {
        let root = Path::new("/cache");
        assert!(blob_path(root, "sha256:../../etc/passwd").is_none());
        assert!(blob_path(root, "sha512:00").is_none());
        assert!(blob_path(root, &format!("sha256:{}", "A".repeat(64))).is_none());
        let ok = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            blob_path(root, &ok).unwrap(),
            root.join("blobs/sha256").join("a".repeat(64))
        );
    }
}
