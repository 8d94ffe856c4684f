"""Shared helpers: a function served in-process on a real loopback socket, and a client."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import textwrap
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from motif.config import Config
from motif.dispatch import READY
from motif.function import Function
from motif.server import Server

_names = itertools.count()


class Served:
    """A running server: its port, the server itself, and how to stop it."""

    def __init__(self, port: int, server: Server, stop: asyncio.Event, task: asyncio.Task[int]) -> None:
        self.port = port
        self.server = server
        self.stop = stop
        self.task = task

    async def fetch(
        self,
        method: str = "POST",
        path: str = "/",
        body: bytes | Iterable[bytes] | None = None,
        headers: list[tuple[str, str]] | dict[str, str] | None = None,
    ) -> Reply:
        """One request on a new connection (http.client, on a thread)."""
        return await asyncio.to_thread(fetch, self.port, method, path, body, headers)


class Reply:
    """A response, read whole."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)

    def json(self) -> object:
        import json

        return json.loads(self.body)


def fetch(port: int, method: str, path: str, body: object, headers: object) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in pairs:
            connection.putheader(name, value)
        if isinstance(body, (bytes, type(None))):
            if body is not None:
                connection.putheader("content-length", str(len(body)))
            connection.endheaders(body)
        else:
            connection.putheader("transfer-encoding", "chunked")
            connection.endheaders()
            for chunk in body:
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


@contextlib.asynccontextmanager
async def serving(tmp: Path, source: str, **env: str) -> AsyncIterator[Served]:
    """Serves `source` (a function module) on a free loopback port until the block ends,
    then drains it and checks it stopped cleanly."""
    path = tmp / f"function_{next(_names)}.py"
    path.write_text(textwrap.dedent(source))
    config = Config.from_env({"PORT": "0", "MOTIF_HOST": "127.0.0.1", **env})
    server = Server(config, Function.load(str(path)), time.monotonic())
    loop = asyncio.get_running_loop()
    listening: asyncio.Future[tuple[str, int]] = loop.create_future()
    stop = asyncio.Event()
    task = loop.create_task(server.run(listening, stop))
    port = (await asyncio.wait_for(listening, 5))[1]
    while server.dispatcher.state != READY:
        assert not task.done(), "the server stopped before it turned ready"
        await asyncio.sleep(0.005)
    served = Served(port, server, stop, task)
    try:
        yield served
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 15) == 0
        server.executor.shutdown(wait=False, cancel_futures=True)


def pytest_pyfunc_call(pyfuncitem):  # type: ignore[no-untyped-def]
    """Runs `async def` tests on a fresh event loop (no plugin needed)."""
    if asyncio.iscoroutinefunction(pyfuncitem.obj):
        names = pyfuncitem._fixtureinfo.argnames
        asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
        return True
    return None
