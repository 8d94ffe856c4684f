//! `motif.toml`: a function's name beside its spec.

use std::path::{Path, PathBuf};

use crate::spec::FunctionSpec;
use crate::validate::{Invalid, validate};

/// The name of a function's manifest in its directory.
pub const FILE_NAME: &str = "motif.toml";

/// The contents of `motif.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionFile {
    /// The function's name: a DNS-1123 label (the CRD's `metadata.name`).
    pub name: String,
    /// Everything else.
    pub spec: FunctionSpec,
}

/// Why `motif.toml` could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// There is no `motif.toml`.
    #[error("no {FILE_NAME} in {}", .0.display())]
    Missing(PathBuf),
    /// Reading or writing failed.
    #[error("cannot {verb} {}", path.display())]
    Io {
        /// `read` or `write`.
        verb: &'static str,
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML, or not a FunctionSpec.
    #[error("{} is not a valid function manifest", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The file parses but its values are wrong.
    #[error("{} has invalid values: {}", path.display(), join(.problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem, each naming its field.
        problems: Vec<Invalid>,
    },
}

fn join(problems: &[Invalid]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl FunctionFile {
    /// Parses and validates the text of a `motif.toml` (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<FunctionFile, FileError> {
        let syntax = |source: Box<dyn std::error::Error + Send + Sync>| FileError::Syntax {
            path: path.to_owned(),
            source,
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| syntax(Box::new(e)))?;
        let name = match table.remove("name") {
            Some(toml::Value::String(name)) => name,
            Some(_) => return Err(syntax("`name` must be a string".into())),
            None => return Err(syntax("missing `name` (the function's name)".into())),
        };
        let spec: FunctionSpec = table.try_into().map_err(|e| syntax(Box::new(e)))?;
        let file = FunctionFile { name, spec };
        let problems = validate(&file.name, &file.spec);
        if problems.is_empty() {
            Ok(file)
        } else {
            Err(FileError::Invalid {
                path: path.to_owned(),
                problems,
            })
        }
    }

    /// Reads `motif.toml` from a function's directory.
    pub fn load(dir: &Path) -> Result<FunctionFile, FileError> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FileError::Missing(dir.to_owned()));
            }
            Err(source) => {
                return Err(FileError::Io {
                    verb: "read",
                    path,
                    source,
                });
            }
        };
        FunctionFile::parse(&text, &path)
    }

    /// The file's text: `name` first, then the spec's fields in declaration order.
    pub fn to_toml(&self) -> String {
        let mut table = toml::Table::new();
        table.insert("name".into(), toml::Value::String(self.name.clone()));
        let spec = toml::Table::try_from(&self.spec).expect("a FunctionSpec is a TOML table");
        table.extend(spec);
        toml::to_string(&table).expect("a TOML table serializes")
    }

    /// Writes `motif.toml` into `dir`, replacing it.
    pub fn save(&self, dir: &Path) -> Result<(), FileError> {
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, self.to_toml()).map_err(|source| FileError::Io {
            verb: "write",
            path,
            source,
        })
    }

    /// Records the pushed image (by digest) in `dir/motif.toml`, keeping the rest of the
    /// file (comments, order, formatting) as the user wrote it.
    pub fn record_image(dir: &Path, image: &str) -> Result<(), FileError> {
        let path = dir.join(FILE_NAME);
        let io = |verb, source| FileError::Io {
            verb,
            path: path.clone(),
            source,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| io("read", e))?;
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| FileError::Syntax {
            path: path.clone(),
            source: Box::new(e),
        })?;
        if !doc.contains_table("artifact") {
            doc["artifact"] = toml_edit::table();
        }
        doc["artifact"]["image"] = toml_edit::value(image);
        let text = doc.to_string();
        FunctionFile::parse(&text, &path)?;
        std::fs::write(&path, text).map_err(|e| io("write", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Kind, Language};

    #[test]
    fn round_trips_through_toml() {
        let text = "name = \"hello\"\nlanguage = \"rust-wasm\"\nkind = \"cloudevent\"\n\
                    timeoutSeconds = 30\n\n[env]\nA = \"1\"\n\n[scale]\nmin = 1\nmax = 3\n";
        let file = FunctionFile::parse(text, Path::new("motif.toml")).unwrap();
        assert_eq!(file.name, "hello");
        assert_eq!(file.spec.language, Language::RustWasm);
        assert_eq!(file.spec.kind, Kind::Cloudevent);
        assert_eq!(file.spec.scale.max, Some(3));
        let again = FunctionFile::parse(&file.to_toml(), Path::new("motif.toml")).unwrap();
        assert_eq!(again, file);
        assert!(file.to_toml().starts_with("name = \"hello\"\n"));
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = FunctionFile::parse(
            "name = \"a\"\nlanguage = \"js\"\ntimout = 3\n",
            Path::new("motif.toml"),
        )
        .unwrap_err();
        let FileError::Syntax { source, .. } = err else {
            panic!("{err}")
        };
        assert!(
            source.to_string().contains("unknown field `timout`"),
            "{source}"
        );
    }

    #[test]
    fn invalid_values_are_all_reported() {
        let err = FunctionFile::parse(
            "name = \"Hello_World\"\nlanguage = \"js\"\n[scale]\nmin = 5\nmax = 2\n",
            Path::new("motif.toml"),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("name"), "{text}");
        assert!(text.contains("scale.min"), "{text}");
    }

    #[test]
    fn recording_an_image_keeps_comments() {
        let dir = std::env::temp_dir().join(format!("motif-api-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(FILE_NAME),
            "# my function\nname = \"a\" # keep me\nlanguage = \"js\"\n",
        )
        .unwrap();
        FunctionFile::record_image(&dir, "127.0.0.1:5000/a@sha256:00").unwrap();
        let text = std::fs::read_to_string(dir.join(FILE_NAME)).unwrap();
        assert!(text.contains("# keep me"), "{text}");
        let file = FunctionFile::load(&dir).unwrap();
        assert_eq!(
            file.spec.artifact.image.as_deref(),
            Some("127.0.0.1:5000/a@sha256:00")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
