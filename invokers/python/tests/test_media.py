from motif.media import Accept, is_json, is_textual


def test_json_and_text_types_are_classified():
    for json in ["application/json", "Application/JSON; charset=utf-8", "text/json", "application/vnd.x+json"]:
        assert is_json(json), json
    for other in ["text/plain", "application/octet-stream", "json", "application/jsonx"]:
        assert not is_json(other), other
    for text in ["text/plain; charset=us-ascii", "application/xml", "image/svg+xml"]:
        assert is_textual(text), text
    assert not is_textual("application/octet-stream")


def test_the_most_specific_range_decides():
    accept = Accept.parse("text/*;q=0.5, text/plain, */*;q=0.1, image/png;q=0")
    assert accept.quality("text/plain") == 1.0
    assert accept.quality("text/html") == 0.5
    assert accept.quality("application/json") == 0.1
    assert not accept.allows("image/png")


def test_a_missing_or_garbled_header_accepts_anything():
    assert Accept.parse(None).allows("application/x-anything")
    assert Accept.parse("garbage").allows("text/plain")
    assert Accept.parse("").allows("text/plain")


def test_names_ignores_wildcards():
    accept = Accept.parse("*/*, application/cloudevents-batch+json")
    assert accept.names("application/cloudevents-batch+json")
    assert not accept.names("application/cloudevents+json")
    assert not Accept.parse(None).names("application/cloudevents-batch+json")


def test_a_quality_outside_zero_to_one_drops_the_range():
    accept = Accept.parse("text/plain;q=2, application/json")
    assert not accept.allows("text/plain")
    assert accept.allows("application/json")
