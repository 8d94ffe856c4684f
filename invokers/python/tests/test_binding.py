"""The HTTP binding's three modes, decoded into the SDK's CloudEvent and encoded back."""

import json

import pytest

from motif.ce import binding
from motif.ce.errors import EventError, NotACloudEvent, UnsupportedFormat
from motif.ce.event import from_sdk

REQUIRED = [("ce-specversion", b"1.0"), ("ce-id", b"1"), ("ce-source", b"/s"), ("ce-type", b"t")]


def binary(*extra, content_type=None, body=b""):
    return binding.decode([*REQUIRED, *extra], content_type, body)


def structured(obj, content_type="application/cloudevents+json"):
    return binding.decode([], content_type, json.dumps(obj).encode())


def problem(error: EventError) -> dict:
    return json.loads(error.problem().to_json())


def test_mode_is_chosen_by_content_type_batch_first():
    assert binding.mode(None) == binding.BINARY
    assert binding.mode("application/json") == binding.BINARY
    assert binding.mode("Application/CloudEvents+JSON; charset=utf-8") == binding.STRUCTURED
    assert binding.mode("application/cloudevents-batch+json") == binding.BATCH


def test_binary_mode_maps_content_type_to_datacontenttype_and_parses_json_data():
    [event], mode = binary(content_type="application/json; charset=utf-8", body=b'{"a":[1,2]}')
    assert mode == binding.BINARY
    assert event.get_datacontenttype() == "application/json; charset=utf-8"
    assert event.get_data() == {"a": [1, 2]}
    headers, body = binding.encode(from_sdk(event), binding.BINARY)
    assert ("content-type", "application/json; charset=utf-8") in headers
    assert not any(k == "ce-datacontenttype" for k, _ in headers)
    assert json.loads(body) == {"a": [1, 2]}


def test_binary_data_is_text_for_textual_types_and_bytes_otherwise():
    [text], _ = binary(content_type="text/plain", body="café".encode())
    assert text.get_data() == "café"
    [raw], _ = binary(content_type="application/octet-stream", body=b"\x00\x01")
    assert raw.get_data() == b"\x00\x01"
    [untyped], _ = binary(body=b"{}")
    assert untyped.get_data() == b"{}"
    [not_json], _ = binary(content_type="application/json", body=b"not json")
    assert not_json.get_data() == b"not json"
    [empty], _ = binary(content_type="text/plain")
    assert empty.get_data() is None


def test_an_event_without_time_gets_none():
    [event], _ = binary()
    assert "time" not in event.get_attributes()
    assert event.get_time() is None


def test_header_values_are_percent_decoded_once_and_encoded_back():
    [event], _ = binary(("ce-subject", b"Euro%20%e2%82%ac%20%F0%9F%98%80"), ("ce-myext", b"%2541"))
    assert event.get_subject() == "Euro € 😀"
    assert event.get_extension("myext") == "%41"
    headers = dict(binding.encode(from_sdk(event), binding.BINARY)[0])
    assert headers["ce-subject"] == "Euro%20%E2%82%AC%20%F0%9F%98%80"
    assert headers["ce-myext"] == "%2541"


@pytest.mark.parametrize(
    ("header", "attribute"),
    [
        (("ce-subject", b"%C0%A0"), "subject"),
        (("ce-subject", b"a\xe9"), "subject"),
        (("ce-datacontenttype", b"text/plain"), "datacontenttype"),
        (("ce-my_ext", b"x"), "my_ext"),
        (("ce-time", b"yesterday"), "time"),
        (("ce-dataschema", b"/schema.json"), "dataschema"),
        (("ce-id", b"2"), "id"),
    ],
)
def test_bad_binary_attributes_are_a_400_naming_them(header, attribute):
    with pytest.raises(EventError) as e:
        binary(header)
    p = problem(e.value)
    assert (p["status"], p["type"], p["attribute"]) == (400, "https://motif.dev/problems/invalid-event", attribute)


def test_an_empty_required_attribute_or_another_specversion_is_a_400():
    with pytest.raises(EventError) as e:
        binding.decode([("ce-specversion", b"1.0"), ("ce-id", b""), ("ce-source", b"/s"), ("ce-type", b"t")], None, b"")
    assert e.value.attribute == "id"
    with pytest.raises(EventError) as e:
        binding.decode([("ce-specversion", b"0.3"), ("ce-id", b"1"), ("ce-source", b"/s"), ("ce-type", b"t")], None, b"")
    assert e.value.attribute == "specversion"


