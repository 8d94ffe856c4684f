//! The output layer: the one place that prints data, as text for people or as JSON or
//! YAML for programs (`-o`).

use std::io::{IsTerminal, Write};

use serde::Serialize;

/// How a command prints its data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// One YAML document.
    Yaml,
}

impl Format {
    /// Prints `value` as JSON or YAML; with [`Format::Text`], calls `text` instead.
    pub fn print<T: Serialize>(self, value: &T, text: impl FnOnce(&mut dyn Write)) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match self {
            Format::Text => text(&mut out),
            Format::Json => {
                let json = serde_json::to_string_pretty(value).expect("output serializes");
                let _ = writeln!(out, "{json}");
            }
            Format::Yaml => {
                // Through a JSON value: serde_yaml cannot write a newtype variant nested
                // in another (a subscription's `not: {prefix: ..}` filter).
                let json = serde_json::to_value(value).expect("output serializes");
                let yaml = serde_yaml::to_string(&json).expect("output serializes");
                let _ = write!(out, "{yaml}");
            }
        }
        let _ = out.flush();
    }
}

/// Progress and status lines go to stderr, so that stdout stays data.
pub fn status(message: impl std::fmt::Display) {
    eprintln!("{message}");
}

/// Whether stderr is a terminal (progress bars are drawn only then).
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}
