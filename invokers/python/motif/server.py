"""The function server's life (CONTRACT.md §1, §6): listening, the init hook before
ready, and the drain on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from motif.config import HOOK_TIMEOUT, Config
from motif.dispatch import DRAINING, READY, Dispatcher
from motif.function import Function, Hook
from motif.http1 import Connection
from motif.log import log

# Worker threads for plain-`def` handlers: one per concurrency slot and some to spare
# (a handler that outlives its timeout keeps its thread until it returns, as Python
# cannot stop a thread), or 64 when concurrency is unlimited.
SPARE_THREADS = 16
UNLIMITED_THREADS = 64


def process_age() -> float | None:
    """Seconds since this process started, from the kernel's record of it (so the
    interpreter's own start is counted), or `None` where there is none."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class Server:
    """A function server for one function."""

    def __init__(self, config: Config, function: Function, started: float) -> None:
        self.config = config
        self.function = function
        self.started = started
        workers = config.concurrency + SPARE_THREADS if config.concurrency else UNLIMITED_THREADS
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="motif-handler")
        self.dispatcher = Dispatcher(config, function, self.executor)
        self.connections: set[Connection] = set()
        self.closing = False

    async def run(
        self,
        listening: asyncio.Future[Any] | None = None,
        stop: asyncio.Event | None = None,
    ) -> int:
        """Serves until SIGTERM or SIGINT (or until `stop` is set, when given), then
        drains; the exit code. `listening`, when given, gets the bound address (tests
        bind port 0)."""
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(_loop_error)
        if stop is None:
            stop = asyncio.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
        config = self.config
        try:
            listener = await loop.create_server(
                lambda: Connection(self), config.host, config.port, backlog=1024
            )
        except OSError as e:
            log.error(
                "cannot listen on %s:%s: %s; is another process using $PORT? set PORT to a "
                "free port, or 0 to pick one",
                config.host,
                config.port,
                e.strerror or e,
            )
            return 1
        addr = listener.sockets[0].getsockname()
        if listening is not None:
            listening.set_result(addr)
        fields = {
            "addr": f"{addr[0]}:{addr[1]}",
            "function": config.name,
            "kind": config.kind,
            "k_service": config.k_service,
            "k_configuration": config.k_configuration,
            "k_revision": config.k_revision,
        }
        log.info("listening", extra={"fields": {k: v for k, v in fields.items() if v}})
        if not await self._hook(self.function.init, "init"):
            return 1
        self.dispatcher.state = READY
        age = process_age()
        self.dispatcher.metrics.cold_start = age if age is not None else time.monotonic() - self.started
        log.info("ready", extra={"fields": {"cold_start_seconds": round(self.dispatcher.metrics.cold_start, 4)}})
        await stop.wait()
        await self._drain(listener)
        await self._hook(self.function.shutdown, "shutdown")
        log.info("stopped")
        return 0

    async def _hook(self, hook: Hook | None, name: str) -> bool:
        """Runs the init or shutdown hook under its 10 s cap; whether it succeeded."""
        if hook is None:
            return True
        try:
            async with asyncio.timeout(HOOK_TIMEOUT):
                await hook.call(self.executor)
            return True
        except TimeoutError:
            log.error("%s hook did not finish within %ss", name, int(HOOK_TIMEOUT))
        except Exception as e:
            log.error("%s hook failed: %s: %s", name, type(e).__name__, e, exc_info=e)
        return False

    async def _drain(self, listener: asyncio.Server) -> None:
        """`/_/ready` turns 503 at once; requests keep being served until none is in
        flight or `MOTIF_DRAIN_SECONDS` pass; then new connections are refused and open
        ones close as their last response is written."""
        self.dispatcher.state = DRAINING
        metrics = self.dispatcher.metrics
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.drain
        log.info("draining", extra={"fields": {"in_flight": metrics.in_flight}})
        while metrics.in_flight > 0 and loop.time() < deadline:
            await asyncio.sleep(0.01)
        listener.close()
        self.closing = True
        for connection in list(self.connections):
            connection.close_when_idle()
        # Connections close as their last response is written; one still busy when the
        # window ends is abandoned with the process.
        left = max(deadline - loop.time(), 0.1)
        while self.connections and left > 0:
            await asyncio.sleep(0.01)
            left -= 0.01
        if metrics.in_flight:
            log.warning(
                "drain window ended with requests in flight",
                extra={"fields": {"in_flight": metrics.in_flight}},
            )


def _loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    log.error(
        "event loop: %s", context.get("message", "error"), exc_info=context.get("exception")
    )
