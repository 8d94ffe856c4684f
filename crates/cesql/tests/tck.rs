//! The CESQL v1.0.0 TCK (cloudevents/spec `cesql/cesql_tck`), every case of every file,
//! read from `$MOTIF_CONFORMANCE_DIR/cesql-tests/cesql_tck` (else
//! `../shared/conformance` beside the workspace). Without the data the test says so and
//! passes, unless `MOTIF_REQUIRE_CONFORMANCE` is set.
//!
//! Each case has an `expression`, and may have an expected `result` (Boolean, Integer
//! or String), an expected `error` (a label such as `missingAttribute`), an `event` (a
//! whole event, JSON-format keys) or `eventOverrides` (attributes set on any valid
//! event). When both `result` and `error` are given, both must match; the error must be
//! the first one the evaluation met. A case without `error` must have none.
//!
//! The YAML is read through yaml-rust2's event parser so that each scalar keeps what
//! its author wrote: `expression: TRUE` stays the text `TRUE`, a quoted `'1'` stays a
//! String, a plain `10` is an Integer (and an Integer extension in an event), and
//! `time: 2018-04-26T14:48:09+02:00` is a String (YAML 1.1 loaders would make it a date).

use std::path::PathBuf;

use motif_cesql::{Value, parse};
use motif_contract::{Event, EventBuilder, ExtensionValue};
use yaml_rust2::Event as YamlEvent;
use yaml_rust2::parser::{EventReceiver, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// What the copy in the conformance data holds (contracts.md §9): a different count
/// means the copy changed or is incomplete.
const TCK_FILES: usize = 18;
const TCK_CASES: usize = 275;

fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MOTIF_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!(
        "conformance data not found at {} (set MOTIF_CONFORMANCE_DIR)",
        dir.display()
    );
    assert!(
        std::env::var_os("MOTIF_REQUIRE_CONFORMANCE").is_none(),
        "{message}"
    );
    eprintln!("skipped: {message}");
    None
}

