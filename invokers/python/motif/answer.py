"""What the invoker answers with: a status, headers and a body, and the problem a
failure becomes."""

from __future__ import annotations

from motif import problem as problems
from motif.errors import Error
from motif.log import log
from motif.problem import PROBLEM_JSON, Problem

Answer = tuple[int, list[tuple[str, str]], bytes]
"""A response: status, headers (names lower-case), body."""


def answer(p: Problem, headers: list[tuple[str, str]] | None = None) -> Answer:
    """A problem as a response."""
    return p.status, [("content-type", PROBLEM_JSON), *(headers or ())], p.to_json()


def handler_failed(e: BaseException, context: str = "") -> Answer:
    """A handler's exception as its problem: `motif.Error` with its status, any other
    as a 500 whose detail is the exception's message (the traceback is logged only).
    `context` goes before the message (which event of a batch failed)."""
    if isinstance(e, Error):
        return answer(problems.for_status(e.status, context + e.message))
    log.error("the function raised %s", type(e).__name__, exc_info=e)
    message = str(e)
    detail = f"{type(e).__name__}: {message}" if message else type(e).__name__
    return answer(problems.handler_failed(context + detail))
