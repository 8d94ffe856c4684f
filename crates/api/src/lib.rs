//! The Function resource of motif: one [`FunctionSpec`] read from `motif.toml` and used
//! as the `spec` of the `functions.motif.dev` CRD, with its validation.
//!
//! `motif.toml` is a [`FunctionFile`]: the function's `name` beside the fields of its
//! spec, in the CRD's camelCase:
//!
//! ```toml
//! name = "hello"
//! language = "rust"
//! kind = "http"
//! timeoutSeconds = 30
//! concurrency = 100
//! env = { GREETING = "hello" }
//! scale = { min = 0, max = 10 }
//! ```
//!
//! Nothing here does I/O beyond reading and writing that one file.

mod file;
mod spec;
mod validate;

pub use file::{FILE_NAME, FileError, FunctionFile};
pub use spec::{Artifact, Build, FunctionSpec, Kind, Language, Scale, TemplateOrigin, Visibility};
pub use validate::{Invalid, validate_name};
