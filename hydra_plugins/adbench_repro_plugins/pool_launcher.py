"""``hydra/launcher=adbench_pool``: run a sweep's jobs in a pool of reused worker processes.

Each worker imports the code once and then runs job after job; workers x threads per worker =
cores (``ADBENCH_THREADS`` and the BLAS/OpenMP variables are set in the workers). Jobs report to
the sweep's progress as they complete. A job that raises comes back as a FAILED ``JobReturn``; a
worker that dies (OOM, signal) fails its jobs' attempt and they are retried once in a fresh pool.
With one worker the jobs run in this process (no pool start-up). Workers fork from a forkserver
that imported torch, MLflow and the runner once, so a worker starts in milliseconds.
"""


import gc
import logging
import multiprocessing
import os
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

from adbench_repro.sweep.outcome import job_output_dir
from adbench_repro.sweep.workers import FORKSERVER_PRELOAD, freeze_heap, start_forkserver

log = logging.getLogger(__name__)


#: imported once by the forkserver, inherited by every worker
DEFAULT_PRELOAD = FORKSERVER_PRELOAD


@dataclass
class PoolLauncherConf:
    _target_: str = "hydra_plugins.adbench_repro_plugins.pool_launcher.PoolLauncher"
    # concurrent jobs; null = one per core (-1 all cores, -2 all but one)
    n_jobs: Optional[int] = None
    # torch/BLAS threads per job; null = cores // workers
    threads_per_job: Optional[int] = None
    # how workers start: forkserver (fork from a clean server process that imported `preload` once:
    # workers start in milliseconds) | spawn (each worker imports everything itself)
    start_method: str = "forkserver"
    # modules the forkserver imports once for all workers (no CUDA/MLflow state is created by importing);
    # null = adbench_repro.sweep.workers.FORKSERVER_PRELOAD
    preload: Optional[List[str]] = None
    # tries per job when its worker process dies (a job that raises is never retried)
    max_attempts: int = 2


ConfigStore.instance().store(group="hydra/launcher", name="adbench_pool", node=PoolLauncherConf,
                             provider="adbench_repro")


