import pytest

from motif import Headers, Request, Response


def test_headers_are_case_insensitive_and_keep_every_value_in_order():
    h = Headers([("X-Test", "a"), ("content-type", "text/plain"), ("x-test", "b")])
    assert h.get("x-TEST") == "a"
    assert h.get_all("X-Test") == ["a", "b"]
    assert h["Content-Type"] == "text/plain"
    assert "CONTENT-TYPE" in h and "missing" not in h
    assert list(h) == ["x-test", "content-type"]
    h.set("x-test", "c")
    assert h.get_all("x-test") == ["c"]
    with pytest.raises(KeyError):
        h["missing"]


def test_request_text_uses_the_charset_and_json_parses():
    r = Request("POST", "/", "", {"content-type": 'text/plain; charset="latin-1"'}, "é".encode("latin-1"))
    assert r.text() == "é"
    assert Request("POST", "/", body=b'{"a":1}').json() == {"a": 1}


def test_bodies_get_a_content_type_by_their_kind():
    assert Response.of("hi").encode() == (200, [("content-type", "text/plain; charset=utf-8")], b"hi")
    assert Response.of(b"\x00").encode()[1] == [("content-type", "application/octet-stream")]
    assert Response.of({"a": "é"}).encode() == (200, [("content-type", "application/json")], '{"a":"é"}'.encode())
    assert Response.of(None).encode() == (204, [], b"")
    given = Response("x", headers={"Content-Type": "text/html"}).encode()
    assert given[1] == [("content-type", "text/html")]


@pytest.mark.parametrize(
    "response",
    [
        Response(object()),
        Response("x", status=1000),
        Response("x", status=101),
        Response("x", headers={"bad name": "v"}),
        Response("x", headers={"x": "split\r\nheader"}),
    ],
)
def test_what_http_cannot_carry_is_refused(response):
    with pytest.raises((TypeError, ValueError)):
        response.encode()
