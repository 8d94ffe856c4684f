//! A recursive-descent parser for CESQL's grammar (spec §2) with its precedence
//! (spec §3.6), tightest first:
//!
//! 1. literals, attributes, function calls, `( ... )`, `EXISTS name`;
//! 2. `NOT x` and `-x`, whose operand is again of this level: `NOT a = b` is
//!    `(NOT a) = b`;
//! 3. `x [NOT] LIKE 'pattern'` and `x [NOT] IN (set)`, applied left to right;
//! 4. `*`, `/`, `%`;
//! 5. `+`, `-`;
//! 6. `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`;
//! 7. `AND`, `OR`, `XOR`, all one level: `a OR b AND c` is `(a OR b) AND c`.
//!
//! Binary operators are left associative, as the spec's "left to right" reads.
//!
//! # Limits
//!
//! Nesting (parentheses, calls, `NOT`, unary `-`, LIKE and IN) is capped at
//! [`MAX_NESTING`] so that neither parsing nor evaluation can overflow the stack, whatever
//! a Trigger holds. Long flat expressions are not limited: the terms of one precedence
//! level form a list, not a tree.

use crate::ast::{BinaryOp, LOGIC, MULTIPLICATIVE, Node};
use crate::functions::Builtin;
use crate::lexer::{Tok, Token, tokenize};
use crate::like::Pattern;
use crate::{ParseError, Value};

/// How deeply an expression may nest. Real filters nest a handful of levels; each level
/// costs a few stack frames when parsing and evaluating, and 64 of them stay far below
/// the smallest thread stack the broker runs on.
pub const MAX_NESTING: usize = 64;

