"""Every event of cloudevents/conformance (`yaml/**`, `pkg/diff/testdata/**`), sent as
its tool would send it in binary and in structured mode, decoded, checked attribute by
attribute, and round-tripped through both modes (as crates/contract's conformance test
does for the Rust binding).

- a valid 1.0 event decodes with every attribute, extension and byte of data as written;
- a String holding a line break (most extension values are YAML literal blocks, which keep
  a final one) is refused naming the attribute; chomped, the event must decode;
- an incomplete event is refused naming what is missing; a 0.3 event, naming `specversion`.

The data is read from ../shared/conformance (or MOTIF_CONFORMANCE_DIR); without it the
test skips.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from motif.ce import binding, percent
from motif.ce.errors import EventError, NotACloudEvent
from motif.ce.event import from_sdk
from motif.media import is_json

ROOT = Path(__file__).resolve().parents[3]
CONFORMANCE = Path(os.environ.get("MOTIF_CONFORMANCE_DIR") or ROOT.parent / "shared/conformance")
CORE = ("specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time")


def documents() -> list[tuple[str, dict]]:
    base = CONFORMANCE / "cloudevents-conformance"
    files = sorted(base.glob("yaml/**/*.yaml")) + sorted(base.glob("pkg/diff/testdata/**/*.yaml"))
    out = []
    for path in files:
        # BaseLoader: every scalar as the text written (no floats, no datetimes).
        for n, doc in enumerate(yaml.load_all(path.read_text(), Loader=yaml.BaseLoader)):
            if doc:
                out.append((f"{path.relative_to(base)}#{n}", doc))
    return out


def request(attributes: dict[str, str], data: str | None, mode: str):
    """(headers, content type, body) as the conformance tool sends the event."""
    ct = attributes.get("datacontenttype")
    if mode == binding.BINARY:
        headers = [(f"ce-{k}", percent.encode(v).encode()) for k, v in attributes.items() if k != "datacontenttype"]
        return headers, ct, (data or "").encode()
    obj: dict = dict(attributes)
    if data is not None:
        try:
            obj["data"] = json.loads(data) if ct is None or is_json(ct) else data
        except ValueError:
            obj["data"] = data
    return [], "application/cloudevents+json", json.dumps(obj).encode()


def attributes_of(event) -> dict[str, str]:
    out = {}
    for name, value in event.get_attributes().items():
        out[name] = value if isinstance(value, str) else from_sdk(event).attributes[name]
    return out


def check_decodes(attributes: dict[str, str], data: str | None, mode: str) -> None:
    [event], _ = binding.decode(*request(attributes, data, mode))
    got = attributes_of(event)
    want = dict(attributes)
    got_time, want_time = got.pop("time", None), want.pop("time", None)
    assert got == want
    if want_time is not None:
        assert got_time.replace("Z", "+00:00") == want_time.replace("Z", "+00:00")
    body = (data or "").encode() or None
    wire = from_sdk(event)
    if mode == binding.BINARY or not is_json(attributes.get("datacontenttype") or "application/json"):
        assert wire.body() == body
    else:
        assert json.loads(wire.body()) == json.loads(data)
    for again in (binding.BINARY, binding.STRUCTURED):
        headers, content = binding.encode(wire, again)
        ct = next((v for k, v in headers if k == "content-type"), None)
        [back], _ = binding.decode([(k, v.encode()) for k, v in headers], ct, content)
        assert attributes_of(back) == attributes_of(event)
        assert data_of(from_sdk(back)) == data_of(wire)


def data_of(wire) -> object:
    """The data as the event carries it: a JSON value for JSON (or untyped) data that
    parses, else its bytes. A handler sees untyped binary-mode data as bytes and untyped
    structured data as JSON, but the event is the same."""
    body = wire.body()
    ct = wire.datacontenttype
    if body is not None and (ct is None or is_json(ct)):
        try:
            return json.loads(body)
        except ValueError:
            pass
    return body


def test_every_conformance_event_decodes_as_sent_and_round_trips():
    docs = documents()
    if not docs:
        pytest.skip(f"no conformance data at {CONFORMANCE} (set MOTIF_CONFORMANCE_DIR)")
    decoded = 0
    for origin, doc in docs:
        context = dict(doc.get("ContextAttributes") or {})
        attributes = {k: v for k, v in context.items() if k != "Extensions"}
        attributes.update(context.get("Extensions") or {})
        data = doc.get("Data")
        for mode in (binding.BINARY, binding.STRUCTURED):
            where = f"{origin} ({mode})"
            missing = [k for k in ("id", "source", "specversion", "type") if k not in attributes]
            if missing or attributes["specversion"] != "1.0":
                with pytest.raises(EventError) as e:
                    binding.decode(*request(attributes, data, mode))
                if missing:
                    named = e.value.missing if isinstance(e.value, NotACloudEvent) else [e.value.attribute]
                    assert any(m.removeprefix("ce-") in missing for m in named), where
                else:
                    assert e.value.attribute == "specversion", where
                continue
            broken = sorted(k for k, v in attributes.items() if v.endswith("\n"))
            if broken:
                with pytest.raises(EventError) as e:
                    binding.decode(*request(attributes, data, mode))
                assert e.value.attribute in broken, where
            chomped = {k: v.rstrip("\n") for k, v in attributes.items()}
            check_decodes(chomped, data, mode)
            decoded += 1
    assert decoded > 0
