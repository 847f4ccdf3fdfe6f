"""Worker processes of a local sweep: how many, how many threads each, and stopping with the sweep."""

from __future__ import annotations

import os
import signal
import threading
import time

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

    ``n_jobs`` None or 0 means one worker per core (``-1``: all cores, ``-2``: all but one, as in joblib).
    ``threads_per_job`` None means ``cores // workers`` (at least 1), so that workers x threads = cores.
    """
    cores = cores or available_cores()
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
_busy = threading.Event()


def _on_sigterm(signum, frame) -> None:
    if not _busy.is_set():  # idle between jobs: nothing to record
        os._exit(0)
    raise KeyboardInterrupt(f"signal {signum}")  # the run in progress ends KILLED


def watch_parent(interval_s: float = 1.0, grace_s: float = 10.0) -> None:
    """In a worker (main thread): end this process when its parent, the sweep, dies (``kill -9``, a lost
    SLURM step). SIGTERM, sent by the watch or by the sweep stopping its pool, ends an idle worker at once;
    in a busy one it interrupts the run, which ends KILLED, never counted. Jobs mark themselves busy
    through :func:`busy`."""
    parent = os.getppid()
    signal.signal(signal.SIGTERM, _on_sigterm)

    def loop() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_s)
        os._exit(1)

    threading.Thread(target=loop, name="adbench-watch-parent", daemon=True).start()


class busy:
    """Context manager around a job in a worker (see :func:`watch_parent`)."""

    def __enter__(self) -> None:
        _busy.set()

    def __exit__(self, *exc) -> None:
        _busy.clear()


#: signals that end the run in progress KILLED inside a job's process: SIGTERM (scancel, pkill, a SLURM time
#: limit or preemption, Ray cancelling a task) and SIGUSR2 (submitit's warning before the time limit)
INTERRUPT_SIGNALS = ("SIGTERM", "SIGUSR2")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"{signal.Signals(signum).name} received (cancelled, preempted or out of time)")


def interrupt_on_signals() -> None:
    """In a job's process (main thread only): SIGTERM and SIGUSR2 raise KeyboardInterrupt, so the run in
    progress ends KILLED with an ``error`` tag naming the signal instead of computing on until SIGKILL and
    staying RUNNING. A pool worker's own handler (:func:`watch_parent`) is kept: it does the same when busy."""
    if threading.current_thread() is not threading.main_thread():
        return
    for name in INTERRUPT_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is not _on_sigterm:
            signal.signal(sig, _interrupt)


SWEEP_ID_ENV = "ADBENCH_SWEEP_ID"


def new_sweep_id(sweep_dir: str) -> str:
    """A sweep id unique across machines and sweeps started in the same second: the absolute sweep dir
    plus a random suffix. The sweeper puts it in :data:`SWEEP_ID_ENV`, inherited by every job's process
    (pool workers, joblib, SLURM tasks through sbatch's exported environment)."""
    import uuid

    return f"{os.path.abspath(sweep_dir)}#{uuid.uuid4().hex[:8]}"


def current_sweep_id(sweep_dir: str = "") -> str:
    """The sweep id of this job: :data:`SWEEP_ID_ENV`, else ``sweep_dir`` (a sweep started elsewhere)."""
    return os.environ.get(SWEEP_ID_ENV) or sweep_dir
