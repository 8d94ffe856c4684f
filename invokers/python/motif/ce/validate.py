"""The CloudEvents 1.0.2 type system: attribute names and the canonical string forms of
String, URI, URI-reference and Timestamp values, as motif-contract's `validate.rs`
checks them (the same rules, so every invoker rejects the same events)."""

from __future__ import annotations

import re
from datetime import datetime

from motif.ce import errors

_NAME = re.compile(r"[a-z0-9]+")
# Control characters, surrogates (a Python str can hold an unpaired one) and Unicode
# noncharacters (U+FDD0-U+FDEF and the last two code points of every plane).
_DISALLOWED = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(chr(p << 16 | 0xFFFE) + chr(p << 16 | 0xFFFF) for p in range(17))
    + "]"
)
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_IP_V6 = re.compile(r"[0-9A-Fa-f:.]+")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
CORE = frozenset(
    ("id", "source", "specversion", "type", "datacontenttype", "dataschema", "subject", "time")
)


def name(value: str) -> None:
    """An attribute name: one or more of `a`-`z` and `0`-`9` (§3.1.1)."""
    if not _NAME.fullmatch(value):
        raise errors.invalid_name(value)


def string(attr: str, value: str) -> None:
    """A String: no control characters, surrogates or noncharacters."""
    bad = _DISALLOWED.search(value)
    if bad:
        raise errors.invalid(attr, f"contains the disallowed character U+{ord(bad.group()):04X}")


def required(attr: str, value: str) -> None:
    """A required (or present optional) String: non-empty."""
    if not value:
        raise errors.invalid(attr, "must not be empty")
    string(attr, value)


def media_type(attr: str, value: str) -> None:
    """A `datacontenttype`: a non-empty ASCII String, as every RFC 2046 media type is."""
    required(attr, value)
    if not value.isascii():
        raise errors.invalid(attr, "is not an RFC 2046 media type: it must be ASCII")


def uri_reference(attr: str, value: str) -> None:
    """An RFC 3986 URI-reference (§4.1): URI characters only, well-formed escapes, a
    well-formed scheme when there is one, one `#` at most, and `[`, `]`, `@` and a port
    only where the authority allows them."""
    if not value:
        raise errors.invalid(attr, "must not be empty")
    if _BAD_ESCAPE.search(value):
        raise errors.invalid(attr, "has a malformed percent-escape")
    if not _URI_CHARS.fullmatch(value):
        bad = next(c for c in value if not _URI_CHARS.fullmatch(c))
        raise errors.invalid(attr, f"is not a URI-reference: {bad!r} is not allowed")
    scheme = scheme_of(value)
    if scheme is not None and not _SCHEME.fullmatch(scheme):
        raise errors.invalid(attr, "has a malformed URI scheme")
    rest, _, fragment = value.partition("#")
    if any(c in fragment for c in "#[]"):
        raise errors.invalid(attr, "is not a URI-reference: its fragment holds a `#`, `[` or `]`")
    if scheme is not None:
        rest = rest[len(scheme) + 1 :]
    authority, path_and_query = "", rest
    if rest.startswith("//"):
        after = rest[2:]
        cut = min((i for i in (after.find("/"), after.find("?")) if i >= 0), default=len(after))
        authority, path_and_query = after[:cut], after[cut:]
    if "[" in path_and_query or "]" in path_and_query:
        raise errors.invalid(
            attr,
            "is not a URI-reference: `[` and `]` may only enclose an IP address in the authority",
        )
    fault = _authority_fault(authority)
    if fault:
        raise errors.invalid(attr, f"is not a URI-reference: its authority {fault}")


def _authority_fault(authority: str) -> str | None:
    """What is wrong with `[ userinfo "@" ] host [ ":" port ]` (RFC 3986 §3.2)."""
    userinfo, at, host_port = authority.rpartition("@")
    if not at:
        host_port = authority
    elif any(c in userinfo for c in "@[]"):
        return "has more than one `@` or a bracket in its userinfo"
    if host_port.startswith("["):
        literal, closed, after = host_port[1:].partition("]")
        if not closed:
            return "has an unclosed `[`"
        ip_future = literal[:1] in ("v", "V")
        if not (ip_future or _IP_V6.fullmatch(literal)) or "[" in literal:
            return "has a malformed IP literal"
        if after.startswith(":"):
            port = after[1:]
        elif not after:
            port = ""
        else:
            return "has characters after its IP literal"
    elif "[" in host_port or "]" in host_port:
        return "has a `[` or `]` outside an IP literal"
    else:
        port = host_port.rpartition(":")[2] if ":" in host_port else ""
    if port.strip("0123456789"):
        return "has a port that is not a number"
    return None


def uri(attr: str, value: str) -> None:
    """An absolute RFC 3986 URI (§4.3): a URI-reference with a scheme and no fragment."""
    uri_reference(attr, value)
    if not scheme_of(value):
        raise errors.invalid(attr, "must be an absolute URI (with a scheme)")
    if "#" in value:
        raise errors.invalid(attr, "must be an absolute URI (no fragment)")


def scheme_of(value: str) -> str | None:
    """The part before a `:` that comes before any `/`, `?` or `#`."""
    for i, c in enumerate(value):
        if c == ":":
            return value[:i]
        if c in "/?#":
            return None
    return None


def timestamp(attr: str, value: str) -> datetime:
    """An RFC 3339 timestamp, returned as an aware `datetime` (nanoseconds truncated to
    microseconds; a leap second `:60` cannot be held and is rejected)."""
    if not _RFC3339.fullmatch(value):
        raise errors.invalid(attr, "is not an RFC 3339 timestamp")
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError as e:
        raise errors.invalid(attr, f"is not an RFC 3339 timestamp: {e}") from None


def extension(attr: str, value: object) -> None:
    """An extension attribute: a valid name that is not a core one, and a String,
    Boolean or Integer (int32) value."""
    name(attr)
    if attr in CORE or attr == "data":
        raise errors.invalid(attr, "is a core attribute, not an extension")
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -(2**31) <= value < 2**31:
            raise errors.invalid(attr, "must be an Integer: a whole number in the int32 range")
        return
    if isinstance(value, str):
        string(attr, value)
        return
    raise errors.invalid(
        attr, f"must be a string, boolean or integer, not {type(value).__name__}"
    )
