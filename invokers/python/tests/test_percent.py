import pytest

from motif.ce.percent import DecodeFailure, decode, encode


def test_the_spec_example_encodes_as_written():
    assert encode("Euro € 😀") == "Euro%20%E2%82%AC%20%F0%9F%98%80"
    assert encode('100% "quoted"') == "100%25%20%22quoted%22"
    assert encode("plain") == "plain"


def test_decoding_accepts_lowercase_hex_and_needless_escapes():
    assert decode(b"Euro%20%e2%82%ac") == "Euro €"
    assert decode(b"%41%42C") == "ABC"


def test_decoding_happens_exactly_once():
    assert decode(b"%2541") == "%41"


@pytest.mark.parametrize("raw", [b"%C0%A0", b"%E2%82", b"%ED%A0%80", b"\xff", b"a\xe9"])
def test_invalid_and_overlong_utf8_is_rejected(raw):
    with pytest.raises(DecodeFailure, match="UTF-8"):
        decode(raw)


@pytest.mark.parametrize("raw", [b"%", b"%4", b"%zz", b"a%g1"])
def test_malformed_escapes_are_rejected(raw):
    with pytest.raises(DecodeFailure, match="percent-escape"):
        decode(raw)


def test_quoted_strings_are_unquoted_before_percent_decoding():
    assert decode(b'"hello world"') == "hello world"
    assert decode(b'"a\\"b\\\\c"') == 'a"b\\c'
    assert decode(b'"%20"') == " "
    for bad in [b'"open', b'"trailing\\"', b'"']:
        with pytest.raises(DecodeFailure, match="quoted-string"):
            decode(bad)
