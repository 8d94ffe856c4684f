//! The tokens of CESQL (spec §2): punctuation, operators, integer and string literals,
//! and words (keywords, attribute names and function names, told apart by the parser).

use std::fmt;

use crate::ParseError;

/// One token and the byte offset where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: Tok<'a>,
    pub offset: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Eq,
    /// `!=`
    NotEq,
    /// `<>`
    LtGt,
    Lt,
    Le,
    Gt,
    Ge,
    /// Decimal digits, without a sign: the parser applies a preceding `-` so that
    /// `-2147483648` is a literal, not the negation of an out-of-range one.
    Integer(&'a str),
    /// A string literal's text, its delimiter escapes resolved.
    String(String),
    /// `[A-Za-z0-9_]+` that is not all digits.
    Word(&'a str),
    Eof,
}

impl fmt::Display for Tok<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbol = match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::Comma => ",",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Eq => "=",
            Tok::NotEq => "!=",
            Tok::LtGt => "<>",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Integer(digits) => return write!(f, "`{digits}`"),
            Tok::String(_) => return f.write_str("a string literal"),
            Tok::Word(word) => return write!(f, "`{word}`"),
            Tok::Eof => return f.write_str("the end of the expression"),
        };
        write!(f, "`{symbol}`")
    }
}

/// Splits `input` into tokens, ending with [`Tok::Eof`].
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token<'_>>, ParseError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let (kind, len) = match b {
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b',' => (Tok::Comma, 1),
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'*' => (Tok::Star, 1),
            b'/' => (Tok::Slash, 1),
            b'%' => (Tok::Percent, 1),
            b'=' => (Tok::Eq, 1),
            b'!' if bytes.get(i + 1) == Some(&b'=') => (Tok::NotEq, 2),
            b'<' => match bytes.get(i + 1) {
                Some(b'=') => (Tok::Le, 2),
                Some(b'>') => (Tok::LtGt, 2),
                _ => (Tok::Lt, 1),
            },
            b'>' if bytes.get(i + 1) == Some(&b'=') => (Tok::Ge, 2),
            b'>' => (Tok::Gt, 1),
            b'\'' | b'"' => {
                let (text, len) = string(input, start)?;
                (Tok::String(text), len)
            }
            b if is_word_byte(b) => {
                let len = bytes[start..]
                    .iter()
                    .take_while(|&&b| is_word_byte(b))
                    .count();
                let word = &input[start..start + len];
                if word.bytes().all(|b| b.is_ascii_digit()) {
                    (Tok::Integer(word), len)
                } else {
                    (Tok::Word(word), len)
                }
            }
            _ => {
                let c = input[start..].chars().next().unwrap_or_default();
                return Err(ParseError::at(
                    input,
                    start,
                    format!("unexpected character `{c}`"),
                ));
            }
        };
        tokens.push(Token {
            kind,
            offset: start,
        });
        i = start + len;
    }
    tokens.push(Token {
        kind: Tok::Eof,
        offset: input.len(),
    });
    Ok(tokens)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The string literal starting at `start`: its text and its length in bytes.
///
/// A backslash escapes the delimiter (`'it\'s'`), as does a doubled delimiter
/// (`'it''s'`, which the reference grammar also accepts). Any other backslash is kept
/// with the character after it, so that LIKE sees `\%` and `\_` in its pattern and
/// `'a\\'` ends where it seems to.
fn string(input: &str, start: usize) -> Result<(String, usize), ParseError> {
    let quote = input.as_bytes()[start] as char;
    let mut text = String::new();
    let mut chars = input[start + 1..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if chars.peek().is_some_and(|&(_, next)| next == quote) {
                chars.next();
                text.push(quote);
                continue;
            }
            return Ok((text, i + 2));
        }
        if c == '\\'
            && let Some(&(_, next)) = chars.peek()
        {
            chars.next();
            if next != quote {
                text.push('\\');
            }
            text.push(next);
            continue;
        }
        text.push(c);
    }
    Err(ParseError::at(
        input,
        start,
        "the string literal has no closing quote",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<Tok<'_>> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn operators_take_the_longest_match() {
        assert_eq!(
            kinds("<>!=<=>=<>"),
            [Tok::LtGt, Tok::NotEq, Tok::Le, Tok::Ge, Tok::LtGt, Tok::Eof]
        );
    }

    #[test]
    fn words_that_are_all_digits_are_integers() {
        assert_eq!(
            kinds("12 1a CONCAT_WS"),
            [
                Tok::Integer("12"),
                Tok::Word("1a"),
                Tok::Word("CONCAT_WS"),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn strings_resolve_only_their_own_delimiter() {
        assert_eq!(kinds(r#"'a"b\'c'"#)[0], Tok::String(r#"a"b'c"#.into()));
        assert_eq!(kinds(r#""a'b\"c""#)[0], Tok::String(r#"a'b"c"#.into()));
        assert_eq!(kinds(r"'a\%b\_c\\'")[0], Tok::String(r"a\%b\_c\\".into()));
        assert_eq!(kinds("'it''s'")[0], Tok::String("it's".into()));
        assert_eq!(kinds("''")[0], Tok::String(String::new()));
        assert_eq!(kinds("'é'")[0], Tok::String("é".into()));
    }

    #[test]
    fn an_unterminated_string_is_an_error_at_its_start() {
        let err = tokenize("x = 'abc").unwrap_err();
        assert_eq!(err.column(), 5);
        assert!(tokenize(r"'abc\'").is_err());
    }

    #[test]
    fn unknown_characters_are_errors() {
        let err = tokenize("a # b").unwrap_err();
        assert_eq!(err.to_string(), "unexpected character `#` at column 3");
        assert!(tokenize("a ! b").is_err());
        assert!(tokenize("naïve").is_err());
    }
}
