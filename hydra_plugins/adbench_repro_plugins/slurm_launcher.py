"""``hydra/launcher=adbench_slurm``: submitit's SLURM launcher, made to survive lost tasks.

* Jobs go out as job arrays of at most ``max_array_size`` tasks (SLURM's default MaxArraySize is 1001),
  all submitted at once; ``array_parallelism`` caps the tasks of each array running together.
* Each task's result is collected as it ends, and reported to the sweep's progress (with an ETA). A task
  that SLURM cancelled, timed out, killed for memory or lost with its node comes back as a failed job with
  its SLURM state and log folder, never as a traceback; the sweep waits for the others.
* In each task, SIGTERM and SIGUSR2 (scancel, preemption, the time limit) end the run in progress KILLED.
* Ctrl-C (or SIGTERM) of the submitting process cancels the tasks not yet ended.

Needs the ``slurm`` extra (``hydra-submitit-launcher``); without it this launcher is not registered.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from omegaconf import OmegaConf

from adbench_repro.sweep.progress import SKIPPED, JobFailed, ReportsProgress, error_line, outcome_of
from adbench_repro.sweep.workers import interrupt_on_signals

log = logging.getLogger(__name__)

try:
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf, SlurmQueueConf
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher
except ImportError:  # the slurm extra is not installed
    SlurmQueueConf = None


def array_chunks(n_jobs: int, max_array_size: int) -> List[range]:
    """Job indices ``0..n_jobs-1`` cut into arrays of at most ``max_array_size`` tasks."""
    if int(max_array_size) < 1:
        raise ValueError(f"hydra.launcher.max_array_size must be >= 1, got {max_array_size}")
    return [range(s, min(s + max_array_size, n_jobs)) for s in range(0, n_jobs, max_array_size)]


def array_plan(n_jobs: int, max_array_size: int, parallelism: Optional[int], first: int = 0) -> List[str]:
    """One line per array that :class:`AdbenchSlurmLauncher` would submit for ``n_jobs`` jobs."""
    cap = f", at most {parallelism} at once" if parallelism else ""
    return [f"array {k + 1}/{len(chunks)}: jobs #{first + r.start}-#{first + r.stop - 1} "
            f"(sbatch --array=0-{len(r) - 1}{'%' + str(parallelism) if parallelism else ''}: {len(r)} tasks{cap})"
            for chunks in [array_chunks(n_jobs, max_array_size)] for k, r in enumerate(chunks)]


def lost_task(job: Any, overrides: Sequence[str], exc: BaseException) -> JobReturn:
    """The failed ``JobReturn`` of a task that produced no result (cancelled, timed out, OOM, node lost)."""
    try:
        state = job.state
    except Exception:  # noqa: BLE001 - sacct not answering
        state = "UNKNOWN"
    ret = JobReturn(overrides=list(overrides), status=JobStatus.FAILED)
    ret.return_value = JobFailed(f"SLURM task {job.job_id} {state}: {error_line(exc)}", str(exc))
    ret.working_dir = str(Path(str(job.paths.stdout)).parent)
    return ret


if SlurmQueueConf is not None:

    @dataclass
    class AdbenchSlurmConf(SlurmQueueConf):
        _target_: str = "hydra_plugins.adbench_repro_plugins.slurm_launcher.AdbenchSlurmLauncher"
        # tasks per job array: at most the cluster's MaxArraySize - 1 (`scontrol show config | grep MaxArraySize`)
        max_array_size: int = 1000
        # seconds between checks of the tasks' states (submitit reads them with sacct)
        poll_s: float = 5.0

    ConfigStore.instance().store(group="hydra/launcher", name="adbench_slurm", node=AdbenchSlurmConf,
                                 provider="adbench_repro")

    class AdbenchSlurmLauncher(SlurmLauncher, ReportsProgress):
        """submitit's SLURM launcher with arrays within the cluster's limit and defensive collection."""

        def __init__(self, max_array_size: int = 1000, poll_s: float = 5.0, **params: Any) -> None:
            super().__init__(**params)
            array_chunks(1, max_array_size)  # validate early
            timeout_s, delay_s = 60 * float(self.params.get("timeout_min") or 0), self.params.get("signal_delay_s")
            if timeout_s and delay_s is not None and timeout_s <= float(delay_s):
                raise ValueError(f"hydra.launcher.timeout_min={self.params['timeout_min']} ({timeout_s:g} s) must exceed "
                                 f"hydra.launcher.signal_delay_s={delay_s}: SLURM would signal the end of every task "
                                 "at its start")
            self.max_array_size, self.poll_s = int(max_array_size), float(poll_s)
            self.progress = None

        def __call__(self, *args: Any, **kwargs: Any) -> JobReturn:
            interrupt_on_signals()  # in the task: scancel/preemption/time limit end the run KILLED
            return super().__call__(*args, **kwargs)

        def __getstate__(self) -> dict:  # pickled into every task: without the sweep's progress
            return {**self.__dict__, "progress": None}

        def plan(self, n_jobs: int, first: int = 0) -> List[str]:
            """What :meth:`launch` would submit for ``n_jobs`` jobs (the sweeper's dry run prints it)."""
            return array_plan(n_jobs, self.max_array_size, self.params.get("array_parallelism"), first)

        def _executor(self):
            import submitit

            init = {"folder": self.params["submitit_folder"]}
            if "max_num_timeout" in self.params:
                init["slurm_max_num_timeout"] = self.params["max_num_timeout"]
            executor = submitit.AutoExecutor(cluster="slurm", **init)
            base = set(OmegaConf.structured(BaseQueueConf).keys())
            executor.update_parameters(**{k if k in base else f"slurm_{k}": v for k, v in self.params.items()
                                          if k not in ("submitit_folder", "max_num_timeout")})
            return executor

        def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
            assert self.config is not None
            executor = self._executor()
            Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
            args = [(list(o), "hydra.sweep.dir", initial_job_idx + i, f"job_id_for_{initial_job_idx + i}",
                     Singleton.get_state()) for i, o in enumerate(job_overrides)]
            jobs: list = []
            try:
                for line, chunk in zip(self.plan(len(args), initial_job_idx),
                                       array_chunks(len(args), self.max_array_size)):
                    submitted = executor.map_array(self, *zip(*args[chunk.start:chunk.stop]))
                    jobs.extend(submitted)
                    log.info("submitted %s as SLURM job %s", line, submitted[0].job_id.split("_")[0])
                return self._collect(jobs, job_overrides, initial_job_idx)
            except BaseException:  # Ctrl-C, SIGTERM: the tasks left would run on with nobody watching
                for job in jobs:
                    try:
                        if not job.done():
                            job.cancel(check=False)
                    except Exception:  # noqa: BLE001 - best effort
                        pass
                raise

        def _collect(self, jobs: list, job_overrides: Sequence[Sequence[str]], first: int) -> List[JobReturn]:
            results: List[Optional[JobReturn]] = [None] * len(jobs)
            pending = set(range(len(jobs)))
            while pending:
                for i in sorted(pending):
                    if not jobs[i].done():
                        continue
                    try:
                        ret = jobs[i].results()[0]
                    except Exception as exc:  # noqa: BLE001 - UncompletedJobError, FailedJobError, ...
                        ret = lost_task(jobs[i], job_overrides[i], exc)
                    results[i] = ret
                    pending.discard(i)
                    self._report(first + i, ret)
                if pending:
                    time.sleep(self.poll_s)
            return [r for r in results if r is not None]

        def _report(self, idx: int, ret: JobReturn) -> None:
            if self.progress is not None:
                outcome = outcome_of(idx, ret)
                skipped = outcome.status == SKIPPED
                self.progress.add(outcome, pre_done=skipped, quiet=skipped)
            elif ret.status == JobStatus.FAILED:
                log.error("job #%d failed: %s", idx, " ".join(filter_overrides(ret.overrides or [])))