def _compose_and_run(idx: int, overrides: Sequence[str], hydra_context: HydraContext, config: DictConfig,
                     task_function: TaskFunction, composed: Optional[DictConfig] = None) -> JobReturn:
    """Compose job ``idx`` (unless the sweeper already did: ``composed``) and run it with Hydra's
    ``run_job`` (errors become FAILED returns)."""
    from adbench_repro.sweep.outcome import as_job_failed

    try:
        if composed is not None:
            sweep_config = composed
        else:
            sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
        with open_dict(sweep_config):
            sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
            sweep_config.hydra.job.num = idx
        HydraConfig.instance().set_config(sweep_config)
        ret = run_job(hydra_context=hydra_context, config=sweep_config, task_function=task_function,
                      job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
    except Exception as exc:  # noqa: BLE001 - composition/setup errors fail this job only
        ret = JobReturn(overrides=list(overrides), status=JobStatus.FAILED)
        ret.return_value = exc
    if ret.status == JobStatus.FAILED:
        failed = as_job_failed(ret._return_value)
        logging.getLogger("adbench_repro.sweep").error("job #%d failed: %s\n%s", idx,
                                                       " ".join(overrides), failed.details)
        ret.return_value = failed
    return ret


_CONTEXT_CACHE: dict[int, tuple] = {}
_BUSY = [False]  # this worker is inside a job (read by the parent watchdog)


def _worker_init(env: dict, sweep_pid: int) -> None:
    """Worker start-up: thread settings for this sweep (a forkserver may predate them), and a watchdog
    that ends this worker if the sweep process dies (``kill -9`` of the parent leaves no orphans)."""
    from adbench_repro.sweep.workers import watch_parent

    os.environ.update(env)
    watch_parent(sweep_pid, busy=lambda: _BUSY[0])


def _pool_job(context: bytes, idx: int, overrides: Sequence[str], composed: Optional[bytes] = None) -> JobReturn:
    """Worker side: unpickle the sweep context once per worker, then run one job."""
    import cloudpickle

    key = hash(context)
    if key not in _CONTEXT_CACHE:
        _CONTEXT_CACHE.clear()
        _CONTEXT_CACHE[key] = cloudpickle.loads(context)
    hydra_context, config, task_function, singleton_state = _CONTEXT_CACHE[key]
    setup_globals()
    Singleton.set_state(singleton_state)
    job_cfg = cloudpickle.loads(composed) if composed is not None else None
    _BUSY[0] = True
    try:
        ret = _compose_and_run(idx, overrides, hydra_context, config, task_function, job_cfg)
    finally:
        _BUSY[0] = False
    # send back what the sweep reads (status, return value, overrides, job dir), not the configs: they
    # are large, and Hydra's holds structured-config classes that do not unpickle as the same objects
    ret.working_dir = job_output_dir(ret)  # the job's own folder (its log), which the failure summary names
    ret.hydra_cfg = None
    ret.cfg = None
    return ret


@contextmanager
def _environ(values: dict[str, str]):
    """Set environment variables (inherited by workers started meanwhile), restoring them after."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _stop_idle_workers(pool: ProcessPoolExecutor) -> None:
    """Shut the pool down without waiting for each worker's interpreter teardown (seconds per worker
    with torch loaded). Only called once every job has returned or failed, so the workers are idle:
    runs write to the tracking store synchronously before a job returns, nothing is left to flush.
    Interrupted (Ctrl-C) the workers are terminated too, and their runs stay RUNNING (never counted)."""
    processes = list(getattr(pool, "_processes", {}).values())  # CPython detail; graceful if absent
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=10)
    pool.shutdown(wait=True)


class PoolLauncher(Launcher):
    """Runs jobs concurrently in ``n_jobs`` reused processes and reports each as it completes."""

    def __init__(self, n_jobs: Optional[int] = None, threads_per_job: Optional[int] = None,
                 start_method: str = "forkserver", preload: Optional[Sequence[str]] = DEFAULT_PRELOAD,
                 max_attempts: int = 2) -> None:
        if start_method == "forkserver" and "forkserver" not in multiprocessing.get_all_start_methods():
            start_method = "spawn"  # e.g. Windows
        if start_method not in multiprocessing.get_all_start_methods():
            raise ValueError(f"hydra.launcher.start_method={start_method!r} is not available here; "
                             f"choose one of {multiprocessing.get_all_start_methods()}")
        if int(max_attempts) < 1:
            raise ValueError(f"hydra.launcher.max_attempts must be >= 1, got {max_attempts}")
        self.n_jobs = n_jobs
        self.threads_per_job = threads_per_job
        self.start_method = start_method
        self.preload = [str(m) for m in (DEFAULT_PRELOAD if preload is None else preload)]
        self.max_attempts = int(max_attempts)
        self.config: Optional[DictConfig] = None
        self.hydra_context: Optional[HydraContext] = None
        self.task_function: Optional[TaskFunction] = None
        #: set by the adbench sweeper: receives each JobOutcome as it completes
        self.progress: Any = None
        #: set by the adbench sweeper: job configs it already composed, by tuple(overrides)
        self.composed: dict = {}
        #: tells the adbench sweeper (screen=auto) that jobs it did not compose are composed in the workers
        self.composes_in_workers = True

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function
        if self.start_method == "forkserver" and (self.n_jobs is None or self.n_jobs != 1):
            # start the forkserver now (if `python -m adbench_repro.run -m` or reproduce has not already):
            # it imports `preload` while the sweeper prepares the jobs
            start_forkserver(self.preload)

    def _report(self, idx: int, ret: JobReturn) -> None:
        if self.progress is not None:
            from adbench_repro.sweep.outcome import SKIPPED, outcome_of

            outcome = outcome_of(idx, ret)
            skipped = outcome.status == SKIPPED  # counted in the summary; one line each would drown a resume
            self.progress.add(outcome, pre_done=skipped, quiet=skipped)

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from adbench_repro.sweep.workers import pool_size, worker_env

        setup_globals()
        assert self.config is not None and self.hydra_context is not None and self.task_function is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        workers, threads = pool_size(self.n_jobs, self.threads_per_job, len(job_overrides))
        log.info("launching %d jobs on %d worker(s) x %d thread(s); sweep dir %s", len(job_overrides), workers,
                 threads, sweep_dir)
        for i, overrides in enumerate(job_overrides):
            log.debug("\t#%d : %s", initial_job_idx + i, " ".join(filter_overrides(overrides)))
        # thread settings, plus the sweep's own variables (claims dir, sweep id) for workers forked from
        # a forkserver that started before the sweeper set them
        env = {**{k: v for k, v in os.environ.items() if k.startswith("ADBENCH_SWEEP")}, **worker_env(threads)}
        with _environ(env):
            if workers == 1:
                return self._launch_here(job_overrides, initial_job_idx)
            return self._launch_pool(job_overrides, initial_job_idx, workers, env)

    def _launch_here(self, job_overrides, initial_job_idx) -> list[JobReturn]:
        results = []
        n_modules = 0
        try:
            for i, overrides in enumerate(job_overrides):
                ret = _compose_and_run(initial_job_idx + i, overrides, self.hydra_context, self.config,
                                       self.task_function, self.composed.pop(tuple(overrides), None))
                results.append(ret)
                self._report(initial_job_idx + i, ret)
                if len(sys.modules) > n_modules:  # a job imported libraries: later GC passes skip that heap
                    freeze_heap()
                    n_modules = len(sys.modules)
        finally:
            gc.unfreeze()
        return results

    def _context(self):
        # a forkserver is already running with `preload`: setup() started it (or the command line did)
        return multiprocessing.get_context(self.start_method)

    def _launch_pool(self, job_overrides, initial_job_idx, workers, env) -> list[JobReturn]:
        import cloudpickle

        context = cloudpickle.dumps((self.hydra_context, self.config, self.task_function, Singleton.get_state()))
        freeze_heap()  # this process only collects job results from here on
        try:
            return self._run_pool(context, job_overrides, initial_job_idx, workers, env)
        finally:
            gc.unfreeze()

    def _run_pool(self, context: bytes, job_overrides, initial_job_idx, workers, env) -> list[JobReturn]:
        import cloudpickle

        from adbench_repro.sweep.outcome import JobFailed

        results: list[Optional[JobReturn]] = [None] * len(job_overrides)
        attempts = [0] * len(job_overrides)
        pending = list(range(len(job_overrides)))
        ctx = self._context()
        while pending:
            pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=ctx,
                                       initializer=_worker_init, initargs=(env, os.getpid()))
            try:
                futures = {}
                for i in pending:
                    attempts[i] += 1
                    cfg = self.composed.get(tuple(job_overrides[i]))
                    blob = cloudpickle.dumps(cfg) if cfg is not None else None
                    futures[pool.submit(_pool_job, context, initial_job_idx + i, list(job_overrides[i]), blob)] = i
                pending = []
                not_done = set(futures)
                while not_done:
                    done, not_done = wait(not_done, return_when=FIRST_COMPLETED)
                    for fut in done:
                        i = futures[fut]
                        try:
                            ret = fut.result()
                        except BrokenProcessPool as exc:
                            if attempts[i] < self.max_attempts:
                                pending.append(i)
                                continue
                            ret = self._failed(job_overrides[i], JobFailed(
                                f"WorkerDied: the worker process running this job exited abruptly "
                                f"({attempts[i]} attempt(s)): {exc}"))
                        except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable return value
                            ret = self._failed(job_overrides[i], JobFailed(f"{type(exc).__name__}: {exc}"))
                        results[i] = ret
                        self._report(initial_job_idx + i, ret)
            finally:
                _stop_idle_workers(pool)
            if pending:
                log.warning("a worker process died; retrying %d unfinished job(s) in a fresh pool", len(pending))
                pending.sort()
        for overrides in job_overrides:
            self.composed.pop(tuple(overrides), None)
        return [r for r in results if r is not None]

    @staticmethod
    def _failed(overrides: Sequence[str], exc: BaseException) -> JobReturn:
        ret = JobReturn(overrides=list(overrides), status=JobStatus.FAILED)
        ret.return_value = exc
        return ret
