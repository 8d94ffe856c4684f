"""`MOTIF_CONCURRENCY` with a bounded queue behind it (CONTRACT.md §5): the slot a request
runs in, a place in line when every slot is taken, `Full` (a 429) when the line is full."""

from __future__ import annotations

import asyncio
from collections import deque

from motif.metrics import Metrics


class Full(Exception):
    """Every slot is taken and the line is full."""


class Limiter:
    """Slots and a queue; 0 slots means unlimited. Used from the event loop only."""

    def __init__(self, concurrency: int, queue: int, metrics: Metrics) -> None:
        self.unlimited = concurrency == 0
        self.free = concurrency
        self.queue = queue
        self.metrics = metrics
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        """Takes a slot, waiting in line if there is room in it. A wait that is cancelled
        (the request timed out) leaves the line, and hands on a slot it was just given."""
        if self.unlimited:
            return
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        if len(self.waiters) >= self.queue:
            raise Full
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        self.metrics.queued = len(self.waiters)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()
            raise
        finally:
            try:
                self.waiters.remove(waiter)
            except ValueError:
                pass
            self.metrics.queued = len(self.waiters)

    def release(self) -> None:
        """Gives a slot back: to the first in line, else to the pool."""
        if self.unlimited:
            return
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
                self.waiters.remove(waiter)
                self.metrics.queued = len(self.waiters)
                return
        self.free += 1