def test_missing_required_headers_are_listed():
    with pytest.raises(NotACloudEvent) as e:
        binding.decode([("ce-id", b"x")], "application/json", b"{}")
    p = problem(e.value)
    assert p["type"].endswith("/not-a-cloudevent")
    assert p["missing"] == ["ce-source", "ce-specversion", "ce-type"]
    assert "`ce-type`" in p["detail"]


def test_structured_mode_ignores_ce_headers_and_keeps_json_data():
    body = b'{"specversion":"1.0","id":"from-body","source":"/s","type":"t","data":{"a":1}}'
    [event], mode = binding.decode([("ce-id", b"from-header")], "application/cloudevents+json", body)
    assert mode == binding.STRUCTURED
    assert event.get_id() == "from-body"
    assert event.get_data() == {"a": 1}


def test_structured_data_follows_the_content_type():
    base = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
    [event], _ = structured({**base, "datacontenttype": "text/xml", "data": "<a/>"})
    assert event.get_data() == "<a/>"
    [event], _ = structured({**base, "data_base64": "AAE="})
    assert event.get_data() == b"\x00\x01"
    [event], _ = structured({**base, "data": "a string"})
    assert event.get_data() == "a string"
    with pytest.raises(EventError, match="must be a JSON string"):
        structured({**base, "datacontenttype": "text/plain", "data": {}})


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b'{"specversion":"1.0",', "not a valid JSON event"),
        (b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AQ=="}', "data_base64"),
        (b'{"specversion":"1.0","id":"1","id":"2","source":"/s","type":"t"}', "more than once"),
        (b'{"specversion":"1.0","id":"1","source":"/s","type":"t","n":3000000000}', "int32"),
        (b'{"specversion":"1.0","id":"1","source":"/s","type":"t","n":1.5}', "int32"),
        (b'{"specversion":"1.0","id":"1","source":"/s","type":"t","o":{}}', "not an object"),
        (b'{"specversion":"1.0","id":1,"source":"/s","type":"t"}', "JSON string"),
        (b'{"specversion":"1.0","source":"/s","type":"t"}', "`id`"),
        (b'{"specversion":"1.0","id":"1","source":"/s","type":"t","x":NaN}', "not a valid JSON event"),
        (b"[]", "JSON object"),
    ],
)
def test_bad_structured_events_are_a_400(body, match):
    with pytest.raises(EventError, match=match):
        binding.decode([], "application/cloudevents+json", body)


def test_duplicate_members_inside_data_are_the_datas_business():
    body = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":1,"a":2}}'
    [event], _ = binding.decode([], "application/cloudevents+json", body)
    assert event.get_data() == {"a": 2}


def test_null_means_unset():
    [event], _ = structured({"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "subject": None, "x": None})
    assert event.get_subject() is None
    assert "x" not in event.get_attributes()


def test_other_event_formats_are_a_415():
    with pytest.raises(UnsupportedFormat) as e:
        binding.decode([], "application/cloudevents+avro", b"x")
    assert problem(e.value)["status"] == 415


def test_batches_decode_and_encode():
    one = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
    events, mode = binding.decode([], "application/cloudevents-batch+json", json.dumps([one, one]).encode())
    assert (len(events), mode) == (2, binding.BATCH)
    headers, body = binding.encode_batch([from_sdk(e) for e in events])
    assert headers == [("content-type", "application/cloudevents-batch+json")]
    again, _ = binding.decode(headers, headers[0][1], body)
    assert [e.get_id() for e in again] == ["1", "1"]
    assert binding.decode([], "application/cloudevents-batch+json", b"[]")[0] == []


def test_structured_encoding_chooses_data_or_data_base64():
    def encoded(content_type, body):
        [event], _ = binary(content_type=content_type, body=body)
        return json.loads(binding.encode(from_sdk(event), binding.STRUCTURED)[1])

    assert encoded("application/json", b'{"a":1}')["data"] == {"a": 1}
    assert encoded("application/xml", b"<much/>")["data"] == "<much/>"
    assert encoded("application/octet-stream", b"\x00\x01")["data_base64"] == "AAE="
    assert encoded("application/json", b"not json")["data_base64"] == "bm90IGpzb24="
    assert encoded("text/json", b"d")["data_base64"] == "ZA=="


def test_an_event_whose_data_is_a_cloudevent_goes_structured():
    inner = {"specversion": "1.0", "id": "inner", "source": "/s", "type": "t"}
    outer = {"specversion": "1.0", "id": "outer", "source": "/s", "type": "t",
             "datacontenttype": "application/cloudevents+json", "data": inner}
    [event], _ = structured(outer)
    wire = from_sdk(event)
    assert not binding.binary_carries(wire)
    headers, body = binding.encode(wire, binding.BINARY)
    assert headers == [("content-type", "application/cloudevents+json")]
    assert json.loads(body)["data"] == inner
