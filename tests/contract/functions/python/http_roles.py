"""The contract suite's http roles (tests/contract/roles.toml), chosen by the function's
name, written once with the Python invoker's API: served natively by `python3 -m motif`
(functions/python) and as a wasi:http component (functions/python-wasm).

`handle` is a plain `def`: natively it runs on a worker thread, so `sleep` blocks a
thread and never the event loop.
"""

import os
import time

import motif


def init() -> None:
    """The init roles' hooks (natively only: the Python guest adapter runs no hooks)."""
    role = os.environ.get("MOTIF_FUNCTION_NAME")
    if role == "slow-init":
        time.sleep(1)
    elif role == "failing-init":
        raise RuntimeError("init failed on purpose")


def shutdown() -> None:
    """The shutdown role's hook (natively only)."""
    if os.environ.get("MOTIF_FUNCTION_NAME") == "shutdown-hook":
        print("shutdown hook ran")


def handle(request: motif.Request) -> motif.Response:
    cx = motif.context()
    role = cx.function_name
    if role in ("echo", "slow-init", "failing-init", "shutdown-hook"):
        return motif.Response(request.body, headers={"content-type": "text/plain"})
    if role == "request-info":
        return motif.Response(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "content_type": ", ".join(request.headers.get_all("content-type")),
                "test_header": ", ".join(request.headers.get_all("x-motif-test")),
                "hop": ", ".join(request.headers.get_all("x-hop")),
                "k_service": cx.k_service or "",
                "k_revision": cx.k_revision or "",
                "k_configuration": cx.k_configuration or "",
                "traceparent": cx.traceparent,
            }
        )
    if role == "fail":
        raise RuntimeError("boom")
    if role == "sleep":
        time.sleep(30)
        return motif.Response("slept", headers={"content-type": "text/plain"})
    if role == "slow":
        time.sleep(1)
        return motif.Response("done", headers={"content-type": "text/plain"})
    raise motif.Error(404, f"no role `{role}`")
