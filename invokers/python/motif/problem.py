"""RFC 9457 problem details: the body of every error the invoker answers with.

The `type` slugs, titles and extension members are those of motif-contract's
`problem.rs`, so that every motif invoker answers the same failure with the same problem.
"""

from __future__ import annotations

import json
from typing import Any

TYPE_BASE = "https://motif.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class Problem:
    """A problem: `type` (a URI naming the kind), `title`, `status`, `detail`, extensions."""

    __slots__ = ("status", "slug", "title", "detail", "extensions")

    def __init__(
        self, status: int, slug: str, title: str, detail: str, **extensions: Any
    ) -> None:
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extensions = extensions

    @property
    def type_uri(self) -> str:
        """The URI that names the kind of problem."""
        return TYPE_BASE + self.slug

    def to_json(self) -> bytes:
        """The `application/problem+json` body."""
        body = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extensions,
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def __repr__(self) -> str:
        return f"Problem({self.status}, {self.slug!r}, {self.detail!r})"


def bad_request(detail: str) -> Problem:
    """400: the request could not be decoded."""
    return Problem(400, "bad-request", "Bad request", detail)


def not_found(detail: str) -> Problem:
    """404: no such path."""
    return Problem(404, "not-found", "Not found", detail)


def method_not_allowed(detail: str) -> Problem:
    """405: the path exists, the method does not."""
    return Problem(405, "method-not-allowed", "Method not allowed", detail)


def not_acceptable(detail: str) -> Problem:
    """406: no representation the request's `Accept` allows."""
    return Problem(406, "not-acceptable", "Not acceptable", detail)


def payload_too_large(limit: int) -> Problem:
    """413: the body is over `MOTIF_MAX_BODY`."""
    return Problem(
        413,
        "payload-too-large",
        "Payload too large",
        f"request body is over the limit of {limit} bytes (MOTIF_MAX_BODY)",
        limit=limit,
    )


def unsupported_media_type(detail: str) -> Problem:
    """415: the body's media type is not one the function takes."""
    return Problem(415, "unsupported-media-type", "Unsupported media type", detail)


def too_many_requests(detail: str) -> Problem:
    """429: over the concurrency limit and its queue."""
    return Problem(429, "too-many-requests", "Too many requests", detail)


def handler_failed(detail: str) -> Problem:
    """500: the handler failed; `detail` is the handler's own message."""
    return Problem(500, "handler-failed", "Function failed", detail)


def unavailable(detail: str) -> Problem:
    """503: the function is not ready, or is draining."""
    return Problem(503, "unavailable", "Service unavailable", detail)


def timeout(seconds: float) -> Problem:
    """504: the handler ran past `MOTIF_TIMEOUT`."""
    return Problem(
        504,
        "timeout",
        "Function timed out",
        f"function ran past its timeout of {seconds:g}s (MOTIF_TIMEOUT)",
        timeoutSeconds=float(seconds),
    )


_BY_STATUS = {
    500: handler_failed,
    400: bad_request,
    404: not_found,
    405: method_not_allowed,
    406: not_acceptable,
    415: unsupported_media_type,
    503: unavailable,
}


def for_status(status: int, detail: str) -> Problem:
    """The problem a function's own failure with `status` becomes: the contract's problem
    for that status where it has one, else a `function-error`."""
    make = _BY_STATUS.get(status)
    if make is not None:
        return make(detail)
    return Problem(status, "function-error", "Function error", detail)
