"""What an `http` function receives and returns: `Request`, `Response`, `Headers`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

HeaderPairs = list[tuple[str, str]]


class Headers:
    """HTTP headers: names case-insensitive (kept lower-case), every value kept, in order."""

    __slots__ = ("_pairs", "_index")

    def __init__(
        self, pairs: Mapping[str, str] | Iterable[tuple[str, str]] | None = None
    ) -> None:
        if pairs is None:
            items: Iterable[tuple[str, str]] = ()
        elif isinstance(pairs, Headers):
            items = pairs._pairs
        elif isinstance(pairs, Mapping):
            items = pairs.items()
        else:
            items = pairs
        self._pairs: HeaderPairs = [(str(k).lower(), str(v)) for k, v in items]
        self._index: dict[str, list[str]] | None = None

    @classmethod
    def _lowered(cls, pairs: HeaderPairs) -> Headers:
        """Headers from pairs whose names are already lower-case (the server's)."""
        headers = cls.__new__(cls)
        headers._pairs = pairs
        headers._index = None
        return headers

    def _values(self, name: str) -> list[str]:
        if self._index is None:
            index: dict[str, list[str]] = {}
            for key, value in self._pairs:
                index.setdefault(key, []).append(value)
            self._index = index
        return self._index.get(name.lower(), [])

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name`, or `default`."""
        values = self._values(name)
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in the order received."""
        return list(self._values(name))

    def add(self, name: str, value: str) -> None:
        """Adds a value, keeping any others of the same name."""
        self._pairs.append((name.lower(), str(value)))
        self._index = None

    def set(self, name: str, value: str) -> None:
        """Replaces every value of `name` with `value`."""
        self.remove(name)
        self.add(name, value)

    def remove(self, name: str) -> None:
        """Removes every value of `name`."""
        name = name.lower()
        self._pairs = [(k, v) for k, v in self._pairs if k != name]
        self._index = None

    def items(self) -> HeaderPairs:
        """Every (name, value) pair, in order."""
        return list(self._pairs)

    def __getitem__(self, name: str) -> str:
        values = self._values(name)
        if not values:
            raise KeyError(name)
        return values[0]

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self._values(name))

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for k, _ in self._pairs))

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"Headers({self._pairs!r})"


class Request:
    """A request to an `http` function, its body read whole."""

    __slots__ = ("method", "path", "query", "headers", "body")

    def __init__(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Headers | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> None:
        self.method = method
        """The method, upper-case as sent (`GET`, `POST`, ...)."""
        self.path = path
        """The path, as sent (still percent-encoded)."""
        self.query = query
        """The raw query string, without `?` (`""` when there is none)."""
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        """The headers; hop-by-hop ones are already dropped."""
        self.body = body
        """The body (`b""` when there is none)."""

    def text(self) -> str:
        """The body decoded with the `charset` of its `Content-Type` (default UTF-8)."""
        charset = "utf-8"
        for param in (self.headers.get("content-type") or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                charset = value.strip().strip('"') or charset
        return self.body.decode(charset)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def __repr__(self) -> str:
        target = f"{self.path}?{self.query}" if self.query else self.path
        return f"Request({self.method} {target}, {len(self.body)} bytes)"


class Response:
    """What an `http` function answers: a status, headers and a body.

    A `str` body is sent as UTF-8 (`text/plain; charset=utf-8` unless a `Content-Type`
    is given), `bytes` as they are (`application/octet-stream`), and a `dict` or `list`
    as JSON (`application/json`).
    """

    __slots__ = ("status", "headers", "body")

    def __init__(
        self,
        body: bytes | str | dict | list | None = b"",
        status: int = 200,
        headers: Headers | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        self.status = status
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.body = body

    @classmethod
    def of(cls, value: Any) -> Response:
        """What a handler returned, as a `Response`: a `Response` as it is; `None` is a
        204; anything else is the body of a 200."""
        if isinstance(value, Response):
            return value
        if value is None:
            return cls(b"", status=204)
        return cls(value)

    def encode(self) -> tuple[int, HeaderPairs, bytes]:
        """The status, the headers (with a `Content-Type` for the body when none is
        set) and the body as bytes. Raises `TypeError` for a body of another type, and
        `ValueError` for a status or header that HTTP cannot carry."""
        status, body = self.status, self.body
        if not isinstance(status, int) or not 200 <= status <= 599:
            raise ValueError(f"status {status!r} is not a final HTTP status code (200-599)")
        pairs = self.headers._pairs
        if isinstance(body, (bytes, bytearray, memoryview)):
            raw, default_type = bytes(body), "application/octet-stream"
        elif isinstance(body, str):
            raw, default_type = body.encode(), "text/plain; charset=utf-8"
        elif isinstance(body, (dict, list)):
            raw, default_type = _json(body), "application/json"
        elif body is None:
            raw, default_type = b"", None
        else:
            raise TypeError(
                f"a response body is bytes, str, dict, list or None, not {type(body).__name__}"
            )
        for name, value in pairs:
            if not _is_token(name) or "\r" in value or "\n" in value or "\0" in value:
                raise ValueError(f"header {name!r}: {value!r} cannot be sent over HTTP")
        if raw and default_type and not any(k == "content-type" for k, _ in pairs):
            pairs = [*pairs, ("content-type", default_type)]
        return status, pairs, raw


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")


def _is_token(name: str) -> bool:
    return _TOKEN.fullmatch(name) is not None
