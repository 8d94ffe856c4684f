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

/// Checks a `datacontenttype`: a non-empty String of ASCII only, as every RFC 2046 media
/// type is (and as the binary mode's `Content-Type` header must be to round-trip).
pub(crate) fn media_type(attr: &str, value: &str) -> Result<(), Error> {
    required(attr, value)?;
    if !value.is_ascii() {
        return Err(Error::invalid(
            attr,
            "is not an RFC 2046 media type: it must be ASCII",
        ));
    }
    Ok(())
}

/// Checks an RFC 3986 URI-reference (§4.1): only URI characters, well-formed
/// percent-escapes, a well-formed scheme when one is present, at most one `#`, and `[`,
/// `]`, `@` and a port only where the authority allows them.
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
    let scheme = scheme_of(value);
    if let Some(scheme) = scheme
        && !is_scheme(scheme)
    {
        return Err(Error::invalid(attr, "has a malformed URI scheme"));
    }
    // The first `#` starts the fragment, which holds no other `#` and no brackets; the
    // brackets of an IP literal belong to the authority alone (RFC 3986 §3.2.2, §3.5).
    let (rest, fragment) = value.split_once('#').unwrap_or((value, ""));
    if fragment.contains(['#', '[', ']']) {
        return Err(Error::invalid(
            attr,
            "is not a URI-reference: its fragment holds a `#`, `[` or `]`",
        ));
    }
    let rest = scheme.map_or(rest, |s| &rest[s.len() + 1..]);
    let (authority, path_and_query) = match rest.strip_prefix("//") {
        Some(r) => r.split_at(r.find(['/', '?']).unwrap_or(r.len())),
        None => ("", rest),
    };
    if path_and_query.contains(['[', ']']) {
        return Err(Error::invalid(
            attr,
            "is not a URI-reference: `[` and `]` may only enclose an IP address in the authority",
        ));
    }
    authority_fault(authority).map_or(Ok(()), |fault| {
        Err(Error::invalid(
            attr,
            format!("is not a URI-reference: its authority {fault}"),
        ))
    })
}

/// What is wrong with `[ userinfo "@" ] host [ ":" port ]` (RFC 3986 §3.2), if anything,
/// beyond the characters and escapes already checked.
fn authority_fault(authority: &str) -> Option<&'static str> {
    let host_port = match authority.rsplit_once('@') {
        Some((userinfo, _)) if userinfo.contains(['@', '[', ']']) => {
            return Some("has more than one `@` or a bracket in its userinfo");
        }
        Some((_, host_port)) => host_port,
        None => authority,
    };
    let port = match host_port.strip_prefix('[') {
        Some(literal_on) => {
            let Some((literal, after)) = literal_on.split_once(']') else {
                return Some("has an unclosed `[`");
            };
            let ip_future = literal.starts_with(['v', 'V']);
            let ip_v6 = !literal.is_empty()
                && literal
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
            if !(ip_future || ip_v6) || literal.contains('[') {
                return Some("has a malformed IP literal");
            }
            match after.strip_prefix(':') {
                Some(port) => port,
                None if after.is_empty() => "",
                None => return Some("has characters after its IP literal"),
            }
        }
        None if host_port.contains(['[', ']']) => {
            return Some("has a `[` or `]` outside an IP literal");
        }
        None => host_port.rsplit_once(':').map_or("", |(_, port)| port),
    };
    (!port.bytes().all(|b| b.is_ascii_digit())).then_some("has a port that is not a number")
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
    // RFC 3339's `date-time` joins date and time with `T` (or `t`, §5.6). The `time`
    // crate takes any one byte there (a space, a letter, even U+0000), which would let
    // through values that neither RFC 3339 nor the CloudEvents JSON schema accept.
    if !matches!(value.as_bytes().get(10), Some(b'T' | b't')) {
        return Err(Error::invalid(
            attr,
            "is not an RFC 3339 timestamp: date and time must be joined by `T`",
        ));
    }
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
    fn brackets_at_signs_ports_and_fragments_stand_only_where_rfc_3986_puts_them() {
        for ok in [
            "http://[::1]/x",
            "//user:pass@[2001:db8::7]:8080/x?q=1#f/?",
            "http://[v1.fe80::a+en1]/",
            "http://example.com:80/a@b:c",
            "http://example.com:/",
            "mailto:a@example.com",
        ] {
            assert!(uri_reference("source", ok).is_ok(), "{ok}");
        }
        for bad in [
            "a#b#c",
            "a[b]",
            "x?a[1]",
            "/s#[1]",
            "http://x:abc/",
            "http://a@b@c/",
            "http://[::1/x",
            "http://[zz]/x",
            "http://[]/x",
            "http://[::1]x/",
            "http://a[::1]/",
            "//a:b:c/",
        ] {
            assert!(uri_reference("source", bad).is_err(), "{bad}");
        }
        assert!(uri("dataschema", "urn:x[1]").is_err());
    }

    #[test]
    fn media_types_are_ascii() {
        assert!(media_type("datacontenttype", "text/plain; charset=\"utf-8\"").is_ok());
        for bad in ["", "é/x", "text/plain; charset=\"é\"", "text/plain;\tq=1"] {
            assert!(media_type("datacontenttype", bad).is_err(), "{bad:?}");
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
            "1985-04-12t23:20:50.52z",
        ] {
            assert!(timestamp("time", ok).is_ok(), "{ok}");
        }
        for bad in [
            "2018-04-05",
            "2018-04-05T17:31:00",
            "yesterday",
            "2018-13-05T17:31:00Z",
            "2018-04-05 17:31:00Z",
            "2018-04-05X17:31:00Z",
            "2018-04-05\u{0}17:31:00Z",
            "2018-04-0517:31:00Z",
        ] {
            assert!(timestamp("time", bad).is_err(), "{bad}");
        }
    }
}
