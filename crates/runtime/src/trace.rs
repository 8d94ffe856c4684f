//! W3C Trace Context: the request's `traceparent` is continued, and the handler runs as
//! a child span of it (CONTRACT.md §4).

use std::fmt;

/// The trace a request belongs to, and the span the handler runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: [u8; 16],
    /// The caller's span (the parent), when the request carried one.
    parent_id: Option<[u8; 8]>,
    /// The handler's own span.
    span_id: [u8; 8],
    flags: u8,
    tracestate: Option<String>,
}

impl TraceContext {
    /// Continues `traceparent` (and `tracestate`) when valid; otherwise starts a new trace,
    /// as W3C Trace Context §4.3 says a receiver does with an invalid header.
    pub fn continue_from(traceparent: Option<&[u8]>, tracestate: Option<&str>) -> Self {
        match traceparent.and_then(parse) {
            Some((trace_id, parent, flags)) => Self {
                trace_id,
                parent_id: Some(parent),
                span_id: new_span_id(),
                flags,
                tracestate: tracestate.map(str::to_owned),
            },
            None => Self::root(),
        }
    }

    /// A new trace, sampled.
    pub fn root() -> Self {
        let mut trace_id = [0; 16];
        trace_id[..8].copy_from_slice(&fastrand::u64(1..).to_be_bytes());
        trace_id[8..].copy_from_slice(&fastrand::u64(..).to_be_bytes());
        Self {
            trace_id,
            parent_id: None,
            span_id: new_span_id(),
            flags: 1,
            tracestate: None,
        }
    }

    /// The trace id, 32 lower-case hex digits.
    pub fn trace_id(&self) -> String {
        self.id().to_string()
    }

    /// The trace id as a value that formats itself only when written (for logs).
    pub fn id(&self) -> TraceId {
        TraceId(self.trace_id)
    }

    /// The handler's span id, 16 lower-case hex digits.
    pub fn span_id(&self) -> String {
        hex(&self.span_id)
    }

    /// The caller's span id, when the request carried a `traceparent`.
    pub fn parent_id(&self) -> Option<String> {
        self.parent_id.as_ref().map(|p| hex(p))
    }

    /// The `traceparent` for anything the handler calls or emits: this trace, with the
    /// handler's span as the parent.
    pub fn traceparent(&self) -> String {
        let mut s = String::with_capacity(55);
        s.push_str("00-");
        push_hex(&mut s, &self.trace_id);
        s.push('-');
        push_hex(&mut s, &self.span_id);
        s.push('-');
        push_hex(&mut s, &[self.flags]);
        s
    }

    /// The `tracestate` to pass on, unchanged.
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }
}

impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.traceparent())
    }
}

fn new_span_id() -> [u8; 8] {
    fastrand::u64(1..).to_be_bytes()
}

/// A trace id, written as 32 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceId([u8; 16]);

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(32);
        push_hex(&mut s, &self.0);
        f.write_str(&s)
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

fn push_hex(s: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0xF)] as char);
    }
}

/// Parses `version-traceid-parentid-flags`; version 00 exactly, or a later version whose
/// first four fields parse (forward compatibility, §4.3). All-zero ids are invalid.
fn parse(value: &[u8]) -> Option<([u8; 16], [u8; 8], u8)> {
    let s = std::str::from_utf8(value).ok()?.trim();
    let mut parts = s.split('-');
    let version = parts.next()?;
    let (trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?);
    if version.len() != 2 || version == "ff" || (version == "00" && parts.next().is_some()) {
        return None;
    }
    let version = u8_from_hex(version)?;
    let _ = version;
    let trace_id: [u8; 16] = decode_hex(trace)?;
    let parent_id: [u8; 8] = decode_hex(parent)?;
    let [flags] = decode_hex::<1>(flags)?;
    if trace_id == [0; 16] || parent_id == [0; 8] {
        return None;
    }
    Some((trace_id, parent_id, flags))
}

fn u8_from_hex(s: &str) -> Option<u8> {
    decode_hex::<1>(s).map(|[b]| b)
}

fn decode_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != N * 2 {
        return None;
    }
    let mut out = [0; N];
    for (i, pair) in b.chunks(2).enumerate() {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None, // upper-case hex is invalid in traceparent
        };
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn a_valid_traceparent_is_continued_with_a_new_span() {
        let t = TraceContext::continue_from(Some(PARENT.as_bytes()), Some("congo=t61rcWkgMzE"));
        assert_eq!(t.trace_id(), "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(t.parent_id().as_deref(), Some("b7ad6b7169203331"));
        assert_ne!(t.span_id(), "b7ad6b7169203331");
        let child = t.traceparent();
        assert!(
            child.starts_with("00-0af7651916cd43dd8448eb211c80319c-"),
            "{child}"
        );
        assert!(child.ends_with("-01"));
        assert_eq!(t.tracestate(), Some("congo=t61rcWkgMzE"));
    }

    #[test]
    fn an_invalid_traceparent_starts_a_new_trace() {
        for bad in [
            "",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
        ] {
            let t = TraceContext::continue_from(Some(bad.as_bytes()), None);
            assert_eq!(t.parent_id(), None, "{bad}");
            assert_ne!(t.trace_id(), "0af7651916cd43dd8448eb211c80319c");
        }
    }

    #[test]
    fn later_versions_are_read_forward_compatibly() {
        let t = TraceContext::continue_from(
            Some(b"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-ever"),
            None,
        );
        assert_eq!(t.parent_id().as_deref(), Some("b7ad6b7169203331"));
    }
}
