"""The bridge between the wire and the CloudEvents SDK's event type
(`cloudevents.core.v1.event.CloudEvent`), which is what handlers receive and return.

The SDK's `CloudEvent` is used as the container it is good at; decoding, validation and
encoding are motif's (EVALUATION.md says why). Data is given to handlers as:
- a JSON value (`dict`, `list`, `str`, number, bool) for a JSON `datacontenttype`
  (`*/json`, `*/*+json`) when the bytes are JSON, and for structured data without one;
- a `str` for a textual type (`text/*`, `*/xml`, `*/*+xml`) when the bytes are UTF-8;
- `bytes` otherwise (including JSON or text that does not decode).

A reply's data is read back the same way: `bytes` are sent as they are; under a JSON
type, or without a `datacontenttype` (which the JSON format reads as JSON), anything else
is a JSON value (so a `str` becomes a JSON string); under another type a `str` is sent
as UTF-8 text. An event echoed as it came thus goes back as it came.
"""

from __future__ import annotations

import base64
import json
import weakref
from datetime import datetime
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from motif.ce import errors, validate
from motif.media import is_json, is_textual

NOTHING: Any = object()
"""No JSON value: the data is raw bytes, or there is none."""

_CORE_ORDER = ("id", "source", "type", "datacontenttype", "dataschema", "subject", "time")


# The bytes JSON data arrived as, by event, so that an event handed back with that data
# unchanged goes back byte for byte (JSON text re-written would lose its spacing).
_received: weakref.WeakKeyDictionary[Any, tuple[Any, bytes]] = weakref.WeakKeyDictionary()


def to_sdk(attributes: dict[str, Any], data: Any, raw: bytes | None = None) -> CloudEvent:
    """A validated event (attributes with `time` as an aware `datetime`) as the SDK's
    type; `raw` is the bytes `data` was parsed from, if it was. The SDK gives an event
    without `time` the current time; motif hands the handler the event it was sent, so
    that default is taken back out."""
    had_time = "time" in attributes
    event = CloudEvent(attributes, data)
    if not had_time:
        # `get_attributes` returns the event's own dict (SDK 2.x), so this unsets it.
        event.get_attributes().pop("time", None)
    if raw is not None:
        _received[event] = (data, raw)
    return event


def data_from_bytes(body: bytes, datacontenttype: str | None) -> tuple[Any, bytes | None]:
    """The data of a binary-mode event as the handler sees it (see the module docs), and
    the bytes it was parsed from when it is JSON."""
    if not body:
        return None, None
    if datacontenttype is not None:
        if is_json(datacontenttype):
            try:
                return json.loads(body), body
            except ValueError:
                return body, None
        if is_textual(datacontenttype):
            try:
                return body.decode("utf-8"), None
            except UnicodeDecodeError:
                return body, None
    return body, None


class Wire:
    """A reply event in canonical form, ready to encode in any mode: attributes (core in
    the spec's order, then extensions by name) and data as `raw` bytes or a JSON `value`."""

    __slots__ = ("attributes", "raw", "value")

    def __init__(self, attributes: dict[str, Any], raw: bytes | None, value: Any) -> None:
        self.attributes = attributes
        self.raw = raw
        self.value = value

    @property
    def datacontenttype(self) -> str | None:
        """The data's media type, if any."""
        return self.attributes.get("datacontenttype")

    def body(self) -> bytes | None:
        """The data as bytes, as binary mode sends it."""
        if self.value is not NOTHING:
            return json_bytes(self.value)
        return self.raw


def from_sdk(event: Any) -> Wire:
    """A handler's reply (the SDK's event type, or anything with its `get_attributes`
    and `get_data`), checked against CloudEvents 1.0.2 exactly as a request's event is.
    Raises `EventError` naming the attribute at fault."""
    try:
        source = dict(event.get_attributes())
        data = event.get_data()
    except AttributeError:
        raise errors.EventError(
            f"a reply is a CloudEvent (cloudevents.core.v1.event.CloudEvent) or None, "
            f"not {type(event).__name__}"
        ) from None
    specversion = source.pop("specversion", "1.0")
    if specversion != "1.0":
        raise errors.unsupported_specversion(str(specversion))
    attributes: dict[str, Any] = {}
    for name in _CORE_ORDER:
        value = source.pop(name, None)
        if value is None:
            if name in ("id", "source", "type"):
                raise errors.missing(name)
            continue
        if name == "time":
            value = _time_text(value)
        elif not isinstance(value, str):
            raise errors.invalid(name, f"must be a string, not {type(value).__name__}")
        attributes[name] = value
    for name in sorted(source):
        value = source[name]
        if value is None:
            continue
        if isinstance(value, (bytes, bytearray)):
            value = base64.b64encode(value).decode()
        elif isinstance(value, datetime):
            value = _time_text(value)
        validate.extension(name, value)
        attributes[name] = value
    raw, value = _reply_data(event, data, attributes.get("datacontenttype"))
    check(attributes)
    return Wire(attributes, raw, value)


def check(attributes: dict[str, Any]) -> None:
    """Checks the core attributes (extensions are checked as they are read)."""
    validate.required("id", attributes["id"])
    validate.uri_reference("source", attributes["source"])
    validate.required("type", attributes["type"])
    if "datacontenttype" in attributes:
        validate.media_type("datacontenttype", attributes["datacontenttype"])
    if "dataschema" in attributes:
        validate.uri("dataschema", attributes["dataschema"])
    if "subject" in attributes:
        validate.required("subject", attributes["subject"])
    if "time" in attributes:
        validate.timestamp("time", attributes["time"])


def _reply_data(event: Any, data: Any, ct: str | None) -> tuple[bytes | None, Any]:
    """(raw bytes, JSON value) of a reply's data."""
    if data is None:
        return None, NOTHING
    received = _received.get(event)
    if received is not None and received[0] is data:
        value, raw = received
        if isinstance(value, (str, int, float, bool)) or json.loads(raw) == value:
            return raw, NOTHING
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), NOTHING
    if isinstance(data, str) and ct is not None and not is_json(ct):
        return data.encode(), NOTHING
    return None, data


def _time_text(value: Any) -> str:
    """RFC 3339 text of a `time` (a `datetime`, or text already)."""
    if isinstance(value, str):
        validate.timestamp("time", value)
        return value
    if not isinstance(value, datetime):
        raise errors.invalid("time", f"must be a datetime, not {type(value).__name__}")
    if value.utcoffset() is None:
        raise errors.invalid("time", "must be timezone aware")
    text = value.isoformat()
    if value.microsecond:
        # `.520000` -> `.52`: the digits RFC 3339 needs, as most producers write them.
        head, _, rest = text.partition(".")
        digits, offset = rest[:6].rstrip("0"), rest[6:]
        text = f"{head}.{digits}{offset}"
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    validate.timestamp("time", text)
    return text


def json_bytes(value: Any) -> bytes:
    """A JSON value as compact UTF-8 JSON text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
