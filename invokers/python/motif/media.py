"""Media types: classification for the JSON event format, and `Accept` negotiation
(RFC 9110 §12.5.1), as motif-contract's `media.rs` reads them."""

from __future__ import annotations

CLOUDEVENTS_JSON = "application/cloudevents+json"
CLOUDEVENTS_BATCH_JSON = "application/cloudevents-batch+json"
OCTET_STREAM = "application/octet-stream"


def essence(media_type: str) -> str:
    """The `type/subtype` part of a media type, trimmed, parameters dropped."""
    return media_type.split(";", 1)[0].strip()


def is_json(media_type: str) -> bool:
    """`*/json`, `*/*+json` (case-insensitively): data the JSON format writes as a value."""
    _, slash, subtype = essence(media_type).partition("/")
    subtype = subtype.lower()
    return bool(slash) and (subtype == "json" or subtype.endswith("+json"))


def is_textual(media_type: str) -> bool:
    """`text/*`, `*/xml`, `*/*+xml`: data the JSON format writes as a string."""
    kind, slash, subtype = essence(media_type).partition("/")
    subtype = subtype.lower()
    return bool(slash) and (
        kind.lower() == "text" or subtype == "xml" or subtype.endswith("+xml")
    )


class Accept:
    """A parsed `Accept` header.

    Parameters other than `q` are ignored when matching; malformed entries are skipped,
    so a garbled header is as permissive as a missing one rather than an error.
    """

    __slots__ = ("ranges",)

    def __init__(self, ranges: list[tuple[str, str, float]]) -> None:
        # Empty means `*/*`: most requests carry no `Accept`, and this costs nothing.
        self.ranges = ranges

    @classmethod
    def parse(cls, header: str | None) -> Accept:
        """Parses a header value; a missing, empty or unusable value means `*/*`."""
        if not header:
            return ANY
        ranges = []
        for item in header.split(","):
            parsed = _parse_range(item)
            if parsed is not None:
                ranges.append(parsed)
        return cls(ranges)

    def quality(self, media_type: str) -> float:
        """The quality of the most specific range that matches `media_type`, else 0."""
        kind, slash, subtype = essence(media_type).lower().partition("/")
        if not slash:
            return 0.0
        if not self.ranges:
            return 1.0
        best, best_specificity = 0.0, -1
        for r_kind, r_subtype, q in self.ranges:
            if (r_kind == "*" or r_kind == kind) and (
                r_subtype == "*" or r_subtype == subtype
            ):
                specificity = 0 if r_kind == "*" else 1 if r_subtype == "*" else 2
                if specificity > best_specificity:
                    best, best_specificity = q, specificity
        return best

    def allows(self, media_type: str) -> bool:
        """Whether `media_type` is acceptable (quality above 0)."""
        return self.quality(media_type) > 0.0

    def names(self, media_type: str) -> bool:
        """Whether the header names `media_type` itself (not only through a wildcard)."""
        kind, _, subtype = essence(media_type).lower().partition("/")
        return any(
            q > 0.0 and r_kind == kind and r_subtype == subtype
            for r_kind, r_subtype, q in self.ranges
        )


def _parse_range(item: str) -> tuple[str, str, float] | None:
    parts = item.split(";")
    kind, slash, subtype = parts[0].strip().partition("/")
    kind, subtype = kind.strip().lower(), subtype.strip().lower()
    if not slash or not kind or not subtype or (kind == "*" and subtype != "*"):
        return None
    q = 1.0
    for param in parts[1:]:
        key, eq, value = param.partition("=")
        if eq and key.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            if not 0.0 <= q <= 1.0:
                return None
    return kind, subtype, q


ANY = Accept([])
"""`*/*`: what a request without `Accept` asks for (CONTRACT.md §4)."""
