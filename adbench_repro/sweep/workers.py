"""Worker-pool sizing: how many jobs run at once and how many torch/BLAS threads each gets."""

from __future__ import annotations

import _thread
import gc
import multiprocessing
import os
import signal
import threading
import time
from typing import Callable, Sequence

from ..overrides import override_key

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                   "NUMEXPR_NUM_THREADS")


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def pool_size(n_jobs: int | None, threads_per_job: int | None, n_tasks: int,
              cores: int | None = None) -> tuple[int, int]:
    """``(workers, threads per worker)`` for ``n_tasks`` jobs.

    ``n_jobs`` None or <= 0 means one worker per core (``-1``: all cores, ``-2``: all but one, as
    in joblib). ``threads_per_job`` None means ``cores // workers`` (at least 1), so that workers x
    threads = cores.
    """
    cores = cores or available_cores()
    if n_jobs is None or n_jobs == 0:
        n = cores
    elif n_jobs < 0:
        n = max(1, cores + 1 + n_jobs)
    else:
        n = int(n_jobs)
    workers = max(1, min(n, max(1, n_tasks)))
    if threads_per_job is None:
        threads = max(1, cores // workers)
    elif int(threads_per_job) < 1:
        raise ValueError(f"hydra.launcher.threads_per_job must be >= 1 or null, got {threads_per_job}")
    else:
        threads = int(threads_per_job)
    return workers, threads


def worker_env(threads: int) -> dict[str, str]:
    """Environment for a worker: ``ADBENCH_THREADS`` (read by the runner when ``threads=auto``)
    and the usual BLAS/OpenMP thread variables."""
    env = {"ADBENCH_THREADS": str(threads)}
    env.update({k: str(threads) for k in THREAD_ENV_VARS})
    return env


def _process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:  # Linux: a killed parent not yet reaped is a zombie ('Z'), i.e. gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


class ParentGone(KeyboardInterrupt):
    """Raised in a busy worker whose sweep process died: the run in progress ends KILLED, never counted."""


def _raise_parent_gone(signum, frame) -> None:
    raise ParentGone("the sweep process is gone")


def watch_parent(sweep_pid: int, busy: Callable[[], bool] = lambda: True, interval_s: float = 1.0,
                 grace_s: float = 10.0) -> threading.Thread:
    """End this worker when the sweep process ``sweep_pid`` dies (``kill -9``, ``pkill``, a lost SLURM step).

    A daemon thread checks every ``interval_s`` that the sweep process lives and that this process still
    has its parent (a forkserver exits with the sweep). When either is gone, an idle worker (``busy()``
    false) exits at once; a busy one gets SIGUSR1, which raises :class:`ParentGone` (a KeyboardInterrupt)
    in its main thread, even inside a blocking call, so the run in progress ends KILLED; the process
    exits after ``grace_s`` at the latest. Call it from the main thread (it installs the SIGUSR1
    handler; SIGINT would not do: a sweep started in the background with ``&`` ignores it).
    """
    parent = os.getppid()
    usr1 = getattr(signal, "SIGUSR1", None)
    if usr1 is not None and threading.current_thread() is threading.main_thread():
        signal.signal(usr1, _raise_parent_gone)
    else:
        usr1 = None

    def loop() -> None:
        while os.getppid() == parent and _process_alive(sweep_pid):
            time.sleep(interval_s)
        if not busy():
            os._exit(0)
        if usr1 is not None:  # a real signal also wakes a main thread blocked in a system call
            os.kill(os.getpid(), usr1)
        else:
            _thread.interrupt_main()
        time.sleep(grace_s)
        os._exit(1)

    t = threading.Thread(target=loop, name="adbench-watch-parent", daemon=True)
    t.start()
    return t


#: modules a forkserver imports once for all workers (importing them creates no CUDA or MLflow state);
#: the last one warms up what the workers would each do lazily (see ``adbench_repro.sweep.warmup``)
FORKSERVER_PRELOAD = ("adbench_repro.run", "adbench_repro.devices", "threadpoolctl", "torch", "mlflow.tracking",
                      "sklearn.neural_network", "adbench_repro.detectors", "adbench_repro.augmenters", "catboost",
                      "xgboost", "pyod.models.xgbod", "adbench_repro.sweep.warmup")


def start_forkserver(preload: Sequence[str] = FORKSERVER_PRELOAD) -> bool:
    """Start multiprocessing's forkserver now, importing ``preload`` (seconds of imports that then
    overlap with whatever this process does next); False where forkserver is unavailable (Windows).
    Idempotent: a running server is kept (its preload list cannot change any more)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))
    # the server re-runs the __main__ module after preloading it, and runpy warns about that harmless
    # double import: silence that one warning in the server only
    saved = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [saved, "ignore::RuntimeWarning:runpy"]))
    try:
        forkserver.ensure_running()
    finally:
        if saved is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = saved
    return True


def forkserver_wanted(argv: Sequence[str]) -> bool:
    """Whether a ``python -m adbench_repro.run`` command line is a multirun that will use the default
    pool launcher with a forkserver and the default preload, so the server can start before Hydra does."""
    args = list(argv)
    if "-m" not in args and "--multirun" not in args:
        return False
    for a in args:
        key, value = override_key(a), a.partition("=")[2]
        if key == "hydra/launcher" and value not in ("local", "adbench_pool"):
            return False
        if (key == "hydra.launcher.n_jobs" and value.strip() == "1") or key == "hydra.launcher.preload":
            return False
        if key == "hydra.launcher.start_method" and value != "forkserver":
            return False
        if key == "hydra.sweeper.dry_run" and value.lower() == "true":
            return False
    return True


def study_cli_wants_forkserver(argv: Sequence[str]) -> bool:
    """:func:`forkserver_wanted` for a ``python -m adbench_repro.reproduce`` command line (which runs its
    multirun in-process): not for ``--dry-run``/``--help`` or ``--jobs 1``."""
    args = list(argv)
    if any(a in ("--dry-run", "-h", "--help") for a in args):
        return False
    for i, a in enumerate(args):
        value = a.split("=", 1)[1] if a.startswith("--jobs=") else (args[i + 1] if a == "--jobs" and i + 1 < len(args)
                                                                      else None)
        if value is not None and value.strip() == "1":
            return False
    return forkserver_wanted(["-m", *args])


def freeze_heap() -> None:
    """Collect garbage, then move every live object to the GC's permanent generation (``gc.freeze``):
    the libraries' import-time heap (torch, MLflow, sklearn, ...: about a million objects) is then no
    longer traversed by each full collection, which otherwise cost a worker ~40 ms per job. Called by
    the forkserver after its warm-up (workers inherit the frozen heap without copying its pages) and
    by the pool launcher; ``gc.unfreeze()`` undoes it."""
    gc.collect()
    gc.freeze()
