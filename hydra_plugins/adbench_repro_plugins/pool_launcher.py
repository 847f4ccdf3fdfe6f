"""``hydra/launcher=adbench_pool``: run a sweep's jobs in a pool of reused worker processes.

Each worker (a spawned process) imports the code once and then runs job after job; workers x threads
per worker = cores (``ADBENCH_THREADS`` and the BLAS/OpenMP variables are set in the workers). Each job
is reported to the sweep's progress as it completes. A job that raises comes back as a FAILED
``JobReturn``; a worker that dies (OOM, signal) fails its jobs' attempt and they are retried once in a
fresh pool. A worker whose sweep process dies stops (``sweep.workers.watch_parent``). With one worker
the jobs run in this process. Ctrl-C or SIGTERM: no further job starts, the runs in progress end KILLED, and
the sweeper prints the summary; a second one exits at once.
"""

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence
from unittest import mock

from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, configure_log, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict

from adbench_repro import interrupts
from adbench_repro.sweep.progress import JobFailed, ReportsProgress, as_job_failed, failed_return, job_output_dir
from adbench_repro.sweep import workers
from adbench_repro.sweep.workers import pool_size, watch_parent, worker_env

log = logging.getLogger(__name__)


@dataclass
class PoolLauncherConf:
    _target_: str = "hydra_plugins.adbench_repro_plugins.pool_launcher.PoolLauncher"
    # concurrent jobs; null = one per core (-1 all cores, -2 all but one)
    n_jobs: Optional[int] = None
    # torch/BLAS threads per job; null = cores // workers
    threads_per_job: Optional[int] = None
    # tries per job when its worker process dies (a job that raises is never retried)
    max_attempts: int = 2


ConfigStore.instance().store(group="hydra/launcher", name="adbench_pool", node=PoolLauncherConf,
                             provider="adbench_repro")


