//! Errors as the user sees them: `error:`, its causes, a `hint:`, and an exit code a
//! script can branch on.

use std::fmt;
use std::process::ExitCode;

/// What went wrong, as a class a script can tell apart by the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Anything not classified below (exit code 1).
    Other,
    /// Bad input: flags, `motif.toml`, a template or its parameters (exit code 3;
    /// clap's own usage errors exit 2).
    Input,
    /// A build step (a compiler, npm, pip) failed (exit code 4).
    Build,
    /// A registry, repository or function could not be reached (exit code 5).
    Network,
    /// The function answered with a 4xx or 5xx status (exit code 6).
    Function,
    /// The target exists and `--force` was not given (exit code 7).
    Exists,
}

impl Kind {
    /// The process exit code of this kind.
    pub fn code(self) -> u8 {
        match self {
            Kind::Other => 1,
            Kind::Input => 3,
            Kind::Build => 4,
            Kind::Network => 5,
            Kind::Function => 6,
            Kind::Exists => 7,
        }
    }
}

/// An error for the user: a kind, the error with its causes, and maybe a hint.
pub struct CliError {
    /// The class of failure (the exit code).
    pub kind: Kind,
    /// What failed, with its chain of causes.
    pub error: anyhow::Error,
    /// What to do about it.
    pub hint: Option<String>,
}

impl CliError {
    /// A new error of `kind`.
    pub fn new(kind: Kind, error: impl Into<anyhow::Error>) -> CliError {
        CliError {
            kind,
            error: error.into(),
            hint: None,
        }
    }

    /// Bad input.
    pub fn input(message: impl fmt::Display) -> CliError {
        CliError::new(Kind::Input, anyhow::anyhow!("{message}"))
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    /// Writes the error to stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("{self}");
        ExitCode::from(self.kind.code())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.error)?;
        let causes: Vec<_> = self.error.chain().skip(1).collect();
        if !causes.is_empty() {
            write!(f, "\n\nCaused by:")?;
            for (i, cause) in causes.iter().enumerate() {
                if causes.len() == 1 {
                    write!(f, "\n    {cause}")?;
                } else {
                    write!(f, "\n    {i}: {cause}")?;
                }
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<anyhow::Error> for CliError {
    fn from(error: anyhow::Error) -> CliError {
        CliError::new(Kind::Other, error)
    }
}

impl From<motif_api::FileError> for CliError {
    fn from(error: motif_api::FileError) -> CliError {
        let hint = match &error {
            motif_api::FileError::Missing(_) => Some(
                "run this in a function's directory, give its path, or create one with \
                 `motif create NAME --language LANGUAGE`",
            ),
            motif_api::FileError::Syntax { .. } | motif_api::FileError::Invalid { .. } => {
                Some("fix motif.toml; its fields are described in the README")
            }
            motif_api::FileError::Io { .. } => None,
        };
        let error = CliError::new(Kind::Input, error);
        match hint {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

/// Attaches a kind (and context) to any error, like anyhow's `Context`.
pub trait ResultExt<T> {
    /// Marks the error as `kind` with a message saying what was being done.
    fn or_fail(self, kind: Kind, what: impl fmt::Display) -> Result<T, CliError>;
}

impl<T, E> ResultExt<T> for Result<T, E>
where
    E: Into<anyhow::Error>,
{
    fn or_fail(self, kind: Kind, what: impl fmt::Display) -> Result<T, CliError> {
        self.map_err(|e| CliError::new(kind, e.into().context(what.to_string())))
    }
}
