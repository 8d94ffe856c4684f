"""An asyncio event loop for a wasm instance, where asyncio's own cannot start (it needs
a socket pair to wake itself) and nothing but time can be waited for: timers run by
sleeping until they are due, which is all an `async def` handler can await there
(`asyncio.sleep`, and tasks and futures built on it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any


class _Clock:
    """A selector with no I/O to watch: `select` sleeps until the next timer."""

    def select(self, timeout: float | None) -> list[Any]:
        if timeout is None:
            raise RuntimeError(
                "the handler awaits something that nothing can complete: in a wasm "
                "instance an async handler can only await timers and its own tasks"
            )
        if timeout > 0:
            time.sleep(timeout)
        return []


class GuestLoop(asyncio.BaseEventLoop):
    """A loop whose only source of events is the clock."""

    def __init__(self) -> None:
        super().__init__()
        self._selector = _Clock()

    def _process_events(self, event_list: list[Any]) -> None:
        """There are no I/O events."""

    def _write_to_self(self) -> None:
        """Nothing sleeps in `select` while another thread could schedule work."""


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Runs `coroutine` to completion on a fresh `GuestLoop`."""
    loop = GuestLoop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()