def _run(idx: int, overrides: Sequence[str], hydra_context: HydraContext, config: DictConfig,
         task_function: TaskFunction) -> JobReturn:
    """Compose job ``idx`` and run it with Hydra's ``run_job``; any error becomes a FAILED return."""
    try:
        sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
        with open_dict(sweep_config):
            sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
            sweep_config.hydra.job.num = idx
        HydraConfig.instance().set_config(sweep_config)
        ret = run_job(hydra_context=hydra_context, config=sweep_config, task_function=task_function,
                      job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
    except Exception as exc:  # noqa: BLE001 - composition/setup errors fail this job only
        ret = failed_return(overrides, exc)
    if ret.status == JobStatus.FAILED:
        failed = as_job_failed(ret._return_value)
        logging.getLogger("adbench_repro.sweep").error("job #%d failed: %s\n%s", idx, " ".join(overrides),
                                                       failed.details)
        ret.return_value = failed
    ret.working_dir = job_output_dir(ret)  # the job's own folder (its log), named by the failure summary
    return ret


def _worker_init(context: bytes, env: dict) -> None:
    """Worker start-up: the sweep's thread settings and context, and a watch on the sweep process. The
    context is kept in ``sweep.workers``, not here: Hydra's plugin scan re-executes this module."""
    import cloudpickle

    os.environ.update(env)
    workers.CONTEXT[:] = cloudpickle.loads(context)
    watch_parent()


def _pool_job(idx: int, overrides: Sequence[str]) -> Optional[JobReturn]:
    """Worker side: run one job; send back what the sweep reads, not the (large) configs. None: not started,
    the sweep is stopping."""
    hydra_context, config, task_function, singleton_state = workers.CONTEXT
    setup_globals()
    Singleton.set_state(singleton_state)
    with interrupts.busy():
        if interrupts.stopping():  # a signal came while idle
            return None
        ret = _run(idx, overrides, hydra_context, config, task_function)
    ret.hydra_cfg = ret.cfg = None
    return ret


class PoolLauncher(Launcher, ReportsProgress):
    """Runs jobs concurrently in ``n_jobs`` reused processes and reports each as it completes."""

    def __init__(self, n_jobs: Optional[int] = None, threads_per_job: Optional[int] = None,
                 max_attempts: int = 2) -> None:
        if int(max_attempts) < 1:
            raise ValueError(f"hydra.launcher.max_attempts must be >= 1, got {max_attempts}")
        self.n_jobs, self.threads_per_job, self.max_attempts = n_jobs, threads_per_job, int(max_attempts)
        self.config: Optional[DictConfig] = None
        self.hydra_context: Optional[HydraContext] = None
        self.task_function: Optional[TaskFunction] = None
        self.progress = None  # set by the adbench sweeper (ReportsProgress)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        n_workers, threads = pool_size(self.n_jobs, self.threads_per_job, len(job_overrides))
        log.info("launching %d jobs on %d worker(s) x %d thread(s); sweep dir %s", len(job_overrides), n_workers,
                 threads, sweep_dir)
        env = worker_env(threads)
        with mock.patch.dict(os.environ, env):  # for the jobs run here, and inherited by spawned workers
            if n_workers > 1:
                return self._launch_pool(job_overrides, initial_job_idx, n_workers, env)
            results = []
            for i, overrides in enumerate(job_overrides):
                if interrupts.stopping():  # a signal came while the last run was being ended
                    raise KeyboardInterrupt
                try:
                    results.append(_run(initial_job_idx + i, overrides, self.hydra_context, self.config,
                                        self.task_function))
                except KeyboardInterrupt as exc:
                    self._killed(initial_job_idx + i, overrides, exc)
                    raise
                self._report(initial_job_idx + i, results[-1])
            return results

    def _launch_pool(self, job_overrides, initial_job_idx, n_workers, env) -> list[JobReturn]:
        import cloudpickle

        context = cloudpickle.dumps((self.hydra_context, self.config, self.task_function, Singleton.get_state()))
        results: list[Optional[JobReturn]] = [None] * len(job_overrides)
        attempts = [0] * len(job_overrides)
        pending = list(range(len(job_overrides)))
        while pending:
            pool = ProcessPoolExecutor(max_workers=min(n_workers, len(pending)),
                                       mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_worker_init, initargs=(context, env))
            futures = {}
            try:
                for i in pending:
                    attempts[i] += 1
                    futures[pool.submit(_pool_job, initial_job_idx + i, list(job_overrides[i]))] = i
                pending = []
                for fut in as_completed(futures):
                    i = futures[fut]
                    if isinstance(fut.exception(), KeyboardInterrupt):  # its worker alone got a signal
                        self._killed(initial_job_idx + i, job_overrides[i], fut.exception())
                        continue
                    try:
                        ret = fut.result()
                        if ret is None:  # refused by a worker that got a signal while idle: left
                            continue
                    except BrokenProcessPool as exc:
                        if attempts[i] < self.max_attempts:
                            pending.append(i)
                            continue
                        ret = failed_return(job_overrides[i], JobFailed(
                            f"WorkerDied: the worker process running this job exited abruptly "
                            f"({attempts[i]} attempt(s)): {exc}"))
                    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable return value
                        ret = failed_return(job_overrides[i], JobFailed(f"{type(exc).__name__}: {exc}"))
                    results[i] = ret
                    self._report(initial_job_idx + i, ret)
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM of the sweep: stop the pool, its runs end KILLED
                self._stop(pool, futures, results, job_overrides, initial_job_idx)
                raise
            finally:
                _terminate(pool)
                pool.shutdown(wait=True, cancel_futures=True)
            if pending:
                log.warning("a worker process died; retrying %d unfinished job(s) in a fresh pool", len(pending))
                pending.sort()
        return [r for r in results if r is not None]

    def _stop(self, pool, futures: dict, results: list, job_overrides, first: int) -> None:
        """After a signal: start no job, interrupt the running ones (their runs end KILLED), report each job."""
        interrupts.exit_on_next_signal()
        print("[sweep] stopping: no further job starts; the runs in progress end KILLED (a second Ctrl-C or "
              "SIGTERM exits at once)", flush=True)
        running = [f for f in futures if not f.cancel() and not f.done()]
        _terminate(pool)  # each worker gets SIGTERM (after Ctrl-C it already has SIGINT): busy ones end their run
        if wait(running, timeout=60).not_done:
            _terminate(pool, kill=True)  # a run stuck in native code: its lease sees the dead process
        for fut, i in futures.items():
            if results[i] is None and fut.done() and not fut.cancelled():
                if isinstance(fut.exception(), KeyboardInterrupt):
                    self._killed(first + i, job_overrides[i], fut.exception())
                elif fut.exception() is None and fut.result() is not None:
                    results[i] = fut.result()
                    self._report(first + i, results[i])


def _terminate(pool: ProcessPoolExecutor, kill: bool = False) -> None:
    for p in list((getattr(pool, "_processes", None) or {}).values()):
        if p.is_alive():
            p.kill() if kill else p.terminate()
