//! Cases: data files of request -> expected answer.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// Every case and role the suite knows.
#[derive(Debug)]
pub struct Suite {
    /// Cases, in file then declaration order, named `file::name`.
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case: Vec<Case>,
}

/// One request and what the function must answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// A sentence of behaviour.
    pub name: String,
    /// The role (see `roles.toml`) that serves it.
    pub function: String,
    /// Extra environment for the invoker process (limits, Knative names).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Requests sent first, whose answers are not checked.
    #[serde(default)]
    pub setup: Vec<Request>,
    /// The request.
    pub request: Request,
    /// Send the request this many times at once (default 1).
    #[serde(default = "one")]
    pub parallel: usize,
    /// What must come back.
    pub expect: Expect,
}

fn one() -> usize {
    1
}

/// An HTTP request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Default `POST`.
    #[serde(default = "post")]
    pub method: String,
    /// Path and query; default `/`.
    #[serde(default = "root")]
    pub path: String,
    /// Headers, sent as given (a list value sends the header once per element).
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderValues>,
    /// The body, as text.
    #[serde(default)]
    pub body: String,
    /// Send `body` this many times over (for size limits).
    #[serde(default = "one")]
    pub body_repeat: usize,
}

fn post() -> String {
    "POST".into()
}
fn root() -> String {
    "/".into()
}

/// One header value, or several sent as separate header lines.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum HeaderValues {
    /// One line.
    One(String),
    /// A line each.
    Many(Vec<String>),
}

/// What the answer must be. Every field given is checked; the others are not.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The status code.
    pub status: Option<u16>,
    /// With `parallel`: how many answers have each status, e.g. `{ 200 = 1, 429 = 2 }`.
    pub status_counts: Option<BTreeMap<String, usize>>,
    /// Headers whose values must be exactly these (names case-insensitive).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Headers whose values must contain these.
    #[serde(default)]
    pub headers_contain: BTreeMap<String, String>,
    /// Headers that must be absent.
    #[serde(default)]
    pub headers_absent: Vec<String>,
    /// The body exactly.
    pub body: Option<String>,
    /// Substrings of the body.
    #[serde(default)]
    pub body_contains: Vec<String>,
    /// A JSON body that must contain these members (recursively).
    pub json: Option<serde_json::Value>,
    /// An RFC 9457 problem: the type's last segment plus members that must match.
    pub problem: Option<BTreeMap<String, serde_json::Value>>,
    /// A CloudEvent reply.
    pub event: Option<ExpectEvent>,
    /// A batch of CloudEvent replies.
    pub batch: Option<Vec<ExpectEvent>>,
}

/// What a reply event must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectEvent {
    /// `binary` or `structured` (checked for single events only).
    pub mode: Option<String>,
    /// Attributes (core and extensions) in canonical string form; `"*"` means present.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Attributes that must be absent.
    #[serde(default)]
    pub absent: Vec<String>,
    /// The data, as text.
    pub data: Option<String>,
    /// The data as JSON, compared as values.
    pub json_data: Option<serde_json::Value>,
}

impl Suite {
    /// Loads every `*.toml` in `dir/cases`.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let mut files: Vec<_> = std::fs::read_dir(dir.join("cases"))
            .map_err(|e| format!("cannot read {}/cases: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut cases = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let file: CaseFile =
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            for mut case in file.case {
                case.name = format!("{stem}::{}", case.name);
                cases.push(case);
            }
        }
        Ok(Self { cases })
    }
}
