"""The event loop async handlers run on inside a wasm instance (it runs natively too)."""

import asyncio
import time

import pytest

from motif.guest.loop import run


def test_timers_tasks_and_gathers_run_to_completion():
    async def work():
        started = time.monotonic()
        results = await asyncio.gather(asyncio.sleep(0.05, "a"), asyncio.sleep(0.05, "b"))
        return results, time.monotonic() - started

    results, took = run(work())
    assert results == ["a", "b"]
    assert 0.04 < took < 0.5  # slept once for both, not twice


def test_awaiting_what_nothing_can_complete_fails_instead_of_hanging():
    async def stuck():
        await asyncio.get_running_loop().create_future()

    with pytest.raises(RuntimeError, match="nothing can complete"):
        run(stuck())


def test_a_coroutine_without_awaits_returns_its_value():
    async def value():
        return 42

    assert run(value()) == 42
