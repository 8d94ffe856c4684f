//! Checks a FunctionSpec's values beyond their types, naming the field at fault.

use std::fmt;

use crate::spec::FunctionSpec;

/// One wrong value: the field (a dotted path) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// The field, as written in `motif.toml` (`scale.min`).
    pub field: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

/// Checks a function name: a DNS-1123 label of at most 63 characters (a Kubernetes
/// object's and a Knative Service's name; also a host label of `motif serve`).
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a function needs a name".into());
    }
    if name.len() > 63 {
        return Err(format!("`{name}` is longer than 63 characters"));
    }
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid name: use lowercase letters, digits and `-`, \
             starting with a letter and not ending with `-`"
        ))
    }
}

/// Every problem with a function's name and spec.
pub(crate) fn validate(name: &str, spec: &FunctionSpec) -> Vec<Invalid> {
    let mut problems = Vec::new();
    let mut fail = |field: &str, message: String| {
        problems.push(Invalid {
            field: field.into(),
            message,
        })
    };
    if let Err(message) = validate_name(name) {
        fail("name", message);
    }
    if let Some(handler) = &spec.handler
        && (handler.is_empty()
            || handler.starts_with('/')
            || handler.split('/').any(|part| part == ".."))
    {
        fail(
            "handler",
            format!("`{handler}` must be a relative path inside the function's directory"),
        );
    }
    for key in spec.env.keys() {
        let ok = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            fail(
                "env",
                format!("`{key}` is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"),
            );
        }
    }
    if spec.timeout_seconds == Some(0) {
        fail("timeoutSeconds", "must be at least 1".into());
    }
    if let (Some(min), Some(max)) = (spec.scale.min, spec.scale.max)
        && max != 0
        && min > max
    {
        fail(
            "scale.min",
            format!("min scale {min} is above max scale {max}"),
        );
    }
    if spec.scale.target == Some(0) {
        fail("scale.target", "must be at least 1".into());
    }
    if let Some(image) = &spec.artifact.image
        && !image.contains("@sha256:")
    {
        fail(
            "artifact.image",
            format!("`{image}` must name the image by digest (`REPO@sha256:...`)"),
        );
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["a", "hello", "hello-2", &"a".repeat(63)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Hello",
            "2x",
            "a_b",
            "a-",
            "a.b",
            &"a".repeat(64),
            "../x",
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
