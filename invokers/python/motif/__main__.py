"""`python3 -m motif MODULE_OR_FILE`: serves a function behind the motif contract on $PORT.

Settings come from the environment as the contract names them (CONTRACT.md §1, §5):
PORT, MOTIF_HOST, MOTIF_FUNCTION_KIND, MOTIF_FUNCTION_NAME, MOTIF_TIMEOUT,
MOTIF_CONCURRENCY, MOTIF_QUEUE, MOTIF_MAX_BODY, MOTIF_DRAIN_SECONDS, MOTIF_LOG, and
Knative's K_SERVICE, K_CONFIGURATION, K_REVISION.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import NoReturn

# When the module started: the cold start's origin where the kernel does not say when
# the process did.
STARTED = time.monotonic()

USAGE = """usage: python3 -m motif MODULE_OR_FILE

Serves MODULE_OR_FILE's `handle` (and its optional `init` and `shutdown` hooks) behind
the motif function contract on $PORT. MODULE_OR_FILE is a path to a .py file or a module
name importable from the current directory. MOTIF_FUNCTION_KIND (http or cloudevent)
says what `handle` takes. See invokers/python/README.md.
"""


def fatal(message: str, hint: str, json_logs: bool) -> NoReturn:
    """Says what went wrong and what to do, and exits 1."""
    if json_logs:
        from motif.log import log

        log.error(message, extra={"fields": {"hint": hint}})
    else:
        print(f"error: {message}\nhint: {hint}", file=sys.stderr)
    leave(1)


def leave(code: int) -> NoReturn:
    """Flushes the logs and exits at once. Not `sys.exit`: a plain-`def` handler still
    running past its timeout would hold the interpreter's exit until it returned."""
    from motif import log

    log.flush()
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> NoReturn:
    """The command line."""
    args = sys.argv[1:] if argv is None else argv
    asked = args in (["-h"], ["--help"])
    if asked or len(args) != 1:
        print(USAGE, file=sys.stdout if asked else sys.stderr, end="")
        sys.exit(0 if asked else 2)
    from motif.config import Config, ConfigError

    try:
        config = Config.from_env(os.environ)
    except ConfigError as e:
        fatal(f"invalid setting: {e}", "see CONTRACT.md §5 for the settings and their units", False)
    from motif import log
    from motif.function import Function, LoadError
    from motif.server import Server

    log.setup(config.json_logs)
    try:
        function = Function.load(args[0])
    except LoadError as e:
        fatal(
            f"cannot load the function: {e}",
            "give a .py file or an importable module that defines `handle`",
            config.json_logs,
        )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    leave(loop.run_until_complete(Server(config, function, STARTED).run()))


if __name__ == "__main__":
    main()
