//! What kind of WebAssembly a file holds, from its structure alone (no compilation).

use wasmparser::{Parser, Payload};

/// The shapes of wasm function (CONTRACT.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A component exporting `motif:function/handler`.
    CloudEvent,
    /// A component exporting `wasi:http/incoming-handler` (a `wasmtime serve` or Spin
    /// component).
    HttpProxy,
    /// A core module: a WASI preview 1 command.
    Command,
}

/// Why a file is no function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// Not WebAssembly at all.
    #[error("not a WebAssembly binary: {0}")]
    NotWasm(String),
    /// A component with neither export.
    #[error(
        "the component exports neither `motif:function/handler` nor `wasi:http/incoming-handler` (it exports: {0})"
    )]
    NoHandler(String),
}

/// Tells the shape of `wasm`.
pub fn shape(wasm: &[u8]) -> Result<Shape, DetectError> {
    if !wasm.starts_with(b"\0asm") {
        return Err(DetectError::NotWasm("no `\\0asm` header".into()));
    }
    if !Parser::is_component(wasm) {
        return Ok(Shape::Command);
    }
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| DetectError::NotWasm(e.to_string()))?;
        match payload {
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| DetectError::NotWasm(e.to_string()))?;
                    exports.push(export.name.name.to_owned());
                }
            }
            // Nested components and modules have their own exports; only the outer
            // component's count, and the parser has handed over the nested ones whole.
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => {}
            _ => {}
        }
    }
    let has = |prefix: &str| exports.iter().any(|e| e.starts_with(prefix));
    if has("motif:function/handler@") {
        Ok(Shape::CloudEvent)
    } else if has("wasi:http/incoming-handler@0.2") {
        Ok(Shape::HttpProxy)
    } else {
        Err(DetectError::NoHandler(exports.join(", ")))
    }
}
