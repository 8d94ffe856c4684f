//! Header value coding of the CloudEvents HTTP binding 1.0.2 §3.1.3.1.
//!
//! Written here rather than taken from the `percent-encoding` crate because the binding
//! needs a stricter decoder than that crate offers: a malformed escape and a byte sequence
//! that is not valid UTF-8 (such as the overlong `%C0%A0`) must be rejected, not passed
//! through, and an RFC 7230 quoted-string must be unquoted first.

use std::borrow::Cow;

/// Why a header value could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeFailure {
    /// A `%` not followed by two hex digits.
    MalformedEscape,
    /// The decoded bytes are not valid UTF-8.
    InvalidUtf8,
    /// A quoted-string that does not close, or a backslash at its end.
    MalformedQuotedString,
}

impl DecodeFailure {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::MalformedEscape => "has a malformed percent-escape",
            Self::InvalidUtf8 => "is not valid UTF-8 once percent-decoded",
            Self::MalformedQuotedString => "is a malformed quoted-string",
        }
    }
}

/// Decodes a `ce-` header value: unquote once, then percent-decode exactly once.
pub(crate) fn decode(raw: &[u8]) -> Result<Cow<'_, str>, DecodeFailure> {
    let unquoted = unquote(raw)?;
    let needs_decoding = unquoted.contains(&b'%');
    if !needs_decoding {
        return match unquoted {
            Cow::Borrowed(b) => std::str::from_utf8(b)
                .map(Cow::Borrowed)
                .map_err(|_| DecodeFailure::InvalidUtf8),
            Cow::Owned(v) => String::from_utf8(v)
                .map(Cow::Owned)
                .map_err(|_| DecodeFailure::InvalidUtf8),
        };
    }
    let mut out = Vec::with_capacity(unquoted.len());
    let mut bytes = unquoted.iter().copied();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = bytes.next().and_then(hex);
            let lo = bytes.next().and_then(hex);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(DecodeFailure::MalformedEscape),
            }
        } else {
            out.push(b);
        }
    }
    // `String::from_utf8` rejects overlong forms, surrogates and truncated sequences.
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| DecodeFailure::InvalidUtf8)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Undoes RFC 7230 §3.2.6 quoted-string escaping when the value is one.
fn unquote(raw: &[u8]) -> Result<Cow<'_, [u8]>, DecodeFailure> {
    let [b'"', inner @ .., b'"'] = raw else {
        return if raw.first() == Some(&b'"') {
            Err(DecodeFailure::MalformedQuotedString)
        } else {
            Ok(Cow::Borrowed(raw))
        };
    };
    if !inner.contains(&b'\\') {
        return Ok(Cow::Borrowed(inner));
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter().copied();
    while let Some(b) = bytes.next() {
        if b == b'\\' {
            out.push(bytes.next().ok_or(DecodeFailure::MalformedQuotedString)?);
        } else {
            out.push(b);
        }
    }
    Ok(Cow::Owned(out))
}

/// Encodes an attribute value for a `ce-` header: every character outside printable
/// ASCII U+0021-U+007E, and space, `"` and `%`, as its UTF-8 bytes in upper-case `%XY`.
pub(crate) fn encode(value: &str) -> Cow<'_, str> {
    if !value.bytes().any(needs_escape) {
        return Cow::Borrowed(value);
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len() + 16);
    for b in value.bytes() {
        if needs_escape(b) {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xF)] as char);
        } else {
            out.push(b as char);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(b: u8) -> bool {
    !(0x21..=0x7E).contains(&b) || b == b'"' || b == b'%'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example_encodes_as_written() {
        assert_eq!(encode("Euro € 😀"), "Euro%20%E2%82%AC%20%F0%9F%98%80");
        assert_eq!(encode(r#"100% "quoted""#), "100%25%20%22quoted%22");
        assert!(matches!(encode("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn decoding_accepts_lowercase_hex_and_needless_escapes() {
        assert_eq!(decode(b"Euro%20%e2%82%ac").unwrap(), "Euro €");
        assert_eq!(decode(b"%41%42C").unwrap(), "ABC");
    }

    #[test]
    fn decoding_happens_exactly_once() {
        assert_eq!(decode(b"%2541").unwrap(), "%41");
    }

    #[test]
    fn invalid_and_overlong_utf8_is_rejected() {
        assert_eq!(decode(b"%C0%A0"), Err(DecodeFailure::InvalidUtf8));
        assert_eq!(decode(b"%E2%82"), Err(DecodeFailure::InvalidUtf8));
        assert_eq!(decode(b"%ED%A0%80"), Err(DecodeFailure::InvalidUtf8));
        assert_eq!(decode(b"\xff"), Err(DecodeFailure::InvalidUtf8));
    }

    #[test]
    fn malformed_escapes_are_rejected() {
        for bad in [&b"%"[..], b"%4", b"%zz", b"a%g1"] {
            assert_eq!(decode(bad), Err(DecodeFailure::MalformedEscape), "{bad:?}");
        }
    }

    #[test]
    fn quoted_strings_are_unquoted_before_percent_decoding() {
        assert_eq!(decode(br#""hello world""#).unwrap(), "hello world");
        assert_eq!(decode(br#""a\"b\\c""#).unwrap(), r#"a"b\c"#);
        assert_eq!(decode(br#""%20""#).unwrap(), " ");
        assert_eq!(
            decode(br#""open"#),
            Err(DecodeFailure::MalformedQuotedString)
        );
        assert_eq!(
            decode(br#""trailing\""#),
            Err(DecodeFailure::MalformedQuotedString)
        );
    }
}
