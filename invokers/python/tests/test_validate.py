import pytest

from motif.ce import validate
from motif.ce.errors import EventError


def test_names_are_lowercase_letters_and_digits():
    for ok in ["id", "comexampleextension1", "a", "0"]:
        validate.name(ok)
    for bad in ["", "Id", "my-ext", "my_ext", "my.ext", "é"]:
        with pytest.raises(EventError) as e:
            validate.name(bad)
        assert e.value.attribute == bad


def test_strings_reject_control_characters_noncharacters_and_surrogates():
    validate.string("subject", "Euro € 😀")
    for bad in ["a\0", "tab\t", "\x7f", "\x85", "\ufdd0", "\ufffe", "\U0001ffff", "\ud800", "line\n"]:
        with pytest.raises(EventError, match="disallowed character"):
            validate.string("subject", bad)


def test_uri_references_accept_relative_and_absolute_forms():
    for ok in [
        "/mycontext",
        "https://github.com/cloudevents/spec/pull",
        "urn:event:from:myapi/resource/123",
        "mailto:cncf-wg-serverless@lists.cncf.io",
        "cloudevents/spec/pull/123?x=%20y#frag",
        "1-555-123-4567",
        "http://[::1]/x",
        "//user:pass@[2001:db8::7]:8080/x?q=1#f/?",
        "http://[v1.fe80::a+en1]/",
        "http://example.com:80/a@b:c",
        "http://example.com:/",
    ]:
        validate.uri_reference("source", ok)
    for bad in [
        "", "has space", "%zz", "a%2", "<tag>", "1http://x", "a#b#c", "a[b]", "x?a[1]",
        "http://x:abc/", "http://a@b@c/", "http://[::1/x", "http://[zz]/x", "http://[]/x",
        "http://[::1]x/", "http://a[::1]/", "//a:b:c/",
    ]:
        with pytest.raises(EventError) as e:
            validate.uri_reference("source", bad)
        assert e.value.attribute == "source", bad


def test_uris_must_be_absolute():
    validate.uri("dataschema", "https://example.com/schema.json")
    validate.uri("dataschema", "urn:x:y")
    for bad in ["/schema.json", "schema.json", "https://e.com/s#frag", "", "urn:x[1]"]:
        with pytest.raises(EventError):
            validate.uri("dataschema", bad)


def test_timestamps_follow_rfc_3339_and_keep_their_offset():
    assert validate.timestamp("time", "2018-04-05T03:56:24+02:00").isoformat() == "2018-04-05T03:56:24+02:00"
    for ok in ["2018-04-05T17:31:00Z", "1985-04-12T23:20:50.52Z", "1985-04-12t23:20:50.52z"]:
        assert validate.timestamp("time", ok).utcoffset() is not None
    for bad in [
        "2018-04-05", "2018-04-05T17:31:00", "yesterday", "2018-13-05T17:31:00Z",
        "2018-04-05 17:31:00Z", "2018-04-05X17:31:00Z", "2018-04-0517:31:00Z",
    ]:
        with pytest.raises(EventError) as e:
            validate.timestamp("time", bad)
        assert e.value.attribute == "time", bad


def test_extensions_are_strings_booleans_or_int32():
    validate.extension("n", 2**31 - 1)
    validate.extension("b", True)
    for name, value in [("n", 2**31), ("f", 1.5), ("l", [1]), ("id", "x"), ("data", "x"), ("Bad", "x")]:
        with pytest.raises(EventError):
            validate.extension(name, value)
