//! CESQL's values and types, and the casts between them (spec §3.1, §3.7).
//!
//! [`Value`] is what an expression returns and what [`crate::Attributes`] hands in.
//! Inside the evaluator a value is a [`Val`], whose strings may borrow from the parsed
//! expression, so that a literal is compared without being copied.

use std::borrow::Cow;
use std::fmt;

use crate::EvalError;

/// A value of CESQL's type system: the result of an expression, or an attribute.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// A Boolean.
    Boolean(bool),
    /// A signed 32-bit Integer.
    Integer(i32),
    /// A String (URIs and timestamps are Strings too).
    String(String),
}

impl Value {
    /// The value's type.
    pub fn ty(&self) -> Type {
        match self {
            Value::Boolean(_) => Type::Boolean,
            Value::Integer(_) => Type::Integer,
            Value::String(_) => Type::String,
        }
    }
}

/// The canonical string form: the String itself, an Integer in base 10, `true` or
/// `false`, which is also what a cast to String gives.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::String(s) => f.write_str(s),
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Integer(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

/// CESQL's primitive types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `true` or `false`; zero value `false`.
    Boolean,
    /// A signed 32-bit integer; zero value `0`.
    Integer,
    /// A sequence of Unicode characters; zero value `""`.
    String,
}

impl Type {
    /// The type's zero value: what an operator returns when it cannot compute its
    /// result (spec §3.3).
    pub fn zero(self) -> Value {
        Val::zero(self).into_value()
    }

    /// The type's name as the spec writes it.
    pub fn name(self) -> &'static str {
        match self {
            Type::Boolean => "Boolean",
            Type::Integer => "Integer",
            Type::String => "String",
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value during evaluation: a String borrows from the expression when it is a
/// literal, and owns its text when it comes from an attribute or a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Val<'a> {
    Boolean(bool),
    Integer(i32),
    String(Cow<'a, str>),
}

impl<'a> Val<'a> {
    pub(crate) fn zero(ty: Type) -> Val<'static> {
        match ty {
            Type::Boolean => Val::Boolean(false),
            Type::Integer => Val::Integer(0),
            Type::String => Val::String(Cow::Borrowed("")),
        }
    }

    pub(crate) fn borrowed(value: &'a Value) -> Val<'a> {
        match value {
            Value::Boolean(b) => Val::Boolean(*b),
            Value::Integer(i) => Val::Integer(*i),
            Value::String(s) => Val::String(Cow::Borrowed(s)),
        }
    }

    pub(crate) fn owned(value: Value) -> Val<'a> {
        match value {
            Value::Boolean(b) => Val::Boolean(b),
            Value::Integer(i) => Val::Integer(i),
            Value::String(s) => Val::String(Cow::Owned(s)),
        }
    }

    pub(crate) fn into_value(self) -> Value {
        match self {
            Val::Boolean(b) => Value::Boolean(b),
            Val::Integer(i) => Value::Integer(i),
            Val::String(s) => Value::String(s.into_owned()),
        }
    }

    pub(crate) fn ty(&self) -> Type {
        match self {
            Val::Boolean(_) => Type::Boolean,
            Val::Integer(_) => Type::Integer,
            Val::String(_) => Type::String,
        }
    }
}

/// An implicit cast to `target` (spec §3.7). A cast that fails records a
/// [`EvalError::Cast`] and gives the target's zero value.
pub(crate) fn cast<'a>(value: Val<'a>, target: Type, errors: &mut Vec<EvalError>) -> Val<'a> {
    match target {
        Type::Boolean => Val::Boolean(to_boolean(value, errors)),
        Type::Integer => Val::Integer(to_integer(value, errors)),
        Type::String => Val::String(to_string(value)),
    }
}

