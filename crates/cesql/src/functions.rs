//! The built-in functions (spec §3.5) and the casting functions `INT`, `BOOL` and
//! `STRING`, which the TCK exercises though the spec's tables omit them.
//!
//! A call is resolved by name (case-insensitively) and arity when it is parsed; a call
//! that nothing takes evaluates to `false` with a MissingFunction error. Every function
//! is total: on bad arguments it still returns a value of its type, with an error.

use std::borrow::Cow;

use crate::EvalError;
use crate::value::{self, Type, Val};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    Length,
    Concat,
    ConcatWs,
    Lower,
    Upper,
    Trim,
    Left,
    Right,
    Substring,
    Abs,
    Int,
    Bool,
    String,
}

impl Builtin {
    /// The function `name` takes `arity` arguments, if there is one.
    pub(crate) fn resolve(name: &str, arity: usize) -> Option<Builtin> {
        let upper = name.to_ascii_uppercase();
        let (function, takes) = match upper.as_str() {
            "LENGTH" => (Builtin::Length, arity == 1),
            "CONCAT" => (Builtin::Concat, true),
            "CONCAT_WS" => (Builtin::ConcatWs, arity >= 1),
            "LOWER" => (Builtin::Lower, arity == 1),
            "UPPER" => (Builtin::Upper, arity == 1),
            "TRIM" => (Builtin::Trim, arity == 1),
            "LEFT" => (Builtin::Left, arity == 2),
            "RIGHT" => (Builtin::Right, arity == 2),
            "SUBSTRING" => (Builtin::Substring, arity == 2 || arity == 3),
            "ABS" => (Builtin::Abs, arity == 1),
            "INT" => (Builtin::Int, arity == 1),
            "BOOL" => (Builtin::Bool, arity == 1),
            "STRING" => (Builtin::String, arity == 1),
            _ => return None,
        };
        takes.then_some(function)
    }

    /// The type argument `index` is cast to before the call; `None` for the casting
    /// functions, which take any type and convert it themselves.
    pub(crate) fn param_type(self, index: usize) -> Option<Type> {
        match self {
            Builtin::Int | Builtin::Bool | Builtin::String => None,
            Builtin::Left | Builtin::Right | Builtin::Substring if index > 0 => Some(Type::Integer),
            Builtin::Abs => Some(Type::Integer),
            _ => Some(Type::String),
        }
    }

    pub(crate) fn return_type(self) -> Type {
        match self {
            Builtin::Length | Builtin::Abs | Builtin::Int => Type::Integer,
            Builtin::Bool => Type::Boolean,
            _ => Type::String,
        }
    }

    /// Calls the function on arguments already cast to its parameter types.
    pub(crate) fn call<'a>(self, mut args: Vec<Val<'a>>, errors: &mut Vec<EvalError>) -> Val<'a> {
        match self {
            Builtin::Length => {
                let n = string(&args[0]).chars().count();
                Val::Integer(i32::try_from(n).unwrap_or(i32::MAX))
            }
            Builtin::Concat => Val::String(Cow::Owned(args.iter().map(string).collect())),
            Builtin::ConcatWs => {
                let parts: Vec<&str> = args[1..].iter().map(string).collect();
                Val::String(Cow::Owned(parts.join(string(&args[0]))))
            }
            Builtin::Lower => Val::String(Cow::Owned(string(&args[0]).to_lowercase())),
            Builtin::Upper => Val::String(Cow::Owned(string(&args[0]).to_uppercase())),
            Builtin::Trim => map_str(args.swap_remove(0), str::trim),
            Builtin::Left | Builtin::Right => {
                let n = integer(&args[1]);
                let x = args.swap_remove(0);
                let Ok(n) = usize::try_from(n) else {
                    errors.push(EvalError::FunctionEvaluation(format!(
                        "the length of {} is negative ({n})",
                        self.name()
                    )));
                    return x;
                };
                if self == Builtin::Left {
                    map_str(x, |s| left(s, n))
                } else {
                    map_str(x, |s| right(s, n))
                }
            }
            Builtin::Substring => {
                let pos = integer(&args[1]);
                let len = args.get(2).map(integer);
                match substring(string(&args[0]), pos, len) {
                    Ok(range) => map_str(args.swap_remove(0), |s| &s[range]),
                    Err(message) => {
                        errors.push(EvalError::FunctionEvaluation(message));
                        Val::zero(Type::String)
                    }
                }
            }
            Builtin::Abs => {
                let x = integer(&args[0]);
                Val::Integer(x.checked_abs().unwrap_or_else(|| {
                    errors.push(EvalError::Math(format!(
                        "ABS({x}) is outside the 32-bit range"
                    )));
                    i32::MAX
                }))
            }
            Builtin::Int => Val::Integer(value::to_integer(args.swap_remove(0), errors)),
            Builtin::Bool => Val::Boolean(match args.swap_remove(0) {
                Val::Integer(i) => value::int_to_boolean(i),
                other => value::to_boolean(other, errors),
            }),
            Builtin::String => Val::String(value::to_string(args.swap_remove(0))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Builtin::Length => "LENGTH",
            Builtin::Concat => "CONCAT",
            Builtin::ConcatWs => "CONCAT_WS",
            Builtin::Lower => "LOWER",
            Builtin::Upper => "UPPER",
            Builtin::Trim => "TRIM",
            Builtin::Left => "LEFT",
            Builtin::Right => "RIGHT",
            Builtin::Substring => "SUBSTRING",
            Builtin::Abs => "ABS",
            Builtin::Int => "INT",
            Builtin::Bool => "BOOL",
            Builtin::String => "STRING",
        }
    }
}

