//! Builds motif functions: detects the language, builds the handler natively or to
//! WebAssembly, and writes an OCI image without a Docker daemon ([`oci`]), which it can
//! push to a registry.

pub mod oci;
