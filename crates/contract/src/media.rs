//! Media types: classification for the JSON format, and `Accept` negotiation
//! (RFC 9110 §12.5.1).

/// The JSON event format's media type.
pub const CLOUDEVENTS_JSON: &str = "application/cloudevents+json";
/// The JSON batch format's media type.
pub const CLOUDEVENTS_BATCH_JSON: &str = "application/cloudevents-batch+json";
/// RFC 9457's media type for problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// What a body without a `Content-Type` is taken to be (CONTRACT.md §4).
pub const OCTET_STREAM: &str = "application/octet-stream";

/// The `type/subtype` part of a media type, trimmed, parameters dropped.
pub fn essence(media_type: &str) -> &str {
    media_type.split(';').next().unwrap_or_default().trim()
}

/// `*/json`, `*/*+json` (case-insensitively): data the JSON format writes as a value.
pub fn is_json(media_type: &str) -> bool {
    let essence = essence(media_type);
    let Some((_, subtype)) = essence.split_once('/') else {
        return false;
    };
    subtype.eq_ignore_ascii_case("json") || ends_with_ignore_case(subtype, "+json")
}

/// `text/*`, `*/xml`, `*/*+xml`: data the JSON format writes as a string.
pub fn is_textual(media_type: &str) -> bool {
    let essence = essence(media_type);
    let Some((ty, subtype)) = essence.split_once('/') else {
        return false;
    };
    ty.eq_ignore_ascii_case("text")
        || subtype.eq_ignore_ascii_case("xml")
        || ends_with_ignore_case(subtype, "+xml")
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Whether `s` starts with `prefix`, ASCII case-insensitively.
pub(crate) fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// A parsed `Accept` header.
///
/// Parameters other than `q` are ignored when matching; malformed entries are skipped,
/// so a garbled header is as permissive as a missing one rather than an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Accept {
    /// Empty means `*/*` (most requests carry no `Accept`, and this costs nothing).
    ranges: Vec<Range>,
}

#[derive(Debug, Clone, PartialEq)]
struct Range {
    ty: String,
    subtype: String,
    q: f32,
}

impl Range {
    /// How specific the range is: `*/*` < `type/*` < `type/subtype`.
    fn specificity(&self) -> u8 {
        match (self.ty.as_str(), self.subtype.as_str()) {
            ("*", _) => 0,
            (_, "*") => 1,
            _ => 2,
        }
    }

    fn matches(&self, ty: &str, subtype: &str) -> bool {
        (self.ty == "*" || self.ty.eq_ignore_ascii_case(ty))
            && (self.subtype == "*" || self.subtype.eq_ignore_ascii_case(subtype))
    }
}

impl Accept {
    /// `*/*`: what a request without `Accept` asks for (CONTRACT.md §4).
    pub fn any() -> Self {
        Self { ranges: Vec::new() }
    }

    /// Parses a header value; an empty or unusable value means `*/*`.
    pub fn parse(header: &str) -> Self {
        Self {
            ranges: header.split(',').filter_map(parse_range).collect(),
        }
    }

    /// The quality the header gives `media_type`: that of the most specific range that
    /// matches it, or 0 when none does.
    pub fn quality(&self, media_type: &str) -> f32 {
        let Some((ty, subtype)) = essence(media_type).split_once('/') else {
            return 0.0;
        };
        if self.ranges.is_empty() {
            return 1.0;
        }
        self.ranges
            .iter()
            .filter(|r| r.matches(ty, subtype))
            .max_by_key(|r| r.specificity())
            .map_or(0.0, |r| r.q)
    }

    /// Whether `media_type` is acceptable (quality above 0).
    pub fn allows(&self, media_type: &str) -> bool {
        self.quality(media_type) > 0.0
    }

    /// Whether the header names `media_type` itself (not only through a wildcard).
    pub fn names(&self, media_type: &str) -> bool {
        let Some((ty, subtype)) = essence(media_type).split_once('/') else {
            return false;
        };
        self.ranges.iter().any(|r| {
            r.q > 0.0 && r.ty.eq_ignore_ascii_case(ty) && r.subtype.eq_ignore_ascii_case(subtype)
        })
    }

    /// The acceptable candidate with the highest quality; ties go to the earlier one.
    pub fn preferred<'a>(&self, candidates: &[&'a str]) -> Option<&'a str> {
        let mut best: Option<(&'a str, f32)> = None;
        for &c in candidates {
            let q = self.quality(c);
            if q > 0.0 && best.is_none_or(|(_, bq)| q > bq) {
                best = Some((c, q));
            }
        }
        best.map(|(c, _)| c)
    }
}

fn parse_range(item: &str) -> Option<Range> {
    let mut parts = item.split(';');
    let (ty, subtype) = parts.next()?.trim().split_once('/')?;
    let (ty, subtype) = (ty.trim(), subtype.trim());
    if ty.is_empty() || subtype.is_empty() || (ty == "*" && subtype != "*") {
        return None;
    }
    let mut q = 1.0;
    for param in parts {
        if let Some((k, v)) = param.split_once('=')
            && k.trim().eq_ignore_ascii_case("q")
        {
            q = v
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))?;
        }
    }
    Some(Range {
        ty: ty.to_ascii_lowercase(),
        subtype: subtype.to_ascii_lowercase(),
        q,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_types_are_classified() {
        for json in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "text/json",
            "application/vnd.x+json",
        ] {
            assert!(is_json(json), "{json}");
        }
        for not in [
            "text/plain",
            "application/octet-stream",
            "json",
            "application/jsonx",
        ] {
            assert!(!is_json(not), "{not}");
        }
        for text in [
            "text/plain; charset=us-ascii",
            "application/xml",
            "image/svg+xml",
        ] {
            assert!(is_textual(text), "{text}");
        }
        assert!(!is_textual("application/octet-stream"));
    }

    #[test]
    fn the_most_specific_range_decides() {
        let a = Accept::parse("text/*;q=0.5, text/plain, */*;q=0.1, image/png;q=0");
        assert_eq!(a.quality("text/plain"), 1.0);
        assert_eq!(a.quality("text/html"), 0.5);
        assert_eq!(a.quality("application/json"), 0.1);
        assert!(!a.allows("image/png"));
        assert_eq!(
            a.preferred(&["application/json", "text/html"]),
            Some("text/html")
        );
    }

    #[test]
    fn a_missing_or_garbled_header_accepts_anything() {
        assert!(Accept::any().allows("application/x-anything"));
        assert!(Accept::parse("garbage").allows("text/plain"));
        assert!(Accept::parse("").allows("text/plain"));
    }

    #[test]
    fn names_ignores_wildcards() {
        let a = Accept::parse("*/*, application/cloudevents-batch+json");
        assert!(a.names(CLOUDEVENTS_BATCH_JSON));
        assert!(!Accept::any().names(CLOUDEVENTS_BATCH_JSON));
        assert!(!a.names(CLOUDEVENTS_JSON));
    }

    #[test]
    fn nothing_acceptable_is_none() {
        let a = Accept::parse("application/xml");
        assert_eq!(a.preferred(&["application/json"]), None);
    }
}
