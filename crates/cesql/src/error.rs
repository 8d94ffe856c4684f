//! The errors of CESQL (spec §3.3): a [`ParseError`] refuses an expression; the
//! [`EvalError`]s come with a value, because every operator and function is total.

/// Why an expression does not parse, and where: TCK label `parse`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column}")]
pub struct ParseError {
    message: String,
    column: usize,
}

impl ParseError {
    /// An error at `offset`, a byte offset into `input`.
    pub(crate) fn at(input: &str, offset: usize, message: impl Into<String>) -> ParseError {
        let offset = offset.min(input.len());
        // Columns count characters, not bytes, so that they point where an editor does.
        let column = input
            .char_indices()
            .take_while(|&(i, _)| i < offset)
            .count()
            + 1;
        ParseError {
            message: message.into(),
            column,
        }
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where: the 1-based column, counted in characters.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The TCK's label for this kind of error: `parse`.
    pub fn kind(&self) -> &'static str {
        "parse"
    }
}

/// An error met while evaluating an expression. The expression still has a value (the
/// zero value of the failing operator's type, unless the spec says otherwise), but a
/// filter does not pass an event when there is any.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// Division or modulo by zero, or a result outside the 32-bit range.
    #[error("math error: {0}")]
    Math(String),
    /// A value that does not convert to the type an operator or function takes.
    #[error("cast error: {0}")]
    Cast(String),
    /// An attribute the event does not have; holds the attribute's name.
    #[error("the event has no attribute `{0}`")]
    MissingAttribute(String),
    /// A call to a function that does not exist with that many arguments.
    #[error("missing function: {0}")]
    MissingFunction(String),
    /// A function refused its arguments (`LEFT('abc', -1)`).
    #[error("function evaluation error: {0}")]
    FunctionEvaluation(String),
    /// Any other error; the built-in operators and functions raise none.
    #[error("{0}")]
    Generic(String),
}

impl EvalError {
    /// The TCK's label for this kind of error: `math`, `cast`, `missingAttribute`,
    /// `missingFunction`, `functionEvaluation` or `generic`.
    pub fn kind(&self) -> &'static str {
        match self {
            EvalError::Math(_) => "math",
            EvalError::Cast(_) => "cast",
            EvalError::MissingAttribute(_) => "missingAttribute",
            EvalError::MissingFunction(_) => "missingFunction",
            EvalError::FunctionEvaluation(_) => "functionEvaluation",
            EvalError::Generic(_) => "generic",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters() {
        let err = ParseError::at("'é' #", 5, "unexpected character `#`");
        assert_eq!(err.column(), 5);
        assert_eq!(err.to_string(), "unexpected character `#` at column 5");
        assert_eq!(ParseError::at("", 0, "empty").column(), 1);
    }
}
