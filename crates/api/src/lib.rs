//! The Function resource of motif: one [`FunctionSpec`] read from `motif.toml` and used
//! as the `spec` of the `functions.motif.dev/v1alpha1` CRD ([`Function`]), its
//! validation, and its compilation to Knative objects ([`compile()`]).
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
//!
//! [[subscriptions]]
//! filters = [{ prefix = { type = "com.example.order." } }]
//! delivery = { retry = 3, backoffPolicy = "exponential", backoffDelay = "PT0.5S" }
//!
//! [[sources]]
//! schedule = "*/5 * * * *"
//! data = '{"hello": "world"}'
//! ```
//!
//! Nothing here does I/O beyond reading and writing that one file: the compiler is pure,
//! so the CLI, the controller and the tests produce the same objects.

mod code;
mod compile;
pub mod cron;
pub mod duration;
mod file;
pub mod knative;
mod source;
mod spec;
mod status;
mod subscription;
mod validate;

pub use code::{CodeSource, GitSource, build_key, check_sub_path};
pub use compile::{
    CONTAINER_NAME, CompileError, Compiled, FUNCTION_LABEL, LIVE_PATH, PORT, READY_PATH, compile,
};
pub use file::{FILE_NAME, FileError, FunctionFile};
pub use source::{Source, source_names};
pub use spec::{
    Artifact, Build, DEFAULT_TIMEOUT_SECONDS, EnvFrom, Function, FunctionSpec, Kind, Language,
    ResourceList, Resources, Scale, TemplateOrigin, TrafficTarget, Visibility,
};
pub use status::{BuildStatus, Condition, FunctionStatus};
pub use subscription::{
    AttributesFilter, BackoffPolicy, DEFAULT_BROKER, Delivery, Destination, Filter, Subscription,
    trigger_names,
};
pub use validate::{Invalid, validate as validate_function, validate_name};
