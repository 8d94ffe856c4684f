//! Builds motif functions: detects the language, builds the handler natively or to
//! WebAssembly, and writes an OCI image without a Docker daemon ([`oci`]), which it can
//! push to a registry.

mod error;
pub mod image;
pub mod invokers;
pub mod libraries;
pub mod local;
pub mod oci;
pub mod project;
pub mod rust;
pub mod steps;
mod tools;

pub use error::Error;
pub use project::Project;
