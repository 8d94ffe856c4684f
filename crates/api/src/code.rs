//! Where a function's code comes from when the platform builds it: a git repository (at a
//! revision, in a sub-directory). A Function with a `source` and no `artifact.image` is
//! built by the cluster; `motif function create` records it locally too.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::spec::FunctionSpec;

/// The code a function is built from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeSource {
    /// A git repository and the revision to build.
    pub git: GitSource,
    /// The function's directory within the repository [default: its root].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
}

/// A git repository at a revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitSource {
    /// Any URL `git clone` accepts (`https://...`, `ssh://...`, `git@host:repo`, a path).
    pub url: String,
    /// A branch, a tag or a commit [default: the repository's default branch]. A
    /// different revision is a new build; `motif function create` writes the commit it
    /// resolved, so that a new commit on a branch is a new revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

impl CodeSource {
    /// Checks the values beyond their types: `(field, message)` for each problem.
    pub(crate) fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.git.url.trim().is_empty() {
            problems.push(("source.git.url", "must not be empty".to_owned()));
        } else if self.git.url.starts_with('-') {
            problems.push((
                "source.git.url",
                format!("`{}` is not a repository URL", self.git.url),
            ));
        }
        if let Some(revision) = &self.git.revision
            && (revision.is_empty()
                || revision.starts_with('-')
                || revision
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control()))
        {
            problems.push((
                "source.git.revision",
                format!("`{revision}` is not a branch, tag or commit"),
            ));
        }
        if let Some(sub_path) = &self.sub_path
            && let Err(message) = check_sub_path(sub_path)
        {
            problems.push(("source.subPath", message));
        }
        problems
    }
}

/// A sub-path stays inside the repository: relative, without `..`.
pub fn check_sub_path(sub_path: &str) -> Result<(), String> {
    let path = std::path::Path::new(sub_path);
    if sub_path.is_empty() {
        return Err("must not be empty (leave it out for the repository's root)".into());
    }
    if path.is_absolute() {
        return Err(format!(
            "`{sub_path}` must be relative to the repository's root"
        ));
    }
    if path.components().any(|c| {
        !matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    }) {
        return Err(format!(
            "`{sub_path}` must stay inside the repository (no `..`)"
        ));
    }
    Ok(())
}

/// What decides a cluster build's output: the source, and the spec's fields the builder
/// reads. Equal keys build the same image, so a Function whose key has not changed is
/// not built again; any change to them is a new build. 16 hex digits of a SHA-256.
pub fn build_key(spec: &FunctionSpec) -> Option<String> {
    let source = spec.source.as_ref()?;
    let inputs = serde_json::json!({
        "source": source,
        "language": spec.language,
        "kind": spec.kind,
        "handler": spec.handler,
        "image": spec.build.image,
        "base": spec.build.base,
    });
    let digest = Sha256::digest(inputs.to_string().as_bytes());
    Some(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(revision: &str) -> FunctionSpec {
        FunctionSpec {
            source: Some(CodeSource {
                git: GitSource {
                    url: "https://example.com/fns.git".into(),
                    revision: Some(revision.into()),
                },
                sub_path: None,
            }),
            ..FunctionSpec::default()
        }
    }

    #[test]
    fn the_key_follows_the_build_inputs_only() {
        let a = build_key(&spec("v1")).unwrap();
        assert_eq!(a.len(), 16);
        assert_eq!(build_key(&spec("v1")).unwrap(), a);
        assert_ne!(build_key(&spec("v2")).unwrap(), a);
        let mut with_env = spec("v1");
        with_env.env.insert("A".into(), "b".into());
        assert_eq!(build_key(&with_env).unwrap(), a, "env is not a build input");
        let mut other_handler = spec("v1");
        other_handler.handler = Some("other.py".into());
        assert_ne!(build_key(&other_handler).unwrap(), a);
        assert_eq!(build_key(&FunctionSpec::default()), None);
    }

    #[test]
    fn sub_paths_stay_inside() {
        assert!(check_sub_path("fns/square").is_ok());
        assert!(check_sub_path("./square").is_ok());
        assert!(check_sub_path("/etc").is_err());
        assert!(check_sub_path("a/../../b").is_err());
        assert!(check_sub_path("").is_err());
    }

    #[test]
    fn bad_sources_are_named() {
        let mut s = spec("-x").source.unwrap();
        s.git.url = String::new();
        s.sub_path = Some("../up".into());
        let fields: Vec<_> = s.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["source.git.url", "source.git.revision", "source.subPath"]
        );
    }
}