#[test]
fn every_tck_case_passes() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let tck = dir.join("cesql-tests/cesql_tck");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&tck)
        .unwrap_or_else(|e| panic!("{}: {e}", tck.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();

    let (mut declared, mut run) = (0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let file = path.file_name().unwrap().to_string_lossy();
        let text = std::fs::read_to_string(path).expect("a readable TCK file");
        let doc = load(&text);
        let tests = match doc.get("tests") {
            Some(Node::Seq(tests)) => tests,
            _ => panic!("{file}: no `tests` list"),
        };
        declared += tests.len();
        for case in tests {
            run += 1;
            let name = case.text("name").unwrap_or("(unnamed)");
            let expression = case.text("expression").unwrap_or("(none)");
            if let Err(message) = check(case) {
                failures.push(format!("{file}: {name}: `{expression}`: {message}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {run} TCK cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(run, declared, "every case in the files ran");
    assert_eq!(
        (files.len(), run),
        (TCK_FILES, TCK_CASES),
        "the TCK in {} is not the 18 files and 275 cases of cesql v1.0.0",
        tck.display()
    );
    eprintln!("{run} TCK cases in {} files pass", files.len());
}

/// Runs one case: `Err` says what differs.
fn check(case: &Node) -> Result<(), String> {
    let expression = case.text("expression").ok_or("no `expression`")?;
    let expected_error = case.text("error");
    let expected_value = case.get("result").map(Node::value).transpose()?;

    if expected_error == Some("parse") {
        // A parse error has no value: an expression that does not parse is no filter.
        return match parse(expression) {
            Err(err) if err.kind() == "parse" => Ok(()),
            Err(err) => Err(format!("a parse error labelled `{}`", err.kind())),
            Ok(_) => Err("parsed, but the TCK expects a parse error".into()),
        };
    }
    let parsed = parse(expression).map_err(|e| format!("does not parse: {e}"))?;
    let event = event(case)?;
    let got = parsed.evaluate(&event);
    let got_error = got.errors.first().map(|e| e.kind());
    let describe = || format!("{:?} with errors {:?}", got.value, got.errors);
    if let Some(expected) = &expected_value
        && *expected != got.value
    {
        return Err(format!("expected {expected:?}, got {}", describe()));
    }
    if got_error != expected_error {
        return Err(format!(
            "expected error {expected_error:?}, got {}",
            describe()
        ));
    }
    let passes = got.value == Value::Boolean(true) && got.errors.is_empty();
    if parsed.matches(&event) != passes {
        return Err(format!("matches() disagrees with {}", describe()));
    }
    Ok(())
}

/// The case's event: `event` as given, or `eventOverrides` set on a valid event with
/// no optional attributes and no extensions.
fn event(case: &Node) -> Result<Event, String> {
    let mut builder = Event::builder("tck-id", "/tck/source", "tck.type");
    for key in ["event", "eventOverrides"] {
        match case.get(key) {
            None => {}
            Some(Node::Map(attributes)) => {
                for (name, value) in attributes {
                    builder = set(builder, name, value)?;
                }
            }
            Some(_) => return Err(format!("`{key}` is not a map")),
        }
    }
    builder
        .build()
        .map_err(|e| format!("an invalid event: {e}"))
}

fn set(builder: EventBuilder, name: &str, value: &Node) -> Result<EventBuilder, String> {
    let Node::Scalar { text, .. } = value else {
        return Err(format!("`{name}` is not a scalar"));
    };
    let text = text.as_str();
    Ok(match name {
        "specversion" if text == "1.0" => builder,
        "specversion" => return Err(format!("specversion `{text}`")),
        "id" => builder.id(text),
        "source" => builder.source(text),
        "type" => builder.ty(text),
        "subject" => builder.subject(text),
        "time" => builder.time(text),
        "dataschema" => builder.dataschema(text),
        "datacontenttype" => builder.data(text, ""),
        _ => builder.extension(
            name,
            match value.value()? {
                Value::Boolean(b) => ExtensionValue::Boolean(b),
                Value::Integer(i) => ExtensionValue::Integer(i),
                Value::String(s) => ExtensionValue::String(s),
            },
        ),
    })
}

/// A YAML node whose scalars keep the text they were written as.
#[derive(Debug)]
enum Node {
    Scalar { text: String, quoted: bool },
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn text(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Node::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The scalar as YAML 1.2's core schema types it: a plain `true`/`True`/`TRUE`
    /// (or false) is a Boolean, a plain integer an Integer, anything else a String.
    fn value(&self) -> Result<Value, String> {
        let Node::Scalar { text, quoted } = self else {
            return Err(format!("{self:?} is not a scalar"));
        };
        if *quoted {
            return Ok(Value::String(text.clone()));
        }
        Ok(match text.as_str() {
            "true" | "True" | "TRUE" => Value::Boolean(true),
            "false" | "False" | "FALSE" => Value::Boolean(false),
            t => match t.parse::<i64>() {
                Ok(i) => Value::Integer(
                    i32::try_from(i).map_err(|_| format!("`{t}` does not fit in 32 bits"))?,
                ),
                Err(_) => Value::String(text.clone()),
            },
        })
    }
}

/// Builds [`Node`]s from the parser's events.
#[derive(Default)]
struct Loader {
    stack: Vec<Frame>,
    root: Option<Node>,
}

enum Frame {
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>, Option<String>),
}

impl EventReceiver for Loader {
    fn on_event(&mut self, event: YamlEvent) {
        let node = match event {
            YamlEvent::Scalar(text, style, _, _) => Node::Scalar {
                text,
                quoted: style != TScalarStyle::Plain,
            },
            YamlEvent::SequenceStart(..) => return self.stack.push(Frame::Seq(Vec::new())),
            YamlEvent::MappingStart(..) => return self.stack.push(Frame::Map(Vec::new(), None)),
            YamlEvent::SequenceEnd | YamlEvent::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(items)) => Node::Seq(items),
                Some(Frame::Map(entries, _)) => Node::Map(entries),
                None => panic!("an unbalanced YAML event stream"),
            },
            YamlEvent::Alias(_) => panic!("the TCK uses no YAML aliases"),
            _ => return,
        };
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(items)) => items.push(node),
            Some(Frame::Map(entries, key)) => match key.take() {
                Some(key) => entries.push((key, node)),
                None => match node {
                    Node::Scalar { text, .. } => *key = Some(text),
                    other => panic!("a non-scalar YAML key: {other:?}"),
                },
            },
        }
    }
}

fn load(text: &str) -> Node {
    let mut loader = Loader::default();
    Parser::new_from_str(text)
        .load(&mut loader, false)
        .expect("valid YAML");
    loader.root.expect("a YAML document")
}
