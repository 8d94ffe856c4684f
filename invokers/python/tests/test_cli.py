"""`python3 -m motif` as a process: start-up failures, JSON logs, SIGTERM."""

import http.client
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PACKAGE = str(Path(__file__).resolve().parents[1])
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def start(tmp_path: Path, source: str, **env: str) -> subprocess.Popen:
    path = tmp_path / "function.py"
    path.write_text(textwrap.dedent(source))
    return subprocess.Popen(
        [sys.executable, "-m", "motif", str(path)],
        env={**os.environ, "PYTHONPATH": PACKAGE, "PORT": "0", "MOTIF_HOST": "127.0.0.1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def listening(process: subprocess.Popen) -> tuple[int, str]:
    """The port and the whole first log line (`listening`)."""
    line = process.stderr.readline()
    addr = json.loads(line)["addr"] if line.startswith("{") else line.split("addr=")[1].split()[0]
    return int(addr.rsplit(":", 1)[1]), line


def test_a_failing_init_hook_exits_non_zero_with_its_message(tmp_path):
    p = start(tmp_path, "def init():\n    raise RuntimeError('init failed on purpose')\ndef handle(r):\n    return 'x'\n")
    _, stderr = p.communicate(timeout=20)
    assert p.returncode == 1
    assert "init hook failed: RuntimeError: init failed on purpose" in stderr


def test_a_bad_setting_or_module_is_an_error_with_a_hint(tmp_path):
    p = start(tmp_path, "def handle(r):\n    return 'x'\n", MOTIF_TIMEOUT="soon")
    _, stderr = p.communicate(timeout=20)
    assert p.returncode == 1
    assert "error: invalid setting: MOTIF_TIMEOUT=`soon` is not valid" in stderr and "hint:" in stderr
    p = start(tmp_path, "handler = None\n")
    _, stderr = p.communicate(timeout=20)
    assert p.returncode == 1
    assert "has no function `handle`" in stderr


def test_json_logs_are_one_object_a_line_carrying_the_trace_id(tmp_path):
    source = """
    import logging, warnings

    def handle(request):
        print("printed by the function")
        logging.getLogger("fn").info("logged by the function")
        warnings.warn("a warning")
        raise RuntimeError("boom")
    """
    p = start(tmp_path, source, MOTIF_LOG="json", K_REVISION="fn-00001")
    port, first = listening(p)
    assert json.loads(first)["k_revision"] == "fn-00001"
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/", b"x", {"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})
        assert connection.getresponse().status == 500
    finally:
        p.send_signal(signal.SIGTERM)
    stdout, stderr = p.communicate(timeout=20)
    assert p.returncode == 0
    lines = [json.loads(line) for line in (stdout + stderr).splitlines() if line.strip()]
    assert any(line["message"] == "stopped" for line in lines)
    traced = [line for line in lines if line.get("trace_id") == TRACE]
    messages = {line["message"] for line in traced}
    assert {"printed by the function", "logged by the function", "the function raised RuntimeError"} <= messages
    assert any("a warning" in m for m in messages)
    assert any("Traceback" in line.get("exception", "") for line in traced)


def test_sigterm_with_a_sync_handler_still_running_exits_zero_after_the_window(tmp_path):
    source = """
    import time

    def handle(request):
        time.sleep(30)
    """
    p = start(tmp_path, source, MOTIF_DRAIN_SECONDS="1")
    port, _ = listening(p)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/", b"x")
    time.sleep(0.2)
    started = time.monotonic()
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=20)
    assert p.returncode == 0
    assert time.monotonic() - started < 5
