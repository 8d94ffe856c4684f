//! CloudEvents SQL (CESQL) 1.0: a parser and an evaluator over an event's context
//! attributes, for the `cesql` dialect of Knative Trigger filters.
//!
//! An expression is parsed once ([`parse`]) and evaluated per event
//! ([`Expression::evaluate`]), or used as a filter ([`Expression::matches`]: true only
//! for a Boolean `true` without errors). It reads context attributes only, never the
//! data, and never fails: every operator and function is total, so an evaluation is a
//! value plus the errors met on the way (spec §3.3). This crate is not a SQL engine and
//! has no user-defined functions.
//!
//! ```
//! use motif_contract::Event;
//!
//! let filter = motif_cesql::parse("type LIKE 'com.example.%' AND INT(attempt) < 3")?;
//! let event = Event::builder("1", "/orders", "com.example.placed")
//!     .extension("attempt", "2")
//!     .build()?;
//! assert!(filter.matches(&event));
//!
//! // A missing attribute is an error, and a filter with an error does not pass.
//! let missing = motif_cesql::parse("region = 'eu'")?.evaluate(&event);
//! assert_eq!(missing.value, motif_cesql::Value::Boolean(false));
//! assert_eq!(missing.errors[0].kind(), "missingAttribute");
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors and values
//!
//! Every node of an expression yields a value; errors are collected beside it (spec
//! §3.3), in the order met. These rules give the TCK's values:
//!
//! - A missing attribute yields `false` (its type is unknown, so Boolean, spec §3.2)
//!   and a MissingAttribute error.
//! - An operator or function whose operand produced an error yields the zero value of
//!   its own return type and evaluates nothing further: `missing * 5` is `0`,
//!   `1 / missing` is `0` without a Math error, `true AND (1 != 1 / 0)` is `false`.
//! - A cast that fails inside an operator gives the zero value of the cast's target
//!   type, and the operator goes on with it: `NOT 10` is `NOT false`, `true`, with a
//!   Cast error. Functions likewise return a value with their own errors
//!   (`ABS(-2147483648)` is `2147483647` with a Math error).
//! - `AND` and `OR` do not evaluate their right operand when the left decides; `IN`
//!   stops at the first element that matches.
//!
//! An evaluation therefore stops at its first error, the "fail fast" mode the spec
//! recommends for filters, but for a failed cast of an element of `IN`'s set, after
//! which the next element is tried.
//!
//! # Conformance
//!
//! Every case of the CESQL v1.0.0 TCK passes (`tests/tck.rs`). Where the spec is open
//! or the TCK departs from its text, this crate chooses as follows:
//!
//! - An Integer is not implicitly a Boolean: `NOT 10` is `true` with a Cast error, as
//!   the TCK has it; `BOOL(10)` is `true`, as the spec's cast table has it.
//! - `AND`, `OR` and `XOR` share one precedence level and associate left, as the spec
//!   lists them: `a OR b AND c` is `(a OR b) AND c`. Parenthesize mixed logic.
//! - `NOT` binds tighter than LIKE, IN and comparisons (spec §3.6): `NOT a = b` is
//!   `(NOT a) = b`; write `NOT (a = b)`.
//! - `+`, `-`, `*`, `/` and unary `-` outside the 32-bit range give the nearest bound
//!   with a Math error, as `ABS` does (the spec leaves them open).
//! - In LIKE, only `\%` and `\_` are escapes; any other backslash is itself.
//! - A string literal may also escape its delimiter by doubling it (`'it''s'`).
//! - Nesting is capped at [`MAX_NESTING`] levels (a parse error beyond).

mod ast;
mod attributes;
mod error;
mod eval;
mod functions;
mod lexer;
mod like;
mod parser;
mod value;

use std::fmt;

pub use attributes::Attributes;
pub use error::{EvalError, ParseError};
pub use parser::MAX_NESTING;
pub use value::{Type, Value};

/// Parses a CESQL expression.
///
/// Keywords, function names and attribute names are case-insensitive. Calls to
/// functions that do not exist parse (their evaluation is a MissingFunction error); a
/// LIKE pattern that is not a string literal, an integer literal outside 32 bits and
/// nesting deeper than [`MAX_NESTING`] do not.
pub fn parse(expression: &str) -> Result<Expression, ParseError> {
    Ok(Expression {
        text: expression.into(),
        root: parser::parse(expression)?,
    })
}

/// A parsed CESQL expression, ready to evaluate against any number of events.
#[derive(Clone, Debug)]
pub struct Expression {
    text: Box<str>,
    root: ast::Node,
}

impl Expression {
    /// Evaluates the expression against `event`'s attributes. Never panics: errors are
    /// returned beside the value.
    pub fn evaluate(&self, event: &dyn Attributes) -> Evaluation {
        let mut ctx = eval::Ctx {
            attributes: event,
            errors: Vec::new(),
        };
        let value = eval::eval(&self.root, &mut ctx).into_value();
        Evaluation {
            value,
            errors: ctx.errors,
        }
    }

    /// Whether `event` passes the expression as a filter: the result is Boolean `true`
    /// and there was no error (spec §1.2).
    pub fn matches(&self, event: &dyn Attributes) -> bool {
        let mut ctx = eval::Ctx {
            attributes: event,
            errors: Vec::new(),
        };
        let value = eval::eval(&self.root, &mut ctx);
        value == value::Val::Boolean(true) && ctx.errors.is_empty()
    }

    /// The expression as it was written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The expression as it was written.
impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The result of evaluating an expression: always a value, and the errors met, in the
/// order they were met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// The result; the zero value of the failing operator's type after an error.
    pub value: Value,
    /// The errors; empty when the evaluation went well.
    pub errors: Vec<EvalError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_can_be_shared_between_threads() {
        fn shared<T: Send + Sync + Clone + 'static>() {}
        shared::<Expression>();
        shared::<Evaluation>();
        shared::<ParseError>();
    }
}
