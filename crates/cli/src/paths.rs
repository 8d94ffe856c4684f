//! Where motif keeps its own files: configuration (the template repositories added by
//! name) and data (their clones, the invokers it unpacks, base-image blobs).

use std::path::PathBuf;

/// `MOTIF_CONFIG_DIR`, else `$XDG_CONFIG_HOME/motif`, else `~/.config/motif`.
pub fn config_dir() -> PathBuf {
    dir("MOTIF_CONFIG_DIR", "XDG_CONFIG_HOME", ".config")
}

/// `MOTIF_DATA_DIR`, else `$XDG_DATA_HOME/motif`, else `~/.local/share/motif`.
pub fn data_dir() -> PathBuf {
    dir("MOTIF_DATA_DIR", "XDG_DATA_HOME", ".local/share")
}

fn dir(own: &str, xdg: &str, home_default: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(own).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os(xdg).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("motif");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(home_default).join("motif")
}
