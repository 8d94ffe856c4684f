//! Layers: a deterministic tar of files, directories and symlinks, gzip-compressed.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use flate2::{Compression, GzBuilder};
use sha2::{Digest as _, Sha256};

use super::blobs::digest_string;
use super::spec::LAYER_MEDIA_TYPE;

/// The gzip level of every layer: zlib's default, a fair trade of size for time. Fixed,
/// because another level gives other bytes and so another digest.
const GZIP_LEVEL: u32 = 6;

/// The mode of the directories a layer creates on its own (the parents of its entries).
const PARENT_DIR_MODE: u32 = 0o755;

/// A built layer: its gzip-compressed tar and the digests an image needs of it.
#[derive(Debug, Clone)]
pub struct Layer {
    /// `sha256:<hex>` of [`data`](Self::data), the layer's name in a manifest.
    pub digest: String,
    /// `sha256:<hex>` of the uncompressed tar, its name in the config's `rootfs.diff_ids`.
    pub diff_id: String,
    /// The size of [`data`](Self::data).
    pub size: u64,
    /// [`LAYER_MEDIA_TYPE`]: a gzip-compressed tar.
    pub media_type: String,
    /// The gzip-compressed tar.
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Entry {
    Dir { mode: u32 },
    File { contents: Vec<u8>, mode: u32 },
    Symlink { target: String },
}

/// Builds a [`Layer`] from files, directories and symlinks.
///
/// # Guarantees
///
/// The same entries give the same bytes, in whatever order they were added: entries are
/// written sorted by path; each entry's parent directories are written once (mode
/// `0755`) unless added with a mode of their own; every entry has mtime 0 (or
/// `SOURCE_DATE_EPOCH`), uid and gid 0 and no user or group name; the gzip header has
/// mtime 0 and no file name.
///
/// # Caveats
///
/// - Paths are image paths (`/usr/bin/x`, or relative to `/`); `..` is refused. Adding a
///   path twice keeps the last entry.
/// - Contents are held in memory until [`finish`](Self::finish).
/// - The adders that take no host path record a bad path and report it from `finish`.
#[derive(Debug, Default)]
pub struct LayerBuilder {
    entries: BTreeMap<String, Entry>,
    error: Option<io::Error>,
}

impl LayerBuilder {
    /// An empty layer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a directory (`/` itself is implied and ignored).
    pub fn add_dir(&mut self, image_path: &str, mode: u32) {
        if image_path.split('/').all(|p| p.is_empty() || p == ".") {
            return;
        }
        self.insert(image_path, Entry::Dir { mode });
    }

    /// Adds a regular file.
    pub fn add_file(&mut self, image_path: &str, contents: Vec<u8>, mode: u32) {
        self.insert(image_path, Entry::File { contents, mode });
    }

