//! Why a build failed, in classes the CLI turns into exit codes and hints.

use std::path::PathBuf;

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The function's directory or settings are wrong.
    #[error("{message}")]
    Input {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: Option<String>,
    },
    /// A tool the build needs is not installed.
    #[error("`{tool}` is needed to build {what}, and it is not on PATH")]
    MissingTool {
        /// The program.
        tool: String,
        /// What needs it.
        what: String,
        /// How to install it.
        hint: String,
    },
    /// A build step ran and failed.
    #[error("{step} failed ({status})\n{output}")]
    Step {
        /// The step, with its command.
        step: String,
        /// Its exit status.
        status: String,
        /// The end of its output.
        output: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot {verb} {}", path.display())]
    Io {
        /// What was being done.
        verb: &'static str,
        /// To which file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The function's `motif.toml` is wrong.
    #[error(transparent)]
    File(#[from] motif_api::FileError),
    /// Writing, pulling or pushing an image failed.
    #[error(transparent)]
    Oci(#[from] crate::oci::Error),
}

impl Error {
    /// An input error with a hint.
    pub fn input(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::Input {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// The hint for the user, if the error has one.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Input { hint, .. } => hint.as_deref(),
            Error::MissingTool { hint, .. } => Some(hint),
            _ => None,
        }
    }

    pub(crate) fn io(
        verb: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { verb, path, source }
    }
}