/// An argument cast to String (the evaluator has cast it already).
fn string<'v>(v: &'v Val<'_>) -> &'v str {
    match v {
        Val::String(s) => s,
        _ => "",
    }
}

/// An argument cast to Integer (the evaluator has cast it already).
fn integer(v: &Val<'_>) -> i32 {
    match v {
        Val::Integer(i) => *i,
        _ => 0,
    }
}

/// Applies a slicing `f` to a String, keeping a borrowed String borrowed.
fn map_str<'a>(v: Val<'a>, f: impl for<'s> FnOnce(&'s str) -> &'s str) -> Val<'a> {
    match v {
        Val::String(Cow::Borrowed(s)) => Val::String(Cow::Borrowed(f(s))),
        Val::String(Cow::Owned(s)) => Val::String(Cow::Owned(f(&s).to_owned())),
        other => other,
    }
}

/// The first `n` characters of `s`.
fn left(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// The last `n` characters of `s`.
fn right(s: &str, n: usize) -> &str {
    if n == 0 {
        return "";
    }
    match s.char_indices().nth_back(n - 1) {
        Some((start, _)) => &s[start..],
        None => s,
    }
}

/// The byte range of `SUBSTRING(s, pos[, len])`: characters counted from 1, a negative
/// `pos` counted from the end, `pos` 0 giving `""`; `pos` beyond either end or a
/// negative `len` is an error.
fn substring(s: &str, pos: i32, len: Option<i32>) -> Result<std::ops::Range<usize>, String> {
    let count = s.chars().count() as i64;
    let pos64 = i64::from(pos);
    if pos64 > count || pos64 < -count {
        return Err(format!(
            "SUBSTRING's position {pos} is outside a string of {count} characters"
        ));
    }
    if let Some(len) = len
        && len < 0
    {
        return Err(format!("SUBSTRING's length is negative ({len})"));
    }
    if pos == 0 {
        return Ok(0..0);
    }
    // The first character's index, from 0.
    let first = if pos > 0 { pos64 - 1 } else { count + pos64 };
    let take = len.map_or(count - first, |len| i64::from(len).min(count - first));
    let byte_at = |char_index: i64| {
        s.char_indices()
            .nth(char_index as usize)
            .map_or(s.len(), |(i, _)| i)
    };
    Ok(byte_at(first)..byte_at(first + take))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_in_any_case_and_by_arity() {
        assert_eq!(Builtin::resolve("concat_WS", 3), Some(Builtin::ConcatWs));
        assert_eq!(Builtin::resolve("CONCAT_WS", 0), None);
        assert_eq!(Builtin::resolve("concat", 0), Some(Builtin::Concat));
        assert_eq!(Builtin::resolve("substring", 3), Some(Builtin::Substring));
        assert_eq!(Builtin::resolve("SUBSTRING", 4), None);
        assert_eq!(Builtin::resolve("LENGTH", 2), None);
        assert_eq!(Builtin::resolve("NOPE", 1), None);
    }

    #[test]
    fn left_and_right_count_characters() {
        assert_eq!(left("héllo", 2), "hé");
        assert_eq!(left("héllo", 9), "héllo");
        assert_eq!(left("héllo", 0), "");
        assert_eq!(right("héllo", 4), "éllo");
        assert_eq!(right("héllo", 9), "héllo");
        assert_eq!(right("héllo", 0), "");
        assert_eq!(right("", 3), "");
    }

    #[test]
    fn substring_counts_characters_from_either_end() {
        let sub = |s: &'static str, pos, len| substring(s, pos, len).map(|r| &s[r]);
        assert_eq!(sub("日本語テキスト", 2, Some(2)), Ok("本語"));
        assert_eq!(sub("日本語テキスト", -3, None), Ok("キスト"));
        assert_eq!(sub("日本語テキスト", 7, Some(10)), Ok("ト"));
        assert_eq!(sub("日本語テキスト", -7, Some(1)), Ok("日"));
        assert!(sub("abc", 0, Some(-1)).is_err());
        assert!(sub("abc", 4, None).is_err());
        assert!(sub("abc", -4, None).is_err());
        assert!(sub("abc", 1, Some(-1)).is_err());
        assert!(sub("abc", i32::MIN, None).is_err());
        assert_eq!(sub("abc", 2, Some(i32::MAX)), Ok("bc"));
        assert_eq!(sub("", 0, None), Ok(""));
    }
}
