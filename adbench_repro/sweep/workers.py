"""Worker-pool sizing: how many jobs run at once and how many torch/BLAS threads each gets."""

from __future__ import annotations

import os

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