/// The implicit cast to Boolean.
///
/// The spec's table defines Integer -> Boolean (`0` is false), but the TCK requires
/// `NOT 10` to give `true` with a cast error: an Integer is not taken for a Boolean
/// implicitly. The explicit `BOOL(x)` does apply the table (see [`int_to_boolean`]).
pub(crate) fn to_boolean(value: Val<'_>, errors: &mut Vec<EvalError>) -> bool {
    match value {
        Val::Boolean(b) => b,
        Val::String(s) => string_to_boolean(&s, errors),
        Val::Integer(i) => {
            errors.push(EvalError::Cast(format!(
                "the Integer `{i}` is not implicitly a Boolean (use `BOOL({i})`)"
            )));
            false
        }
    }
}

/// The explicit Integer -> Boolean cast of `BOOL`: `0` is false, anything else true.
pub(crate) fn int_to_boolean(i: i32) -> bool {
    i != 0
}

/// String -> Boolean: `true` or `false` in any case; anything else is an error.
pub(crate) fn string_to_boolean(s: &str, errors: &mut Vec<EvalError>) -> bool {
    if s.eq_ignore_ascii_case("true") {
        true
    } else if s.eq_ignore_ascii_case("false") {
        false
    } else {
        errors.push(EvalError::Cast(format!(
            "`{s}` is not a Boolean (`true` or `false`)"
        )));
        false
    }
}

/// The cast to Integer: a String in base 10 with an optional sign, a Boolean as 1 or 0.
pub(crate) fn to_integer(value: Val<'_>, errors: &mut Vec<EvalError>) -> i32 {
    match value {
        Val::Integer(i) => i,
        Val::Boolean(b) => i32::from(b),
        Val::String(s) => match s.parse::<i32>() {
            Ok(i) => i,
            Err(_) => {
                errors.push(EvalError::Cast(format!(
                    "`{s}` is not a 32-bit Integer in base 10"
                )));
                0
            }
        },
    }
}

/// The cast to String, which always succeeds.
pub(crate) fn to_string(value: Val<'_>) -> Cow<'_, str> {
    match value {
        Val::String(s) => s,
        Val::Integer(i) => Cow::Owned(i.to_string()),
        Val::Boolean(true) => Cow::Borrowed("true"),
        Val::Boolean(false) => Cow::Borrowed("false"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> Val<'_> {
        Val::String(Cow::Borrowed(s))
    }

    #[test]
    fn strings_cast_to_integers_in_base_ten_with_a_sign() {
        let mut errors = Vec::new();
        assert_eq!(to_integer(string("+42"), &mut errors), 42);
        assert_eq!(to_integer(string("-2147483648"), &mut errors), i32::MIN);
        assert!(errors.is_empty());
        for bad in ["", " 1", "1 ", "2147483648", "0x10", "1.0", "+", "١"] {
            assert_eq!(to_integer(string(bad), &mut errors), 0, "{bad}");
        }
        assert_eq!(errors.len(), 8);
        assert!(errors.iter().all(|e| e.kind() == "cast"));
    }

    #[test]
    fn strings_cast_to_booleans_in_any_case() {
        let mut errors = Vec::new();
        assert!(to_boolean(string("TrUe"), &mut errors));
        assert!(!to_boolean(string("FALSE"), &mut errors));
        assert!(errors.is_empty());
        assert!(!to_boolean(string("yes"), &mut errors));
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn an_integer_is_not_implicitly_a_boolean() {
        let mut errors = Vec::new();
        assert!(!to_boolean(Val::Integer(1), &mut errors));
        assert_eq!(errors[0].kind(), "cast");
        assert!(int_to_boolean(-50));
        assert!(!int_to_boolean(0));
    }

    #[test]
    fn values_print_in_canonical_form() {
        assert_eq!(Value::Integer(-1).to_string(), "-1");
        assert_eq!(Value::Boolean(true).to_string(), "true");
        assert_eq!(Value::from("x").to_string(), "x");
        assert_eq!(Type::Integer.zero(), Value::Integer(0));
    }
}
