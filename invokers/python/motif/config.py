"""Settings of a function server, read from the environment (CONTRACT.md §1 and §5),
with motif-runtime's names, defaults and checks."""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from typing import NamedTuple

DEFAULT_TIMEOUT = 60
DEFAULT_MAX_BODY = 6 * 1024 * 1024  # AWS Lambda's synchronous payload limit
HOOK_TIMEOUT = 10.0  # CONTRACT.md §6: init and shutdown hooks

_WHOLE = re.compile(r"[0-9]+")


class ConfigError(Exception):
    """A setting with a value that cannot be used."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(f"{name}=`{value}` is not valid: expected {expected}")
        self.name = name


class Config(NamedTuple):
    """Everything the server needs to know, resolved once at start."""

    port: int
    """`$PORT` (default 8080; 0 picks a free port)."""
    host: str
    """`MOTIF_HOST`: the address to bind (default 0.0.0.0, as Knative needs)."""
    kind: str
    """`MOTIF_FUNCTION_KIND`: `http` (default) or `cloudevent`."""
    timeout: float
    """`MOTIF_TIMEOUT` (seconds, default 60): the handler's deadline."""
    concurrency: int
    """`MOTIF_CONCURRENCY` (default 0 = unlimited): requests handled at once."""
    queue: int
    """`MOTIF_QUEUE` (default 10 × concurrency, as Knative's queue-proxy)."""
    max_body: int
    """`MOTIF_MAX_BODY` (bytes, default 6 MiB)."""
    drain: float
    """`MOTIF_DRAIN_SECONDS` (default 30): how long in-flight requests may run on SIGTERM."""
    name: str
    """`MOTIF_FUNCTION_NAME`, else `K_SERVICE`, else `function`."""
    k_service: str | None
    k_configuration: str | None
    k_revision: str | None
    json_logs: bool
    """`MOTIF_LOG=json`: one JSON object a log line."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """Reads settings from `env` (the process environment, or a dict in tests)."""

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value else None

        def whole(name: str, default: int, expected: str) -> int:
            value = get(name)
            if value is None:
                return default
            if not _WHOLE.fullmatch(value.strip()):
                raise ConfigError(name, value, expected)
            return int(value)

        port = whole("PORT", 8080, "a port number 0-65535")
        if port > 65535:
            raise ConfigError("PORT", str(port), "a port number 0-65535")
        host = get("MOTIF_HOST") or "0.0.0.0"
        if not _is_ip(host):
            raise ConfigError("MOTIF_HOST", host, "an IP address")
        kind = get("MOTIF_FUNCTION_KIND") or "http"
        if kind not in ("http", "cloudevent"):
            raise ConfigError("MOTIF_FUNCTION_KIND", kind, "`http` or `cloudevent`")
        timeout = whole("MOTIF_TIMEOUT", DEFAULT_TIMEOUT, "a whole number of seconds above 0")
        if timeout == 0:
            raise ConfigError("MOTIF_TIMEOUT", "0", "a whole number of seconds above 0")
        concurrency = whole("MOTIF_CONCURRENCY", 0, "a whole number (0 = unlimited)")
        k_service = get("K_SERVICE")
        return cls(
            port=port,
            host=host,
            kind=kind,
            timeout=float(timeout),
            concurrency=concurrency,
            queue=whole("MOTIF_QUEUE", 10 * concurrency, "a whole number"),
            max_body=whole("MOTIF_MAX_BODY", DEFAULT_MAX_BODY, "a number of bytes"),
            drain=float(whole("MOTIF_DRAIN_SECONDS", 30, "a whole number of seconds")),
            name=get("MOTIF_FUNCTION_NAME") or k_service or "function",
            k_service=k_service,
            k_configuration=get("K_CONFIGURATION"),
            k_revision=get("K_REVISION"),
            json_logs=(get("MOTIF_LOG") or "").lower() == "json",
        )


def _is_ip(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except OSError:
            pass
    return False
