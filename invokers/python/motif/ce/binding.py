"""The CloudEvents HTTP protocol binding 1.0.2: binary, structured and batched modes,
decoded from a request and encoded into a reply, as motif-contract's `http` module does."""

from __future__ import annotations

from typing import Any

from cloudevents.core.v1.event import CloudEvent

from motif.ce import errors, jsonformat, percent, validate
from motif.ce.event import Wire, check, data_from_bytes, to_sdk
from motif.media import CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, essence

BINARY = "binary"
STRUCTURED = "structured"
BATCH = "batch"

# The headers a binary-mode message must carry, in the order a 400 lists them.
_REQUIRED = (("id", "ce-id"), ("source", "ce-source"), ("specversion", "ce-specversion"), ("type", "ce-type"))  # fmt: skip


def mode(content_type: str | None) -> str:
    """The mode of a message, from its `Content-Type` (binding §3): the batch prefix is
    checked first, case-insensitively, parameters ignored; anything else is binary."""
    if content_type is None:
        return BINARY
    ct = content_type.lstrip().lower()
    if ct.startswith("application/cloudevents-batch"):
        return BATCH
    if ct.startswith("application/cloudevents"):
        return STRUCTURED
    return BINARY


def decode(
    headers: list[tuple[str, bytes]], content_type: str | None, body: bytes
) -> tuple[list[CloudEvent], str]:
    """Decodes a request in whichever mode its `Content-Type` says: the events (one,
    unless batched) and the mode. Raises `EventError`."""
    found = mode(content_type)
    if found == BINARY:
        return [decode_binary(headers, content_type, body)], BINARY
    expected = CLOUDEVENTS_JSON if found == STRUCTURED else CLOUDEVENTS_BATCH_JSON
    if essence(content_type or "").lower() != expected:
        raise errors.UnsupportedFormat(essence(content_type or ""))
    if found == STRUCTURED:
        return [jsonformat.decode(body)], STRUCTURED
    return jsonformat.decode_batch(body), BATCH


def decode_binary(
    headers: list[tuple[str, bytes]], content_type: str | None, body: bytes
) -> CloudEvent:
    """Decodes a binary-mode message: attributes from `ce-` headers (unquoted, then
    percent-decoded exactly once), `datacontenttype` from `Content-Type`, data from the
    body. An empty body is no data."""
    attributes: dict[str, Any] = {}
    for name, raw in headers:
        if not name.startswith("ce-"):
            continue
        attr = name[3:]
        if attr in attributes:
            raise errors.duplicate(attr)
        validate.name(attr)
        if attr == "datacontenttype":
            raise errors.datacontenttype_header()
        try:
            attributes[attr] = percent.decode(raw)
        except percent.DecodeFailure as e:
            raise errors.invalid(attr, str(e)) from None
    missing = [header for attr, header in _REQUIRED if attr not in attributes]
    if missing:
        raise errors.NotACloudEvent(missing)
    if attributes["specversion"] != "1.0":
        raise errors.unsupported_specversion(attributes["specversion"])
    if content_type is not None:
        if not content_type.isascii() or not content_type.isprintable():
            raise errors.invalid("datacontenttype", "(Content-Type) is not visible ASCII")
        attributes["datacontenttype"] = content_type
    check(attributes)
    for attr, value in attributes.items():
        if attr not in validate.CORE:
            validate.string(attr, value)
    if "time" in attributes:
        attributes["time"] = validate.timestamp("time", attributes["time"])
    return to_sdk(attributes, *data_from_bytes(body, content_type))


def binary_carries(wire: Wire) -> bool:
    """Whether binary mode can carry the event. It cannot when its `datacontenttype` is
    itself a CloudEvents format: that `Content-Type` would make the receiver read the
    data as the event (binding §3)."""
    ct = wire.datacontenttype
    return ct is None or not ct.lstrip().lower().startswith("application/cloudevents")


def encode(wire: Wire, as_mode: str) -> tuple[list[tuple[str, str]], bytes]:
    """Encodes one event in binary or structured mode; an event that binary mode cannot
    carry goes structured."""
    if as_mode == BINARY and binary_carries(wire):
        return encode_binary(wire)
    return [("content-type", CLOUDEVENTS_JSON)], jsonformat.encode(wire)


def encode_batch(wires: list[Wire]) -> tuple[list[tuple[str, str]], bytes]:
    """Encodes events in batched mode."""
    return [("content-type", CLOUDEVENTS_BATCH_JSON)], jsonformat.encode_batch(wires)


def encode_binary(wire: Wire) -> tuple[list[tuple[str, str]], bytes]:
    """Encodes one event in binary mode: `ce-` headers percent-encoded,
    `datacontenttype` as `Content-Type`, data as the body."""
    headers = []
    for name, value in wire.attributes.items():
        if name == "datacontenttype":
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int):
            value = str(value)
        headers.append(("ce-" + name, percent.encode(value)))
    headers.append(("ce-specversion", "1.0"))
    ct = wire.datacontenttype
    if ct is not None:
        headers.append(("content-type", ct))
    return headers, wire.body() or b""
