#!/usr/bin/env python3
"""A client no one on this project wrote: the CloudEvents Python SDK (2.x) sends each
event of a conformance YAML file (cloudevents-conformance/yaml/v1.yaml) to an echo
function, in binary and in structured mode, and parses the reply with the same SDK.
The reply, read by the SDK, must be the event the SDK reads from the request it sent
(attribute for attribute, data for data: the SDK reads data without a content type as
JSON, both ways), in the mode it was sent in.

Most extension values of the conformance data are YAML literal blocks (`|`), which keep
a final line break; a CloudEvents String must not hold a control character (spec §3.3),
so such an event, as written, must be refused: a 400 problem naming the attribute. The
event its author meant, the break chomped (as `|-` would read it), must then echo. `traceparent` (and `tracestate`), which every invoker adds to a
reply that has none (CONTRACT.md §4), must be a valid W3C traceparent and is otherwise
left out of the comparison.

    cloudevents_sdk.py URL YAML

Prints one line per exchange; exits 1 if any reply differs, 2 on bad usage.
"""

from __future__ import annotations

import http.client
import json
import re
import sys
import urllib.parse
from typing import Any

import yaml
from cloudevents.core.bindings.http import (
    HTTPMessage,
    from_http,
    to_binary,
    to_structured,
)
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
ADDED_BY_INVOKERS = ("traceparent", "tracestate")
PROBLEM = "application/problem+json"


def events(path: str) -> list[tuple[CloudEvent, dict[str, str]]]:
    """The events of a conformance YAML file, with their transport headers."""
    with open(path, encoding="utf-8") as f:
        documents = [d for d in yaml.safe_load_all(f) if d]
    out = []
    for doc in documents:
        attributes: dict[str, Any] = dict(doc["ContextAttributes"])
        attributes.update(attributes.pop("Extensions", None) or {})
        attributes = {k: str(v) if k != "time" else v for k, v in attributes.items()}
        transport = {k: str(v) for k, v in (doc.get("TransportExtensions") or {}).items()}
        out.append((CloudEvent(attributes=attributes, data=doc.get("Data")), transport))
    return out


def chomped(event: CloudEvent) -> tuple[CloudEvent, list[str]]:
    """`event` with the final line break of its string attributes removed, and the names
    of the attributes that had one."""
    attributes = dict(event.get_attributes())
    broken = sorted(
        k for k, v in attributes.items() if isinstance(v, str) and v.endswith("\n")
    )
    for name in broken:
        attributes[name] = attributes[name].rstrip("\n")
    return CloudEvent(attributes=attributes, data=event.get_data()), broken


def post(url: str, message: HTTPMessage, transport: dict[str, str]) -> tuple[int, HTTPMessage]:
    """POSTs `message` with http.client (which, unlike urllib, adds no Content-Type of
    its own) and returns the status and the reply."""
    target = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    try:
        connection.request(
            "POST", target.path or "/", body=message.body, headers={**transport, **message.headers}
        )
        reply = connection.getresponse()
        headers = {k.lower(): v for k, v in reply.getheaders()}
        return reply.status, HTTPMessage(headers=headers, body=reply.read())
    finally:
        connection.close()


def refused(url: str, message: HTTPMessage, transport: dict[str, str], names: list[str]) -> list[str]:
    """Why the answer to an invalid event is not a 400 problem naming one of `names`."""
    status, reply = post(url, message, transport)
    is_problem = reply.headers.get("content-type") == PROBLEM
    problem = json.loads(reply.body) if is_problem else {}
    if status != 400 or problem.get("attribute") not in names:
        return [f"want a 400 problem naming one of {names}, got {status}: {reply.body!r}"]
    return []


def exchange(url: str, message: HTTPMessage, transport: dict[str, str]) -> HTTPMessage:
    """POSTs `message` and returns the reply (raising on anything but 200)."""
    status, reply = post(url, message, transport)
    if status != 200:
        raise AssertionError(f"HTTP {status}: {reply.body.decode(errors='replace')}")
    return reply


def differences(sent: CloudEvent, got: CloudEvent) -> list[str]:
    """How `got` differs from `sent`, beyond the trace context an invoker adds."""
    want = dict(sent.get_attributes())
    have = dict(got.get_attributes())
    problems = []
    for name in ADDED_BY_INVOKERS:
        value = have.pop(name, None)
        if name in want:
            have[name] = value
        elif name == "traceparent" and value is not None and not TRACEPARENT.match(value):
            problems.append(f"traceparent {value!r} is not a W3C traceparent")
    for name in sorted(want.keys() | have.keys()):
        if want.get(name) != have.get(name):
            problems.append(f"{name}: sent {want.get(name)!r}, got {have.get(name)!r}")
    if sent.get_data() != got.get_data():
        problems.append(f"data: sent {sent.get_data()!r}, got {got.get_data()!r}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-3].strip(), file=sys.stderr)
        return 2
    url, path = argv[1], argv[2]
    fmt = JSONFormat()
    failed = 0
    for n, (written, transport) in enumerate(events(path), 1):
        event, broken = chomped(written)
        for mode, encode in (("binary", to_binary), ("structured", to_structured)):
            if broken:
                problems = refused(url, encode(written, fmt), transport, broken)
                print(f"event {n} as written {mode}: {'ok' if not problems else 'FAILED'}")
                for p in problems:
                    print(f"    {p}")
                failed += bool(problems)
            sent = encode(event, fmt)
            try:
                reply = exchange(url, sent, transport)
                is_structured = reply.headers.get("content-type", "").lower().startswith(
                    "application/cloudevents+json"
                )
                got_mode = "structured" if is_structured else "binary"
                expected = from_http(sent, fmt, CloudEvent)
                problems = differences(expected, from_http(reply, fmt, CloudEvent))
                if got_mode != mode:
                    problems.append(f"reply in {got_mode} mode")
            except Exception as e:  # noqa: BLE001 - any failure is a finding to report
                problems = [f"{type(e).__name__}: {e}"]
            status = "ok" if not problems else "FAILED"
            print(f"event {n} {mode}: {status}")
            for p in problems:
                print(f"    {p}")
            failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