pub(crate) fn parse(input: &str) -> Result<Node, ParseError> {
    let tokens = tokenize(input)?;
    let mut parser = Parser {
        input,
        tokens,
        pos: 0,
        depth: 0,
    };
    if parser.peek() == &Tok::Eof {
        return Err(parser.error("the expression is empty"));
    }
    let node = parser.binary(LOGIC)?;
    match parser.peek() {
        Tok::Eof => Ok(node),
        Tok::RParen => Err(parser.error("unmatched `)`")),
        other => Err(parser.error(format!("unexpected {other} after a complete expression"))),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keyword {
    And,
    Or,
    Xor,
    Not,
    Like,
    In,
    Exists,
    True,
    False,
}

fn keyword(tok: &Tok<'_>) -> Option<Keyword> {
    let Tok::Word(word) = tok else {
        return None;
    };
    [
        ("AND", Keyword::And),
        ("OR", Keyword::Or),
        ("XOR", Keyword::Xor),
        ("NOT", Keyword::Not),
        ("LIKE", Keyword::Like),
        ("IN", Keyword::In),
        ("EXISTS", Keyword::Exists),
        ("TRUE", Keyword::True),
        ("FALSE", Keyword::False),
    ]
    .into_iter()
    .find(|(text, _)| word.eq_ignore_ascii_case(text))
    .map(|(_, kw)| kw)
}

fn binary_op(tok: &Tok<'_>) -> Option<BinaryOp> {
    Some(match tok {
        Tok::Eq => BinaryOp::Eq,
        Tok::NotEq | Tok::LtGt => BinaryOp::NotEq,
        Tok::Lt => BinaryOp::Lt,
        Tok::Le => BinaryOp::Le,
        Tok::Gt => BinaryOp::Gt,
        Tok::Ge => BinaryOp::Ge,
        Tok::Plus => BinaryOp::Add,
        Tok::Minus => BinaryOp::Sub,
        Tok::Star => BinaryOp::Mul,
        Tok::Slash => BinaryOp::Div,
        Tok::Percent => BinaryOp::Mod,
        _ => match keyword(tok)? {
            Keyword::And => BinaryOp::And,
            Keyword::Or => BinaryOp::Or,
            Keyword::Xor => BinaryOp::Xor,
            _ => return None,
        },
    })
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token<'a>>,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Tok<'a> {
        &self.tokens[self.pos].kind
    }

    fn peek_at(&self, ahead: usize) -> &Tok<'a> {
        let last = self.tokens.len() - 1;
        &self.tokens[(self.pos + ahead).min(last)].kind
    }

    /// Moves past the current token (never past [`Tok::Eof`]).
    fn advance(&mut self) {
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError::at(self.input, self.tokens[self.pos].offset, message)
    }

    fn expect(&mut self, expected: Tok<'static>, what: &str) -> Result<(), ParseError> {
        if *self.peek() == expected {
            self.advance();
            Ok(())
        } else {
            Err(self.error(format!("expected {what}, found {}", self.peek())))
        }
    }

    /// Goes one level deeper, refusing to pass [`MAX_NESTING`]. Only a successful
    /// parse comes back up ([`Parser::leave`]): an error ends the whole parse.
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error(format!(
                "the expression nests deeper than {MAX_NESTING} levels"
            )));
        }
        Ok(())
    }

    fn leave(&mut self, levels: usize) {
        self.depth -= levels;
    }

    /// The operators of `level` and tighter: a [`Node::Chain`] when there is more than
    /// one term.
    fn binary(&mut self, level: u8) -> Result<Node, ParseError> {
        let operand = |parser: &mut Self| {
            if level == MULTIPLICATIVE {
                parser.postfix()
            } else {
                parser.binary(level + 1)
            }
        };
        let first = operand(self)?;
        let mut rest = Vec::new();
        while let Some(op) = binary_op(self.peek()).filter(|op| op.level() == level) {
            self.advance();
            rest.push((op, operand(self)?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Node::Chain {
                first: Box::new(first),
                rest,
            }
        })
    }

    /// A unary expression followed by any number of `[NOT] LIKE` and `[NOT] IN`, each
    /// one level of nesting.
    fn postfix(&mut self) -> Result<Node, ParseError> {
        let mut node = self.unary()?;
        let mut levels = 0;
        loop {
            let negated = keyword(self.peek()) == Some(Keyword::Not)
                && matches!(keyword(self.peek_at(1)), Some(Keyword::Like | Keyword::In));
            let operator = keyword(self.peek_at(usize::from(negated)));
            if !matches!(operator, Some(Keyword::Like | Keyword::In)) {
                break;
            }
            self.enter()?;
            levels += 1;
            if negated {
                self.advance();
            }
            self.advance();
            let operand = Box::new(node);
            node = if operator == Some(Keyword::Like) {
                let Tok::String(pattern) = self.peek() else {
                    return Err(self.error(format!(
                        "the pattern of LIKE must be a string literal, found {}",
                        self.peek()
                    )));
                };
                let pattern = Pattern::new(pattern);
                self.advance();
                Node::Like {
                    operand,
                    pattern,
                    negated,
                }
            } else {
                Node::In {
                    operand,
                    set: self.set()?,
                    negated,
                }
            };
        }
        self.leave(levels);
        Ok(node)
    }

    /// `( expression, ... )`, at least one.
    fn set(&mut self) -> Result<Vec<Node>, ParseError> {
        self.expect(Tok::LParen, "`(` to open the set of IN")?;
        let mut set = vec![self.binary(LOGIC)?];
        while *self.peek() == Tok::Comma {
            self.advance();
            set.push(self.binary(LOGIC)?);
        }
        self.expect(Tok::RParen, "`,` or `)` in the set of IN")?;
        Ok(set)
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        match self.peek() {
            tok if keyword(tok) == Some(Keyword::Not) => {
                self.advance();
                self.enter()?;
                let operand = self.unary()?;
                self.leave(1);
                Ok(Node::Not(Box::new(operand)))
            }
            Tok::Minus => {
                self.advance();
                if let Tok::Integer(digits) = *self.peek() {
                    let literal = self.integer(digits, true)?;
                    self.advance();
                    return Ok(literal);
                }
                self.enter()?;
                let operand = self.unary()?;
                self.leave(1);
                Ok(Node::Negate(Box::new(operand)))
            }
            // The grammar's integer literal may carry a `+`; there is no unary plus.
            Tok::Plus => {
                self.advance();
                let Tok::Integer(digits) = *self.peek() else {
                    return Err(
                        self.error(format!("expected digits after `+`, found {}", self.peek()))
                    );
                };
                let literal = self.integer(digits, false)?;
                self.advance();
                Ok(literal)
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        match *self.peek() {
            Tok::LParen => {
                self.advance();
                self.enter()?;
                let node = self.binary(LOGIC)?;
                self.expect(Tok::RParen, "`)`")?;
                self.leave(1);
                Ok(node)
            }
            Tok::Integer(digits) => {
                let literal = self.integer(digits, false)?;
                self.advance();
                Ok(literal)
            }
            Tok::String(_) => {
                let Tok::String(text) = &mut self.tokens[self.pos].kind else {
                    unreachable!("the token was just matched");
                };
                let text = std::mem::take(text);
                self.advance();
                Ok(Node::Literal(Value::String(text)))
            }
            Tok::Word(word) => match keyword(self.peek()) {
                Some(Keyword::True) => {
                    self.advance();
                    Ok(Node::Literal(Value::Boolean(true)))
                }
                Some(Keyword::False) => {
                    self.advance();
                    Ok(Node::Literal(Value::Boolean(false)))
                }
                Some(Keyword::Exists) => {
                    self.advance();
                    match self.peek() {
                        Tok::Word(name) if keyword(self.peek()).is_none() => {
                            let node = Node::Exists(self.attribute_name(name)?);
                            self.advance();
                            Ok(node)
                        }
                        other => Err(self.error(format!(
                            "expected an attribute name after EXISTS, found {other}"
                        ))),
                    }
                }
                Some(_) => Err(self.error(format!("expected an expression, found `{word}`"))),
                None if *self.peek_at(1) == Tok::LParen => self.call(word),
                None => {
                    let node = Node::Attribute(self.attribute_name(word)?);
                    self.advance();
                    Ok(node)
                }
            },
            ref other => Err(self.error(format!("expected an expression, found {other}"))),
        }
    }

    /// `name( args )`, resolved now; the current token is the name.
    fn call(&mut self, name: &'a str) -> Result<Node, ParseError> {
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_');
        if !valid {
            return Err(self.error(format!(
                "`{name}` is not a function name (letters and `_`, starting with a letter)"
            )));
        }
        self.advance();
        self.advance();
        self.enter()?;
        let mut args = Vec::new();
        if *self.peek() != Tok::RParen {
            args.push(self.binary(LOGIC)?);
            while *self.peek() == Tok::Comma {
                self.advance();
                args.push(self.binary(LOGIC)?);
            }
        }
        self.expect(Tok::RParen, "`,` or `)` after an argument")?;
        self.leave(1);
        Ok(match Builtin::resolve(name, args.len()) {
            Some(function) => Node::Call { function, args },
            None => Node::UnknownFunction {
                name: name.into(),
                arity: args.len(),
            },
        })
    }

    /// An attribute name (`[a-zA-Z0-9]+`, read in lower case: the TCK's `EXISTS SOURCE`
    /// is true).
    fn attribute_name(&self, word: &str) -> Result<Box<str>, ParseError> {
        if word.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(word.to_ascii_lowercase().into())
        } else {
            Err(self.error(format!(
                "`{word}` is not an attribute name (letters and digits)"
            )))
        }
    }

    /// An integer literal; it must fit in 32 bits (spec §2.2).
    fn integer(&self, digits: &str, negative: bool) -> Result<Node, ParseError> {
        let sign = if negative { "-" } else { "" };
        // Too many digits for an i64 is out of range too.
        digits
            .parse::<i64>()
            .ok()
            .map(|n| if negative { -n } else { n })
            .and_then(|n| i32::try_from(n).ok())
            .map(|n| Node::Literal(Value::Integer(n)))
            .ok_or_else(|| {
                self.error(format!(
                    "the integer `{sign}{digits}` is outside the 32-bit range"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree's shape, as a Lisp-like string.
    fn shape(node: &Node) -> String {
        match node {
            Node::Literal(Value::String(s)) => format!("'{s}'"),
            Node::Literal(v) => v.to_string(),
            Node::Attribute(name) => name.to_string(),
            Node::Exists(name) => format!("(exists {name})"),
            Node::Not(x) => format!("(not {})", shape(x)),
            Node::Negate(x) => format!("(- {})", shape(x)),
            Node::Like {
                operand, negated, ..
            } => format!(
                "({}like {})",
                if *negated { "not " } else { "" },
                shape(operand)
            ),
            Node::In {
                operand,
                set,
                negated,
            } => format!(
                "({}in {} {})",
                if *negated { "not " } else { "" },
                shape(operand),
                set.iter().map(shape).collect::<Vec<_>>().join(" ")
            ),
            Node::Chain { first, rest } => {
                let mut s = format!("({}", shape(first));
                for (op, node) in rest {
                    s += &format!(" {} {}", op.symbol(), shape(node));
                }
                s + ")"
            }
            Node::Call { function, args } => format!(
                "({function:?} {})",
                args.iter().map(shape).collect::<Vec<_>>().join(" ")
            ),
            Node::UnknownFunction { name, arity } => format!("({name}/{arity}?)"),
        }
    }

    fn parsed(input: &str) -> String {
        shape(&parse(input).unwrap_or_else(|e| panic!("{input}: {e}")))
    }

    #[test]
    fn precedence_follows_the_spec() {
        assert_eq!(parsed("4 * 2 + 4 / 2"), "((4 * 2) + (4 / 2))");
        assert_eq!(parsed("a = 1 AND b < 2"), "((a = 1) AND (b < 2))");
        assert_eq!(parsed("NOT a = b"), "((not a) = b)");
        assert_eq!(parsed("NOT a LIKE 'x'"), "(like (not a))");
        assert_eq!(parsed("-a * b"), "((- a) * b)");
        assert_eq!(parsed("a * b LIKE 'x'"), "(a * (like b))");
        assert_eq!(parsed("1 + a IN (1, 2)"), "(1 + (in a 1 2))");
        assert_eq!(parsed("a LIKE 'x' IN (TRUE)"), "(in (like a) true)");
        assert_eq!(parsed("NOT EXISTS a AND b"), "((not (exists a)) AND b)");
    }

    #[test]
    fn logic_operators_share_a_level_and_associate_left() {
        assert_eq!(parsed("a OR b AND c"), "(a OR b AND c)");
        assert_eq!(parsed("a AND (b OR c)"), "(a AND (b OR c))");
        assert_eq!(parsed("1 - 2 - 3"), "(1 - 2 - 3)");
    }

    #[test]
    fn keywords_and_names_ignore_case() {
        assert_eq!(parsed("eXiStS SOURCE"), "(exists source)");
        assert_eq!(
            parsed("x not like 'a' or y not in (1)"),
            "((not like x) OR (not in y 1))"
        );
        assert_eq!(parsed("concat_ws(',', a)"), "(ConcatWs ',' a)");
        assert_eq!(parsed("tRuE xor FaLsE"), "(true XOR false)");
    }

    #[test]
    fn signs_belong_to_integer_literals() {
        assert_eq!(parsed("-2147483648"), "-2147483648");
        assert_eq!(parsed("--10"), "(- -10)");
        assert_eq!(parsed("-'10'"), "(- '10')");
        assert_eq!(parsed("4-1"), "(4 - 1)");
        assert_eq!(parsed("4 + -1"), "(4 + -1)");
        assert_eq!(parsed("+7"), "7");
        assert_eq!(parsed("007"), "7");
        assert!(parse("2147483648").is_err());
        assert!(parse("-2147483649").is_err());
        assert!(parse("99999999999999999999999").is_err());
        assert!(parse("+'1'").is_err());
    }

    #[test]
    fn unknown_functions_parse() {
        assert_eq!(parsed("NOPE(1, 2)"), "(NOPE/2?)");
        assert_eq!(parsed("CONCAT_WS()"), "(CONCAT_WS/0?)");
        assert_eq!(parsed("length(a, b)"), "(length/2?)");
    }

    #[test]
    fn malformed_expressions_are_refused_with_a_position() {
        for (input, message) in [
            ("", "the expression is empty at column 1"),
            ("   ", "the expression is empty at column 4"),
            (
                "ABC(",
                "expected an expression, found the end of the expression at column 5",
            ),
            (
                "(1",
                "expected `)`, found the end of the expression at column 3",
            ),
            ("1)", "unmatched `)` at column 2"),
            (
                "1 2",
                "unexpected `2` after a complete expression at column 3",
            ),
            (
                "x LIKE 123",
                "the pattern of LIKE must be a string literal, found `123` at column 8",
            ),
            (
                "x LIKE y",
                "the pattern of LIKE must be a string literal, found `y` at column 8",
            ),
            ("x IN ()", "expected an expression, found `)` at column 7"),
            (
                "x IN 1",
                "expected `(` to open the set of IN, found `1` at column 6",
            ),
            (
                "EXISTS 'a'",
                "expected an attribute name after EXISTS, found a string literal at column 8",
            ),
            (
                "EXISTS AND",
                "expected an attribute name after EXISTS, found `AND` at column 8",
            ),
            (
                "a_b = 1",
                "`a_b` is not an attribute name (letters and digits) at column 1",
            ),
            (
                "f1(2)",
                "`f1` is not a function name (letters and `_`, starting with a letter) at column 1",
            ),
            ("AND", "expected an expression, found `AND` at column 1"),
            (
                "a NOT b",
                "unexpected `NOT` after a complete expression at column 3",
            ),
            (
                "1 +",
                "expected an expression, found the end of the expression at column 4",
            ),
        ] {
            let err = parse(input).expect_err(input);
            assert_eq!(err.to_string(), message, "{input}");
        }
    }
}
