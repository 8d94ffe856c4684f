"""The user's function: a module with a `handle` callable and optional `init` and
`shutdown` hooks, each a plain `def` or an `async def`.

Coroutine functions run on the event loop; plain functions run on a worker thread (with
the caller's context variables), so a handler that blocks or hangs holds one thread and
never the loop that serves every other request.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from types import ModuleType
from typing import Any


class LoadError(Exception):
    """The function cannot be loaded; the message says what to do."""


def _is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)
    )


class Hook:
    """One callable of the module, and how to call it."""

    __slots__ = ("fn", "is_async")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.is_async = _is_async(fn)

    async def call(self, executor: Executor, *args: Any) -> Any:
        """Calls it: awaited on the loop when async, else on a thread of `executor`."""
        if self.is_async:
            return await self.fn(*args)
        loop = asyncio.get_running_loop()
        cx = contextvars.copy_context()
        result = await loop.run_in_executor(executor, cx.run, self.fn, *args)
        if inspect.isawaitable(result):
            result = await result
        return result


class Function:
    """A loaded function module."""

    def __init__(self, module: ModuleType) -> None:
        handle = getattr(module, "handle", None)
        if not callable(handle):
            raise LoadError(
                f"module `{module.__name__}` has no function `handle`: define "
                "`def handle(request)` (http) or `def handle(event)` (cloudevent)"
            )
        self.module = module
        self.handle = Hook(handle)
        self.init = _optional(module, "init")
        self.shutdown = _optional(module, "shutdown")

    @classmethod
    def load(cls, target: str) -> Function:
        """Imports `target`: a `.py` file (its directory joins `sys.path`, so it can
        import its neighbours) or a module name (found from the current directory)."""
        try:
            if target.endswith(".py") or os.sep in target:
                path = os.path.realpath(target)
                if not os.path.isfile(path):
                    raise LoadError(f"`{target}` is not a file")
                sys.path.insert(0, os.path.dirname(path))
                name = os.path.splitext(os.path.basename(path))[0]
                spec = importlib.util.spec_from_file_location(name, path)
                if spec is None or spec.loader is None:
                    raise LoadError(f"`{target}` is not a Python module")
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
            else:
                sys.path.insert(0, os.getcwd())
                module = importlib.import_module(target)
        except LoadError:
            raise
        except Exception as e:
            raise LoadError(f"importing `{target}` failed: {type(e).__name__}: {e}") from e
        return cls(module)


def _optional(module: ModuleType, name: str) -> Hook | None:
    fn = getattr(module, name, None)
    if fn is None:
        return None
    if not callable(fn):
        raise LoadError(f"`{module.__name__}.{name}` is not a function")
    return Hook(fn)
