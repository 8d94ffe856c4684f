//! The CloudEvents 1.0.2 type system: attribute names and the canonical string forms of
//! String, URI, URI-reference and Timestamp values.
//!
//! These checks run on every decoded event and every built one, so they are written to
//! allocate nothing.

use crate::Error;

/// Checks an attribute name: one or more of `a`-`z` and `0`-`9` (CloudEvents 1.0.2 §3.1.1).
pub(crate) fn name(name: &str) -> Result<(), Error> {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: name.to_owned(),
        })
    }
}

/// Checks a String value: no control characters (U+0000-U+001F, U+007F-U+009F) and no
/// Unicode noncharacters. Unpaired surrogates cannot occur in a Rust `str`: UTF-8
/// validation already rejected them.
pub(crate) fn string(attr: &str, value: &str) -> Result<(), Error> {
    match value.chars().find(|&c| is_disallowed(c)) {
        None => Ok(()),
        Some(c) => Err(Error::invalid(
            attr,
            format!("contains the disallowed character U+{:04X}", c as u32),
        )),
    }
}

fn is_disallowed(c: char) -> bool {
    let n = c as u32;
    n <= 0x1F
        || (0x7F..=0x9F).contains(&n)
        || (0xFDD0..=0xFDEF).contains(&n)
        || (n & 0xFFFE) == 0xFFFE
}

/// Checks a required String attribute: present and non-empty.
pub(crate) fn required(attr: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid(attr, "must not be empty"));
    }
    string(attr, value)
}

/// Checks an RFC 3986 URI-reference (§4.1): only URI characters, well-formed
/// percent-escapes, and a well-formed scheme when one is present.
pub(crate) fn uri_reference(attr: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid(attr, "must not be empty"));
    }
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return Err(Error::invalid(attr, "has a malformed percent-escape"));
            }
            i += 3;
            continue;
        }
        if !is_uri_char(b) {
            return Err(Error::invalid(
                attr,
                format!(
                    "is not a URI-reference: {:?} is not allowed",
                    value[i..].chars().next().unwrap_or('?')
                ),
            ));
        }
        i += 1;
    }
    // A colon before any `/`, `?` or `#` makes the prefix a scheme, which must be
    // ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
    if let Some(scheme) = scheme_of(value) {
        if !is_scheme(scheme) {
            return Err(Error::invalid(attr, "has a malformed URI scheme"));
        }
    }
    Ok(())
}

/// Checks an absolute RFC 3986 URI (§4.3): a URI-reference with a scheme and no fragment.
pub(crate) fn uri(attr: &str, value: &str) -> Result<(), Error> {
    uri_reference(attr, value)?;
    match scheme_of(value) {
        Some(s) if !s.is_empty() => {}
        _ => {
            return Err(Error::invalid(
                attr,
                "must be an absolute URI (with a scheme)",
            ));
        }
    }
    if value.contains('#') {
        return Err(Error::invalid(
            attr,
            "must be an absolute URI (no fragment)",
        ));
    }
    Ok(())
}

fn scheme_of(value: &str) -> Option<&str> {
    let end = value.find([':', '/', '?', '#'])?;
    (value.as_bytes()[end] == b':').then(|| &value[..end])
}

fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

fn is_uri_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'_' | b'~' // unreserved
                | b':' | b'/' | b'?' | b'#' | b'[' | b']' | b'@' // gen-delims
                | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' // sub-delims
        )
}

/// Checks an RFC 3339 timestamp.
pub(crate) fn timestamp(attr: &str, value: &str) -> Result<(), Error> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(value, &Rfc3339)
        .map(drop)
        .map_err(|e| Error::invalid(attr, format!("is not an RFC 3339 timestamp: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_letters_and_digits() {
        for ok in ["id", "comexampleextension1", "a", "0"] {
            assert!(name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Id", "my-ext", "my_ext", "my.ext", "é"] {
            assert!(name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_reject_control_characters_and_noncharacters() {
        assert!(string("subject", "Euro € 😀").is_ok());
        for bad in [
            "a\u{0}",
            "tab\t",
            "\u{7f}",
            "\u{85}",
            "\u{FDD0}",
            "\u{FFFE}",
            "\u{1FFFF}",
        ] {
            assert!(string("subject", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn uri_references_accept_relative_and_absolute_forms() {
        for ok in [
            "/mycontext",
            "https://github.com/cloudevents/spec/pull",
            "urn:event:from:myapi/resource/123",
            "mailto:cncf-wg-serverless@lists.cncf.io",
            "cloudevents/spec/pull/123?x=%20y#frag",
            "1-555-123-4567",
        ] {
            assert!(uri_reference("source", ok).is_ok(), "{ok}");
        }
        for bad in ["", "has space", "%zz", "a%2", "<tag>", "1http://x"] {
            assert!(uri_reference("source", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uris_must_be_absolute() {
        assert!(uri("dataschema", "https://example.com/schema.json").is_ok());
        assert!(uri("dataschema", "urn:x:y").is_ok());
        for bad in ["/schema.json", "schema.json", "https://e.com/s#frag", ""] {
            assert!(uri("dataschema", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_follow_rfc_3339() {
        for ok in [
            "2018-04-05T17:31:00Z",
            "2018-04-05T03:56:24+02:00",
            "1985-04-12T23:20:50.52Z",
        ] {
            assert!(timestamp("time", ok).is_ok(), "{ok}");
        }
        for bad in [
            "2018-04-05",
            "2018-04-05T17:31:00",
            "yesterday",
            "2018-13-05T17:31:00Z",
        ] {
            assert!(timestamp("time", bad).is_err(), "{bad}");
        }
    }
}
