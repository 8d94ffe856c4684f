//! A template's `manifest.toml`: what it makes, its typed parameters, and hints.

use std::collections::BTreeMap;
use std::fmt;

use motif_api::Kind;
use serde::Deserialize;

use crate::error::CliError;

/// The name of a template's manifest in its folder (never copied to the function).
pub const MANIFEST: &str = "manifest.toml";

/// A template's `manifest.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// One line for `motif templates list`.
    pub description: String,
    /// The kind of function the template makes.
    pub kind: Kind,
    /// The file the user edits, relative to the function's directory.
    #[serde(default)]
    pub handler: Option<String>,
    /// How to build, run and test what the template made.
    #[serde(default)]
    pub hints: Hints,
    /// Typed parameters, by name.
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
    /// Environment the function's `motif.toml` starts with (invoker settings).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// Commands printed after `motif create`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hints {
    /// How to build.
    pub build: Option<String>,
    /// How to run locally.
    pub run: Option<String>,
    /// How to run the function's own tests.
    pub test: Option<String>,
}

/// A typed template parameter.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// Its value when `--param` does not give one.
    pub default: toml::Value,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The allowed values of an `enum`.
    #[serde(default)]
    pub choices: Vec<String>,
}

/// The type of a template parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Any text.
    String,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Bool,
    /// One of `choices`.
    Enum,
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Bool => "bool",
            ParamType::Enum => "enum",
        })
    }
}

impl Param {
    /// The default as JSON (for listings).
    pub fn default_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.default).unwrap_or(serde_json::Value::Null)
    }

    /// Parses a value given on the command line into this parameter's type.
    pub fn parse(&self, name: &str, text: &str) -> Result<minijinja::Value, String> {
        match self.kind {
            ParamType::String => Ok(text.into()),
            ParamType::Integer => text
                .parse::<i64>()
                .map(Into::into)
                .map_err(|_| format!("parameter `{name}` is an integer, not `{text}`")),
            ParamType::Bool => match text {
                "true" | "yes" | "1" => Ok(true.into()),
                "false" | "no" | "0" => Ok(false.into()),
                _ => Err(format!("parameter `{name}` is true or false, not `{text}`")),
            },
            ParamType::Enum => {
                if self.choices.iter().any(|c| c == text) {
                    Ok(text.into())
                } else {
                    Err(format!(
                        "parameter `{name}` is one of {}, not `{text}`",
                        self.choices.join(", ")
                    ))
                }
            }
        }
    }

    /// The default as a template value, checked against the type.
    fn default_value(&self, name: &str) -> Result<minijinja::Value, String> {
        match (&self.default, self.kind) {
            (toml::Value::String(s), ParamType::String | ParamType::Enum) => self.parse(name, s),
            (toml::Value::Integer(i), ParamType::Integer) => Ok((*i).into()),
            (toml::Value::Boolean(b), ParamType::Bool) => Ok((*b).into()),
            _ => Err(format!(
                "parameter `{name}`'s default {} is not a {}",
                self.default, self.kind
            )),
        }
    }
}

impl Manifest {
    /// Parses a manifest (`origin` names the template in errors).
    pub fn parse(text: &str, origin: &str) -> Result<Manifest, CliError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| {
            CliError::new(
                crate::error::Kind::Input,
                anyhow::Error::new(e)
                    .context(format!("template {origin} has an invalid {MANIFEST}")),
            )
        })?;
        for (name, param) in &manifest.params {
            if !is_identifier(name) {
                return Err(CliError::input(format!(
                    "template {origin} has a parameter `{name}` that is not an identifier"
                )));
            }
            if param.kind == ParamType::Enum && param.choices.is_empty() {
                return Err(CliError::input(format!(
                    "template {origin}: enum parameter `{name}` has no choices"
                )));
            }
            param
                .default_value(name)
                .map_err(|e| CliError::input(format!("template {origin}: {e}")))?;
        }
        Ok(manifest)
    }

    /// The parameters' values: the defaults, replaced by `--param KEY=VALUE`s.
    pub fn values(
        &self,
        given: &[(String, String)],
        origin: &str,
    ) -> Result<BTreeMap<String, minijinja::Value>, CliError> {
        let mut values = BTreeMap::new();
        for (name, param) in &self.params {
            let value = param.default_value(name).map_err(CliError::input)?;
            values.insert(name.clone(), value);
        }
        for (key, text) in given {
            let Some(param) = self.params.get(key) else {
                let known: Vec<_> = self.params.keys().map(String::as_str).collect();
                let hint = if known.is_empty() {
                    "this template takes no parameters".to_owned()
                } else {
                    format!("its parameters: {}", known.join(", "))
                };
                return Err(
                    CliError::input(format!("template {origin} has no parameter `{key}`"))
                        .hint(hint),
                );
            };
            let value = param.parse(key, text).map_err(|e| {
                CliError::input(e).hint(format!("see `motif templates list` for {origin}"))
            })?;
            values.insert(key.clone(), value);
        }
        Ok(values)
    }
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
description = "d"
kind = "http"
[params.greeting]
type = "string"
default = "hello"
[params.count]
type = "integer"
default = 2
[params.loud]
type = "bool"
default = false
[params.style]
type = "enum"
default = "plain"
choices = ["plain", "fancy"]
"#;

    #[test]
    fn typed_values() {
        let m = Manifest::parse(TEXT, "t").unwrap();
        let v = m
            .values(
                &[("count".into(), "5".into()), ("loud".into(), "yes".into())],
                "t",
            )
            .unwrap();
        assert_eq!(v["count"], minijinja::Value::from(5));
        assert_eq!(v["loud"], minijinja::Value::from(true));
        assert_eq!(v["greeting"], minijinja::Value::from("hello"));
        assert!(m.values(&[("count".into(), "x".into())], "t").is_err());
        assert!(m.values(&[("style".into(), "odd".into())], "t").is_err());
        assert!(m.values(&[("nope".into(), "1".into())], "t").is_err());
    }

    #[test]
    fn bad_defaults_are_refused() {
        let text = "description = \"d\"\nkind = \"http\"\n[params.n]\ntype = \"integer\"\ndefault = \"x\"\n";
        assert!(Manifest::parse(text, "t").is_err());
    }
}
