//! The platform an image runs on: `os/architecture[/variant]`, as Go names them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Error;

/// An image's platform, in the OCI (Go) names: `linux/amd64`, `linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// The operating system: `linux`.
    pub os: String,
    /// The CPU architecture in Go's names: `amd64`, `arm64`, `arm`, `riscv64`...
    pub architecture: String,
    /// The CPU variant, for ARM: `v7`, `v8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// `linux` and this machine's architecture: motif images run Linux whatever builds them.
    pub fn host() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: go_arch(std::env::consts::ARCH).into(),
            variant: None,
        }
    }

    /// Whether an image made for `self` serves a request for `wanted`: same OS and
    /// architecture, and the same variant where both name one (`arm64` means `arm64/v8`).
    pub fn satisfies(&self, wanted: &Platform) -> bool {
        let variant = |p: &Platform| match (p.architecture.as_str(), p.variant.as_deref()) {
            ("arm64", Some("v8")) => None,
            (_, v) => v.map(str::to_owned),
        };
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && match (variant(self), variant(wanted)) {
                (Some(have), Some(want)) => have == want,
                _ => true,
            }
    }
}

/// Rust's name of an architecture in Go's (the OCI spec's) names.
fn go_arch(rust: &str) -> &str {
    match rust {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    }
}

impl FromStr for Platform {
    type Err = Error;

    /// Parses `os/architecture[/variant]`; `x86_64` and `aarch64` are read as `amd64`
    /// and `arm64`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidPlatform {
            platform: s.to_owned(),
            reason: reason.to_owned(),
        };
        let parts: Vec<&str> = s.split('/').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(invalid(
                "expected OS/ARCH or OS/ARCH/VARIANT, as `linux/amd64`",
            ));
        }
        for part in &parts {
            if part.is_empty() {
                return Err(invalid("a part is empty"));
            }
            if !part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            {
                return Err(invalid(&format!(
                    "`{part}` may hold only lower-case letters, digits, `.`, `_` and `-`"
                )));
            }
        }
        Ok(Platform {
            os: parts[0].to_owned(),
            architecture: go_arch(parts[1]).replace("x86-64", "amd64"),
            variant: parts.get(2).map(|v| (*v).to_owned()),
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_os_arch_and_variant() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(
            "linux/x86_64".parse::<Platform>().unwrap().to_string(),
            "linux/amd64"
        );
    }

    #[test]
    fn rejects_what_is_not_os_slash_arch() {
        for bad in [
            "",
            "linux",
            "linux/",
            "/amd64",
            "linux/amd64/v8/x",
            "Linux/AMD64",
            "linux amd64",
        ] {
            let err = bad.parse::<Platform>().unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn arm64_without_a_variant_is_arm64_v8() {
        let v8: Platform = "linux/arm64/v8".parse().unwrap();
        let bare: Platform = "linux/arm64".parse().unwrap();
        assert!(v8.satisfies(&bare) && bare.satisfies(&v8));
        let v7: Platform = "linux/arm/v7".parse().unwrap();
        let v6: Platform = "linux/arm/v6".parse().unwrap();
        assert!(!v7.satisfies(&v6));
        assert!(!Platform::host().satisfies(&"windows/amd64".parse().unwrap()));
    }
}
