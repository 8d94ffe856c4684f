"""Logs: lines on stderr, or with `MOTIF_LOG=json` one JSON object a line (CONTRACT.md
§1), each carrying the trace id of the call it was written in.

The invoker's own records and the function's (the `logging` module, `warnings`, and with
JSON logs also `print` and anything else written to stdout or stderr) all take this
road, so that a JSON log stream never holds a line that is not JSON.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import time
from typing import Any, TextIO

from motif.context import current

log = logging.getLogger("motif")
"""The invoker's logger; pass structured fields as `extra={"fields": {...}}`."""


def _timestamp(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1e6):06d}Z"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = dict(getattr(record, "fields", None) or {})
    cx = current.get(None)
    if cx is not None:
        fields.setdefault("function", cx.function_name)
        fields.setdefault("trace_id", cx.trace_id)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object a record: timestamp, level, target, message, then the fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "target": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`<time> <LEVEL> <target>: <message> key=value ...`, then any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        line = f"{_timestamp(record.created)} {record.levelname:>5} {record.name}: {record.getMessage()}"
        if fields:
            line = f"{line} {fields}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


class _LineWriter(io.TextIOBase):
    """A stdout or stderr that turns every line written to it into a log record."""

    def __init__(self, stream: str) -> None:
        self._stream = stream
        self._logger = logging.getLogger("function")
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
        for line in lines:
            self._logger.info(line, extra={"fields": {"stream": self._stream}})
        return len(text)

    def flush(self) -> None:
        with self._lock:
            line, self._partial = self._partial, ""
        if line:
            self._logger.info(line, extra={"fields": {"stream": self._stream}})


def setup(json_logs: bool) -> None:
    """Installs the root handler (level INFO) on the real stderr; with JSON logs, stdout
    and stderr become loggers too."""
    stream: TextIO = sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_logs else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    if json_logs:
        sys.stdout = _LineWriter("stdout")
        sys.stderr = _LineWriter("stderr")


def flush() -> None:
    """Writes out what the stdout and stderr stand-ins still hold."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
