"""Worker processes of a local sweep: how many, how many threads each, and stopping with the sweep."""

from __future__ import annotations

import os
import signal
import threading
import time

from .. import interrupts

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                   "NUMEXPR_NUM_THREADS")


def pool_size(n_jobs: int | None, threads_per_job: int | None, n_tasks: int,
              cores: int | None = None) -> tuple[int, int]:
    """``(workers, threads per worker)`` for ``n_tasks`` jobs.

    ``n_jobs`` None or 0 means one worker per core (``-1``: all cores, ``-2``: all but one, as in joblib).
    ``threads_per_job`` None means ``cores // workers`` (at least 1), so that workers x threads = cores.
    """
    # the cores this process may use: its affinity mask where the OS has one (not on macOS, Windows)
    cores = cores or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    n = cores if not n_jobs else (max(1, cores + 1 + n_jobs) if n_jobs < 0 else int(n_jobs))
    workers = max(1, min(n, max(1, n_tasks)))
    if threads_per_job is not None and int(threads_per_job) < 1:
        raise ValueError(f"hydra.launcher.threads_per_job must be >= 1 or null, got {threads_per_job}")
    return workers, int(threads_per_job) if threads_per_job is not None else max(1, cores // workers)


def worker_env(threads: int) -> dict[str, str]:
    """Environment for a worker: ``ADBENCH_THREADS`` (read by the runner when ``threads=auto``)
    and the usual BLAS/OpenMP thread variables."""
    return {"ADBENCH_THREADS": str(threads), **{k: str(threads) for k in THREAD_ENV_VARS}}


#: in a worker: the sweep's (hydra context, config, task function, Hydra singletons), set at start-up
CONTEXT: list = []


def watch_parent(interval_s: float = 1.0, grace_s: float = 10.0) -> None:
    """In a worker (main thread): end this process when its parent, the sweep, dies (``kill -9``, a lost
    SLURM step). Signals (SIGTERM from the watch or from the sweep stopping its pool, Ctrl-C) interrupt the
    job in progress, whose run ends KILLED, and make the worker take no further job
    (:func:`adbench_repro.interrupts.interrupt_on_signals`); jobs mark themselves busy with ``interrupts.busy``."""
    parent = os.getppid()
    interrupts.interrupt_on_signals(worker=True)

    def loop() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        if not interrupts.is_busy():  # idle: nothing to end
            os._exit(0)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_s)
        os._exit(1)

    threading.Thread(target=loop, name="adbench-watch-parent", daemon=True).start()
