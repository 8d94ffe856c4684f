"""Header value coding of the CloudEvents HTTP binding 1.0.2 §3.1.3.1.

Written here rather than taken from `urllib.parse`, whose `unquote` is too lenient for
the binding: it passes a malformed escape through and replaces bytes that are not UTF-8
(such as the overlong `%C0%A0`) with U+FFFD, where the binding must reject them; and an
RFC 7230 quoted-string must be unquoted first.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_NEEDS_ESCAPE = re.compile(r'[^\x21-\x7e]|["%]')


class DecodeFailure(ValueError):
    """A header value that cannot be decoded; the message follows the attribute's name."""


def decode(raw: bytes) -> str:
    """Decodes a `ce-` header value: unquote once, then percent-decode exactly once, and
    read the bytes as strict UTF-8 (overlong forms and surrogates are rejected)."""
    value = _unquote(raw)
    if b"%" in value:
        if _BAD_ESCAPE.search(value):
            raise DecodeFailure("has a malformed percent-escape")
        value = _ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), value)
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeFailure("is not valid UTF-8 once percent-decoded") from None


def _unquote(raw: bytes) -> bytes:
    """Undoes RFC 7230 §3.2.6 quoted-string escaping when the value is one."""
    if not raw.startswith(b'"'):
        return raw
    if len(raw) < 2 or not raw.endswith(b'"'):
        raise DecodeFailure("is a malformed quoted-string")
    inner = raw[1:-1]
    if b"\\" not in inner:
        return inner
    out = bytearray()
    escaped = False
    for b in inner:
        if escaped:
            out.append(b)
            escaped = False
        elif b == 0x5C:  # backslash
            escaped = True
        else:
            out.append(b)
    if escaped:
        raise DecodeFailure("is a malformed quoted-string")
    return bytes(out)


def encode(value: str) -> str:
    """Encodes an attribute value for a `ce-` header: every character outside printable
    ASCII U+0021-U+007E, and space, `"` and `%`, as its UTF-8 bytes in upper-case `%XY`."""
    if not _NEEDS_ESCAPE.search(value):
        return value
    return _NEEDS_ESCAPE.sub(
        lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), value
    )
