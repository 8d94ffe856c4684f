"""Replies: the SDK's CloudEvent a handler returns, checked and put in canonical form."""

from datetime import datetime, timedelta, timezone

import pytest
from cloudevents.core.v03.event import CloudEvent as CloudEventV03
from cloudevents.core.v1.event import CloudEvent

from motif.ce import binding
from motif.ce.errors import EventError
from motif.ce.event import NOTHING, from_sdk


def event(data=None, **attributes):
    return CloudEvent({"id": "1", "source": "/s", "type": "t", **attributes}, data)


def test_a_reply_is_put_in_canonical_form():
    when = datetime(2018, 4, 5, 17, 31, 0, 520000, tzinfo=timezone(timedelta(hours=2)))
    wire = from_sdk(event(time=when, flag=True, count=7, raw=b"\x00\x01", subject="s"))
    assert wire.attributes == {
        "id": "1", "source": "/s", "type": "t", "subject": "s",
        "time": "2018-04-05T17:31:00.52+02:00", "count": 7, "flag": True, "raw": "AAE=",
    }
    assert from_sdk(event(time=datetime(2020, 1, 1, tzinfo=timezone.utc))).attributes["time"] == "2020-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("reply", "attribute"),
    [
        (event(source="not a uri"), "source"),
        (event(dataschema="/relative"), "dataschema"),
        (event(subject="line\n"), "subject"),
        (event(big=2**40), "big"),
        (event(listed=[1]), "listed"),
        (CloudEventV03({"id": "1", "source": "/s", "type": "t", "specversion": "0.3"}), "specversion"),
    ],
)
def test_a_reply_that_breaks_a_rule_names_the_attribute(reply, attribute):
    with pytest.raises(EventError) as e:
        from_sdk(reply)
    assert e.value.attribute == attribute


def test_a_naive_time_is_refused():
    reply = event()
    reply.get_attributes()["time"] = datetime(2020, 1, 1)
    with pytest.raises(EventError, match="timezone aware"):
        from_sdk(reply)


def test_something_that_is_not_an_event_is_refused():
    with pytest.raises(EventError, match="not dict"):
        from_sdk({"id": "1"})


def test_reply_data_is_a_json_value_under_a_json_type_or_none_and_text_otherwise():
    assert from_sdk(event({"a": 1}, datacontenttype="application/json")).body() == b'{"a":1}'
    assert from_sdk(event("x", datacontenttype="application/json")).body() == b'"x"'
    assert from_sdk(event("x")).body() == b'"x"'
    assert from_sdk(event([1])).body() == b"[1]"
    assert from_sdk(event("é", datacontenttype="text/plain")).body() == "é".encode()
    assert from_sdk(event(b"\x00", datacontenttype="application/json")).body() == b"\x00"
    wire = from_sdk(event())
    assert (wire.raw, wire.value) == (None, NOTHING)


def test_json_data_handed_back_unchanged_keeps_its_bytes():
    body = b'{ "a" : [1, 2] }\n'
    [received], _ = binding.decode(
        [("ce-specversion", b"1.0"), ("ce-id", b"1"), ("ce-source", b"/s"), ("ce-type", b"t")],
        "application/json",
        body,
    )
    assert from_sdk(received).body() == body
    received.get_data()["a"].append(3)
    assert from_sdk(received).body() == b'{"a":[1,2,3]}'
