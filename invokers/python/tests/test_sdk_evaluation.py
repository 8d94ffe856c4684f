"""The evidence of EVALUATION.md: what the CloudEvents SDK (`cloudevents` 2.2.0, the
version requirements.txt pins) does with the inputs the contract has rules for. Each
test is one row of EVALUATION.md (its number in the name) and asserts what the SDK was
seen to do, so that a new SDK version that changes it fails here and the evaluation is
made again.

The SDK is called as its documentation shows: `from_http(HTTPMessage(headers, body),
JSONFormat())` to decode, `to_binary` / `to_structured` to encode.
"""

from datetime import datetime, timezone

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http, to_binary, to_structured
from cloudevents.core.exceptions import CloudEventValidationError
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

FORMAT = JSONFormat()
REQUIRED = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}
MINIMAL = '{"specversion":"1.0","id":"1","source":"/s","type":"t"'


def binary(body: bytes = b"", **headers: str):
    return from_http(HTTPMessage({**REQUIRED, **{k.replace("_", "-"): v for k, v in headers.items()}}, body), FORMAT)


def structured(body: str, **headers: str):
    return from_http(HTTPMessage({"content-type": "application/cloudevents+json", **headers}, body.encode()), FORMAT)


def test_1a_the_mode_is_chosen_by_ce_headers_not_by_content_type():
    # A structured event with a stray ce- header is read as binary, and fails.
    with pytest.raises(CloudEventValidationError):
        structured(MINIMAL + "}", **{"ce-traceparent": "00-x"})


def test_1b_a_request_that_is_no_cloudevent_becomes_one_with_a_made_up_id():
    event = from_http(HTTPMessage({"content-type": "application/json"}, b'{"source":"/s","type":"t"}'), FORMAT)
    assert len(event.get_id()) == 36 and event.get_specversion() == "1.0"


def test_1c_percent_decoding_is_lenient():
    assert binary(ce_subject="a%20b%e2%82%ac").get_subject() == "a b€"  # PASS
    assert binary(ce_subject="%2541").get_subject() == "%41"  # PASS: once
    assert binary(ce_subject="%C0%A0").get_subject() == "\ufffd\ufffd"  # overlong UTF-8 kept
    assert binary(ce_subject="%zz").get_subject() == "%zz"  # malformed escape kept


def test_1d_quoted_strings_are_not_unquoted():
    assert binary(ce_subject='"a b"').get_subject() == '"a b"'


def test_1e_a_ce_datacontenttype_header_is_accepted():
    assert binary(ce_datacontenttype="text/plain").get_datacontenttype() == "text/plain"


def test_1f_a_batch_crashes_the_decoder():
    with pytest.raises(AttributeError):
        structured("[" + MINIMAL + "}]", **{"content-type": "application/cloudevents-batch+json"})


def test_1g_a_0_3_event_is_accepted():
    assert binary(ce_specversion="0.3").get_specversion() == "0.3"


def test_1h_names_empty_required_attributes_and_naive_times_are_checked():
    for bad in [{"ce_my_ext": "x"}, {"ce_id": ""}, {"ce_time": "2018-04-05T17:31:00"}]:
        with pytest.raises(CloudEventValidationError):
            binary(**bad)


def test_1i_times_outside_rfc_3339_pass_or_fail_without_naming_the_attribute():
    assert binary(ce_time="2018-04-05X17:31:00Z").get_time() == datetime(2018, 4, 5, 17, 31, tzinfo=timezone.utc)
    with pytest.raises(ValueError) as e:
        binary(ce_time="yesterday")
    assert not isinstance(e.value, CloudEventValidationError)


def test_1j_uris_and_strings_are_not_checked():
    assert binary(ce_dataschema="/relative").get_dataschema() == "/relative"
    assert binary(ce_source="a%20b%20c").get_source() == "a b c"
    assert structured(MINIMAL + ',"subject":"a\\u0001","ext":"v\\n"}').get_subject() == "a\x01"


def test_1k_extension_values_outside_the_type_system_are_accepted():
    event = structured(MINIMAL + ',"n":3000000000,"f":1.5,"o":{"a":1},"l":[1]}')
    assert [event.get_extension(k) for k in "nfol"] == [3000000000, 1.5, {"a": 1}, [1]]


def test_1l_data_and_data_base64_together_are_refused_as_a_bad_extension_name():
    with pytest.raises(CloudEventValidationError, match="data_base64"):
        structured(MINIMAL + ',"data":1,"data_base64":"AQ=="}')


def test_1m_a_duplicate_member_is_read_as_the_last():
    assert structured('{"specversion":"1.0","id":"1","id":"2","source":"/s","type":"t"}').get_id() == "2"


def test_1n_data_base64_is_binary_data():
    body = MINIMAL + ',"datacontenttype":"application/json","data_base64":"eyJhIjoxfQ=="}'
    assert structured(body).get_data() == b'{"a":1}'


def test_1o_binary_data_type_follows_the_bytes_not_the_content_type():
    assert binary(b"abc", content_type="application/octet-stream").get_data() == "abc"
    assert binary(b"\xff", content_type="application/octet-stream").get_data() == b"\xff"
    assert binary(b'{"a":1}', content_type="application/json").get_data() == {"a": 1}


def test_1p_an_event_sent_without_time_is_given_the_current_time():
    assert binary().get_time() is not None


def test_2a_binary_encoding_percent_encodes_and_maps_the_content_type():
    event = CloudEvent({"id": "1", "source": "/s", "type": "t", "subject": "Euro € 😀", "datacontenttype": "text/plain"}, "x")
    message = to_binary(event, FORMAT)
    assert message.headers["ce-subject"] == "Euro%20%E2%82%AC%20%F0%9F%98%80"
    assert message.headers["content-type"] == "text/plain"


def test_2b_a_boolean_extension_is_written_as_python_writes_it():
    event = CloudEvent({"id": "1", "source": "/s", "type": "t", "flag": True})
    assert to_binary(event, FORMAT).headers["ce-flag"] == "True"


def test_2c_text_under_a_json_type_differs_between_the_modes():
    event = CloudEvent({"id": "1", "source": "/s", "type": "t", "datacontenttype": "application/json"}, '{"a":1}')
    assert to_binary(event, FORMAT).body == b'{"a":1}'
    assert b'"data": "{\\"a\\":1}"' in to_structured(event, FORMAT).body


def test_2d_fractional_seconds_are_written_as_six_digits():
    when = datetime(2018, 4, 5, 17, 31, 0, 520000, tzinfo=timezone.utc)
    event = CloudEvent({"id": "1", "source": "/s", "type": "t", "time": when})
    assert to_binary(event, FORMAT).headers["ce-time"] == "2018-04-05T17:31:00.520000Z"


def test_3a_the_event_type_hands_out_its_own_attributes_dict():
    event = CloudEvent({"id": "1", "source": "/s", "type": "t"})
    event.get_attributes().pop("time")
    assert event.get_time() is None
