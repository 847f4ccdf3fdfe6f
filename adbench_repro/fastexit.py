"""End a command-line process without the interpreter's teardown.

With torch, MLflow, SQLAlchemy and Hydra loaded, Python's own shutdown (finalising thousands of
modules) takes 1.5-3 s on a 2-core machine: a fifth of a single ``make run``. Every result is already
durable when a command returns (MLflow writes synchronously, the worker pool is shut down), so the
entry points flush what is buffered and leave with ``os._exit``. Set ``ADBENCH_SLOW_EXIT=1`` to get
the normal shutdown (e.g. when profiling or checking for leaks).
"""

from __future__ import annotations

import logging
import os
import sys


def exit_now(code: int | None) -> None:
    """Flush logs and standard streams, then end the process with ``code`` (0 for None)."""
    code = 0 if code is None else int(code)
    if os.environ.get("ADBENCH_SLOW_EXIT"):
        sys.exit(code)
    try:  # what multiprocessing's own atexit hook does: finalisers (semaphores of a worker pool), children
        from multiprocessing import util

        util._exit_function()
    except Exception:  # noqa: BLE001 - best effort; the OS releases everything anyway
        pass
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed pipe must not change the exit code
            pass
    os._exit(code)
