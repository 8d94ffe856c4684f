"""Calling a function's `handle` inside a wasm instance, under its context."""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable
from typing import Any

from motif.context import Context, current
from motif.guest.loop import run


def function_handle(module: Any) -> Callable[[Any], Any]:
    """The module's `handle`; `LookupError` when it has none."""
    handle = getattr(module, "handle", None)
    if not callable(handle):
        raise LookupError(f"module `{module.__name__}` has no function `handle`")
    return handle


def call(handle: Callable[[Any], Any], arg: Any, cx: Context) -> Any:
    """Calls `handle(arg)` with `motif.context()` set to `cx`, running it to completion
    when it is a coroutine."""
    token = current.set(cx)
    try:
        result = handle(arg)
        if inspect.isawaitable(result):
            result = run(result)  # type: ignore[arg-type]
        return result
    finally:
        current.reset(token)


def context(
    function_name: str, traceparent: str, remaining_ms: int, revision: str | None
) -> Context:
    """The context the host describes (its `context` import), with the Knative names
    it passes in the environment."""
    return Context(
        function_name,
        traceparent,
        time.monotonic() + remaining_ms / 1000,
        k_service=os.environ.get("K_SERVICE"),
        k_configuration=os.environ.get("K_CONFIGURATION"),
        k_revision=revision or os.environ.get("K_REVISION"),
    )
