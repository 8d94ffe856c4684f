//! `motif render`: a function's Kubernetes objects, offline: the Function resource, then
//! the Knative Service, Triggers and PingSources it compiles to (what the controller will
//! make of it).
//!
//! For GitOps and for review: `motif render | kubectl apply -f -` applies the Function
//! (the Knative objects beside it are what the controller keeps in place).

use std::path::{Path, PathBuf};

use motif_api::{CompileError, Compiled, Function, FunctionFile};
use serde_json::{Value, json};

use crate::error::CliError;
use crate::output::Format;

/// Print a function's Kubernetes objects: the Function, its Knative Service, Triggers and
/// PingSources.
///
/// Nothing is sent anywhere. The objects are multi-document YAML (`---` between them);
/// with `-o json` or `-o yaml`, one `v1` `List` of them. The function must have an
/// image: `motif build --push` records it in motif.toml as `artifact.image`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The function's directory.
    #[arg(default_value = ".", env = "MOTIF_FUNCTION_DIR", value_name = "PATH")]
    path: PathBuf,
    /// The objects' namespace [default: none, for `kubectl apply --namespace` to choose].
    #[arg(short, long, env = "MOTIF_NAMESPACE", value_name = "NAMESPACE")]
    namespace: Option<String>,
}

/// A function read from its directory and compiled.
pub struct Rendered {
    /// The Function resource: name, namespace and spec.
    pub function: Function,
    /// The Knative objects it compiles to.
    pub compiled: Compiled,
}

impl Rendered {
    /// Reads `dir/motif.toml` and compiles it, so that nothing invalid or without an
    /// image goes further.
    pub fn load(dir: &Path, namespace: Option<String>) -> Result<Rendered, CliError> {
        let file = FunctionFile::load(dir)?;
        let mut function = Function::new(&file.name, file.spec);
        function.metadata.namespace = namespace;
        let compiled = motif_api::compile(&function).map_err(compile_error)?;
        Ok(Rendered { function, compiled })
    }

    /// The Function, the Service, the Triggers, then the PingSources, as JSON objects.
    pub fn objects(&self) -> Vec<Value> {
        let mut objects = vec![value(&self.function), value(&self.compiled.service)];
        objects.extend(self.compiled.triggers.iter().map(value));
        objects.extend(self.compiled.ping_sources.iter().map(value));
        objects
    }
}

/// Why a Function cannot go to a cluster, as bad input with the compiler's hint.
pub fn compile_error(error: CompileError) -> CliError {
    let hint = error
        .hint()
        .unwrap_or("fix motif.toml; its fields are described in the README");
    CliError::input(error).hint(hint)
}

fn value(object: &impl serde::Serialize) -> Value {
    serde_json::to_value(object).expect("a Kubernetes object serializes")
}

/// A `v1` `List` of objects, as `kubectl get -o json` prints several.
pub fn list(items: Vec<Value>) -> Value {
    json!({ "apiVersion": "v1", "kind": "List", "metadata": {}, "items": items })
}

/// Prints objects: multi-document YAML as text, else one `v1` `List`.
pub fn print_objects(format: Format, objects: Vec<Value>) {
    let text = documents(&objects);
    format.print(&list(objects), |out| {
        let _ = out.write_all(text.as_bytes());
    });
}

/// Objects as multi-document YAML, `---` between two. JSON values first: serde_yaml
/// cannot write a newtype variant nested in another (a `not` filter).
pub fn documents(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| serde_yaml::to_string(o).expect("a JSON value is YAML"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Runs `motif render`.
pub fn render(args: RenderArgs, format: Format) -> Result<(), CliError> {
    let rendered = Rendered::load(&args.path, args.namespace)?;
    print_objects(format, rendered.objects());
    Ok(())
}
