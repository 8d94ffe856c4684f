"""The JSON event format 1.0.2 (`application/cloudevents+json`) and its batch format
(`application/cloudevents-batch+json`), read and written as motif-contract's `json.rs`
does: duplicate members rejected, `null` meaning unset, extensions as top-level members
(String, Boolean or int32 Integer), and `data` or `data_base64` chosen from
`datacontenttype` when writing:
- a JSON type (or none) and data that is JSON: `data`, as a JSON value;
- a textual type that is not a JSON type, and data that is UTF-8: `data`, as a string;
- anything else: `data_base64`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from motif.ce import errors, validate
from motif.ce.event import NOTHING, Wire, check, json_bytes, to_sdk
from motif.media import is_json, is_textual


def decode(body: bytes) -> CloudEvent:
    """Decodes one event in the JSON format."""
    value, duplicates = _parse(body)
    if not isinstance(value, dict):
        raise errors.invalid_json("expected a CloudEvent as a JSON object")
    return _event(value, duplicates)


def decode_batch(body: bytes) -> list[CloudEvent]:
    """Decodes a batch: a JSON array of events in the JSON format (possibly empty)."""
    value, duplicates = _parse(body)
    if not isinstance(value, list):
        raise errors.invalid_json("expected a JSON array of CloudEvents")
    events = []
    for item in value:
        if not isinstance(item, dict):
            raise errors.invalid_json("expected a CloudEvent as a JSON object")
        events.append(_event(item, duplicates))
    return events


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _parse(body: bytes) -> tuple[Any, dict[int, str]]:
    """Parses JSON, noting (by object identity) the objects with a repeated member: at
    the top level of an event that is an error, inside its data it is the data's own
    business."""
    duplicates: dict[int, str] = {}

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    duplicates[id(obj)] = key
                    break
                seen.add(key)
        return obj

    try:
        return json.loads(body, object_pairs_hook=pairs, parse_constant=_reject_constant), duplicates
    except (ValueError, RecursionError) as e:
        raise errors.invalid_json(str(e)) from None


def _event(obj: dict[str, Any], duplicates: dict[int, str]) -> CloudEvent:
    if id(obj) in duplicates:
        raise errors.duplicate(duplicates[id(obj)])
    attributes: dict[str, Any] = {}
    data: Any = NOTHING
    data_base64: Any = None
    for name, value in obj.items():
        if name == "data":
            data = value
            continue
        if name == "data_base64":
            data_base64 = value
            continue
        validate.name(name)
        if value is None:  # `null` means unset (JSON format §2.4)
            continue
        if name in validate.CORE:
            if not isinstance(value, str):
                raise errors.invalid(name, f"must be a JSON string, not {_kind(value)}")
        elif isinstance(value, float):
            raise errors.invalid(name, "must be an Integer: a whole number in the int32 range")
        elif isinstance(value, (list, dict)):
            raise errors.invalid(
                name, f"must be a string, boolean or integer, not {_kind(value)}"
            )
        attributes[name] = value
    specversion = attributes.pop("specversion", None)
    if specversion is None:
        raise errors.missing("specversion")
    if specversion != "1.0":
        raise errors.unsupported_specversion(specversion)
    if data is not NOTHING and data is not None and data_base64 is not None:
        raise errors.data_conflict()
    ct = attributes.get("datacontenttype")
    if data_base64 is not None:
        payload: Any = _base64(data_base64)
    elif data is NOTHING or data is None:
        payload = None
    elif ct is None or is_json(ct):
        payload = data
    elif isinstance(data, str):
        payload = data if is_textual(ct) else data.encode()
    else:
        raise errors.EventError(
            f"`data` must be a JSON string when datacontenttype is `{ct}`; send binary "
            "data as `data_base64`"
        )
    for name in ("id", "source", "type"):
        if name not in attributes:
            raise errors.missing(name)
    check(attributes)
    for name, value in attributes.items():
        if name not in validate.CORE:
            validate.extension(name, value)
    if "time" in attributes:
        attributes["time"] = validate.timestamp("time", attributes["time"])
    attributes["specversion"] = "1.0"
    return to_sdk(attributes, payload)


def _base64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise errors.EventError(f"`data_base64` must be a JSON string, not {_kind(value)}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise errors.EventError(f"`data_base64` is not valid base64: {e}") from None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def encode(wire: Wire) -> bytes:
    """Encodes one event in the JSON format."""
    return json_bytes(_object(wire))


def encode_batch(wires: list[Wire]) -> bytes:
    """Encodes a batch of events."""
    return json_bytes([_object(w) for w in wires])


def _object(wire: Wire) -> dict[str, Any]:
    obj: dict[str, Any] = {"specversion": "1.0", **wire.attributes}
    ct = wire.datacontenttype
    if wire.value is not NOTHING:
        if ct is None or is_json(ct):
            obj["data"] = wire.value
            return obj
        raw: bytes | None = json_bytes(wire.value)
    else:
        raw = wire.raw
    if raw is None:
        return obj
    if ct is None or is_json(ct):
        try:
            obj["data"] = json.loads(raw)
            return obj
        except ValueError:
            pass
    elif is_textual(ct):
        try:
            obj["data"] = raw.decode("utf-8")
            return obj
        except UnicodeDecodeError:
            pass
    obj["data_base64"] = base64.b64encode(raw).decode()
    return obj