    /// Adds the file at `host_path` (following symlinks), with mode `0755` if its owner
    /// may execute it, else `0644`.
    pub fn add_file_from(&mut self, image_path: &str, host_path: &Path) -> io::Result<()> {
        let metadata = fs::metadata(host_path).map_err(context("read", host_path))?;
        if !metadata.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{}` is not a regular file", host_path.display()),
            ));
        }
        let contents = fs::read(host_path).map_err(context("read", host_path))?;
        let mode = if owner_executable(&metadata) {
            0o755
        } else {
            0o644
        };
        self.add_file(image_path, contents, mode);
        Ok(())
    }

    /// Adds a symbolic link to `target` (kept as given: absolute or relative).
    pub fn add_symlink(&mut self, image_path: &str, target: &str) {
        self.insert(
            image_path,
            Entry::Symlink {
                target: target.to_owned(),
            },
        );
    }

    /// Adds `host_dir`'s contents under `image_dir`, recursively: directories (`0755`),
    /// files (as [`add_file_from`](Self::add_file_from)) and symlinks, kept as symlinks.
    /// `keep` gets each path relative to `host_dir`; what it refuses is left out, with
    /// everything under it. Sockets, pipes and devices are left out.
    pub fn add_tree(
        &mut self,
        image_dir: &str,
        host_dir: &Path,
        keep: &dyn Fn(&Path) -> bool,
    ) -> io::Result<()> {
        self.add_dir(image_dir, PARENT_DIR_MODE);
        self.add_tree_from(
            image_dir.trim_end_matches('/'),
            host_dir,
            Path::new(""),
            keep,
        )
    }

    fn add_tree_from(
        &mut self,
        image_dir: &str,
        host_root: &Path,
        relative: &Path,
        keep: &dyn Fn(&Path) -> bool,
    ) -> io::Result<()> {
        let dir = host_root.join(relative);
        for entry in fs::read_dir(&dir).map_err(context("read", &dir))? {
            let entry = entry.map_err(context("read", &dir))?;
            let relative = relative.join(entry.file_name());
            if !keep(&relative) {
                continue;
            }
            let host_path = entry.path();
            let name = relative.to_str().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("`{}`: not a UTF-8 path", host_path.display()),
                )
            })?;
            let image_path = format!("{image_dir}/{name}");
            let file_type = entry.file_type().map_err(context("read", &host_path))?;
            if file_type.is_symlink() {
                let target = fs::read_link(&host_path).map_err(context("read", &host_path))?;
                let target = target.to_str().ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("`{}`: its target is not a UTF-8 path", host_path.display()),
                    )
                })?;
                self.add_symlink(&image_path, target);
            } else if file_type.is_dir() {
                self.add_dir(&image_path, PARENT_DIR_MODE);
                self.add_tree_from(image_dir, host_root, &relative, keep)?;
            } else if file_type.is_file() {
                self.add_file_from(&image_path, &host_path)?;
            } else {
                tracing::debug!(path = %host_path.display(), "not a file, directory or symlink: left out of the layer");
            }
        }
        Ok(())
    }

    fn insert(&mut self, image_path: &str, entry: Entry) {
        match normalize(image_path) {
            Ok(path) => {
                self.entries.insert(path, entry);
            }
            Err(reason) => {
                self.error.get_or_insert_with(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("invalid image path `{image_path}`: {reason}"),
                    )
                });
            }
        }
    }

    /// Writes the tar and compresses it.
    pub fn finish(self) -> io::Result<Layer> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let mtime = super::source_date_epoch()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let entries = with_parents(self.entries)?;

        let gzip = GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(Hashing::new(Vec::new()), Compression::new(GZIP_LEVEL));
        let mut tar = tar::Builder::new(Hashing::new(gzip));
        for (path, entry) in &entries {
            append(&mut tar, path, entry, mtime)?;
        }
        let (gzip, diff_id) = tar.into_inner()?.finish();
        let (data, digest) = gzip.finish()?.finish();
        Ok(Layer {
            digest,
            diff_id,
            size: data.len() as u64,
            media_type: LAYER_MEDIA_TYPE.to_owned(),
            data,
        })
    }
}

/// Writes one entry. Its header starts zeroed (no user or group names) and gets a fixed
/// mtime and owner.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    entry: &Entry,
    mtime: u64,
) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    match entry {
        Entry::Dir { mode } => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(*mode);
            header.set_size(0);
            tar.append_data(&mut header, format!("{path}/"), io::empty())
        }
        Entry::File { contents, mode } => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(*mode);
            header.set_size(contents.len() as u64);
            tar.append_data(&mut header, path, contents.as_slice())
        }
        Entry::Symlink { target } => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            tar.append_link(&mut header, path, target)
        }
    }
    .map_err(|e| io::Error::new(e.kind(), format!("cannot add `/{path}` to the layer: {e}")))
}

/// The entries with every missing parent directory added; an error when a parent was
/// added as a file or symlink.
fn with_parents(mut entries: BTreeMap<String, Entry>) -> io::Result<BTreeMap<String, Entry>> {
    let mut parents = Vec::new();
    for path in entries.keys() {
        for (i, _) in path.match_indices('/') {
            parents.push((path[..i].to_owned(), path.clone()));
        }
    }
    for (parent, child) in parents {
        match entries.get(&parent) {
            None => {
                entries.insert(
                    parent,
                    Entry::Dir {
                        mode: PARENT_DIR_MODE,
                    },
                );
            }
            Some(Entry::Dir { .. }) => {}
            Some(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("`/{parent}` is not a directory, but `/{child}` is in it"),
                ));
            }
        }
    }
    Ok(entries)
}

/// An image path as a tar path: relative to `/`, without `.` or empty parts.
fn normalize(image_path: &str) -> Result<String, &'static str> {
    if image_path.contains('\0') {
        return Err("it holds a NUL byte");
    }
    let mut parts = Vec::new();
    for part in image_path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("`..` is not allowed"),
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err("it names the root directory");
    }
    Ok(parts.join("/"))
}

#[cfg(unix)]
fn owner_executable(metadata: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    metadata.permissions().mode() & 0o100 != 0
}

#[cfg(not(unix))]
fn owner_executable(_: &fs::Metadata) -> bool {
    false
}

fn context(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> io::Error {
    let path = path.display().to_string();
    move |e| io::Error::new(e.kind(), format!("cannot {action} `{path}`: {e}"))
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W> Hashing<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The inner writer and `sha256:<hex>` of everything written.
    fn finish(self) -> (W, String) {
        (self.inner, digest_string(self.hasher.finalize().as_slice()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_image_paths_and_refuses_escapes() {
        assert_eq!(normalize("/usr//bin/./x").unwrap(), "usr/bin/x");
        assert_eq!(normalize("app/x").unwrap(), "app/x");
        assert!(normalize("/app/../etc/passwd").is_err());
        assert!(normalize("/").is_err());
    }

    #[test]
    fn a_bad_path_is_reported_by_finish() {
        let mut layer = LayerBuilder::new();
        layer.add_file("/a/../../x", b"x".to_vec(), 0o644);
        let err = layer.finish().unwrap_err().to_string();
        assert!(err.contains("`/a/../../x`"), "{err}");
    }

    #[test]
    fn a_file_cannot_be_a_parent() {
        let mut layer = LayerBuilder::new();
        layer.add_file("/a", b"x".to_vec(), 0o644);
        layer.add_file("/a/b", b"y".to_vec(), 0o644);
        let err = layer.finish().unwrap_err().to_string();
        assert!(err.contains("`/a` is not a directory"), "{err}");
    }
}
