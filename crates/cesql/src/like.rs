//! LIKE patterns (spec §3.4.3): `%` matches any run of characters, `_` exactly one,
//! `\%` and `\_` themselves; everything else matches itself, case-sensitively.
//!
//! A backslash before anything else is a literal backslash: the spec escapes only the
//! two wildcards, and a string literal keeps its backslashes (see the lexer), so that
//! `'a\b' LIKE 'a\b'` is true, as the TCK's `'ab\c' LIKE 'ab\c'` is. Patterns are compiled once, and the common shapes (`abc`, `abc%`,
//! `%abc`, `%abc%`) match with a plain string comparison.

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pattern {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// Anything else, matched by [`wildcard_match`].
    General(Vec<Part>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Char(char),
    /// `_`
    One,
    /// `%`
    Many,
}

impl Pattern {
    /// Compiles the text of a LIKE pattern (a string literal's value).
    pub(crate) fn new(pattern: &str) -> Pattern {
        let mut parts = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            parts.push(match c {
                '\\' => match chars.peek() {
                    Some(&escaped @ ('%' | '_')) => {
                        chars.next();
                        Part::Char(escaped)
                    }
                    _ => Part::Char('\\'),
                },
                '%' => {
                    // `%%` matches what `%` does.
                    if parts.last() == Some(&Part::Many) {
                        continue;
                    }
                    Part::Many
                }
                '_' => Part::One,
                c => Part::Char(c),
            });
        }
        simplify(parts)
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        match self {
            Pattern::Exact(s) => text == s,
            Pattern::Prefix(s) => text.starts_with(s.as_str()),
            Pattern::Suffix(s) => text.ends_with(s.as_str()),
            Pattern::Contains(s) => text.contains(s.as_str()),
            Pattern::General(parts) => wildcard_match(parts, text),
        }
    }
}

/// The plain-comparison shape of `parts`, when it has one.
fn simplify(parts: Vec<Part>) -> Pattern {
    let literal = |parts: &[Part]| -> Option<String> {
        parts
            .iter()
            .map(|p| match p {
                Part::Char(c) => Some(*c),
                _ => None,
            })
            .collect()
    };
    let leading = parts.first() == Some(&Part::Many);
    let trailing = parts.len() > usize::from(leading) && parts.last() == Some(&Part::Many);
    let inner = &parts[usize::from(leading)..parts.len() - usize::from(trailing)];
    match (literal(inner), leading, trailing) {
        (Some(s), false, false) => Pattern::Exact(s),
        (Some(s), false, true) => Pattern::Prefix(s),
        (Some(s), true, false) => Pattern::Suffix(s),
        (Some(s), true, true) => Pattern::Contains(s),
        (None, _, _) => Pattern::General(parts),
    }
}

/// Matches `text` against `parts`: the classic greedy algorithm that, on a mismatch,
/// goes back to the last `%` and lets it take one more character. Time O(len(parts) ×
/// len(text)) at worst, no allocation, no recursion.
fn wildcard_match(parts: &[Part], text: &str) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where to resume after the last `%`: the part after it, and the text position it
    // has reached.
    let mut resume: Option<(usize, usize)> = None;
    loop {
        let next = text[t..].chars().next();
        match (parts.get(p), next) {
            (Some(Part::Many), _) => {
                p += 1;
                resume = Some((p, t));
                continue;
            }
            (Some(Part::One), Some(c)) => {
                p += 1;
                t += c.len_utf8();
                continue;
            }
            (Some(Part::Char(expected)), Some(c)) if *expected == c => {
                p += 1;
                t += c.len_utf8();
                continue;
            }
            (None, None) => return true,
            _ => {}
        }
        // A mismatch: the last `%` takes one more character, if there is one.
        let Some((resume_p, resume_t)) = resume else {
            return false;
        };
        let Some(c) = text[resume_t..].chars().next() else {
            return false;
        };
        p = resume_p;
        t = resume_t + c.len_utf8();
        resume = Some((p, t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(text: &str, pattern: &str) -> bool {
        Pattern::new(pattern).matches(text)
    }

    #[test]
    fn common_shapes_are_plain_comparisons() {
        assert_eq!(Pattern::new("abc"), Pattern::Exact("abc".into()));
        assert_eq!(Pattern::new("abc%"), Pattern::Prefix("abc".into()));
        assert_eq!(Pattern::new("%abc"), Pattern::Suffix("abc".into()));
        assert_eq!(Pattern::new("%a\\%c%"), Pattern::Contains("a%c".into()));
        assert_eq!(Pattern::new("%"), Pattern::Suffix(String::new()));
        assert_eq!(Pattern::new("%%"), Pattern::Suffix(String::new()));
        assert_eq!(Pattern::new("%%a%%"), Pattern::Contains("a".into()));
        assert!(matches!(Pattern::new("a_c"), Pattern::General(_)));
    }

    #[test]
    fn wildcards_match_characters_not_bytes() {
        assert!(like("é", "_"));
        assert!(like("aéb", "a_b"));
        assert!(!like("aéb", "a__b"));
        assert!(like("日本語", "%本%"));
        assert!(like("日本語", "_本_"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
    }

    #[test]
    fn a_percent_backtracks() {
        assert!(like("abcbcd", "a%bcd"));
        assert!(like("aaa", "%a%a%a%"));
        assert!(!like("aa", "%a%a%a%"));
        assert!(like("mississippi", "m%iss%pi"));
        assert!(like("xay", "%a_"));
        assert!(!like("xa", "%a_"));
    }

    #[test]
    fn backslashes_escape_only_wildcards() {
        assert!(like("a%", "a\\%"));
        assert!(!like("ab", "a\\%"));
        assert!(like("a\\c", "a\\c"));
        assert!(like("a\\", "a\\"));
        // Each backslash stands alone: `\\%` is a backslash, then an escaped `%`.
        assert!(like("a\\%", "a\\\\%"));
        assert!(!like("a\\bc", "a\\\\%"));
    }

    #[test]
    fn a_long_text_against_a_bad_pattern_stays_polynomial() {
        let text = "a".repeat(10_000);
        assert!(!like(&text, "%a%a%a%b"));
    }
}
