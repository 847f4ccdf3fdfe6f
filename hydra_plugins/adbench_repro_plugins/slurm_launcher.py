"""``hydra/launcher=adbench_slurm``: submitit's SLURM launcher, made to survive lost tasks.

* Jobs go out as job arrays of at most ``max_array_size`` tasks (SLURM's default MaxArraySize is 1001),
  all submitted at once; ``array_parallelism`` caps the tasks of each array running together.
* One ``sacct`` per ``poll_s`` reads every task's state; each task is reported as it ends (with an ETA). A task
  that SLURM cancelled, timed out, killed for memory or lost with its node is at once a failed job with its
  SLURM state and log folder, never a traceback. An sbatch refusal is one line naming the setting to change.
* In each task, SIGTERM and SIGUSR2 (scancel, preemption, the time limit) end the run in progress KILLED.
* Ctrl-C (or SIGTERM) of the submitting process cancels the tasks not yet ended (one ``scancel``).

Needs the ``slurm`` extra (``hydra-submitit-launcher``); without it this launcher is not registered.
"""

import contextlib
import io
import logging
import re
from collections import defaultdict
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn
from omegaconf import OmegaConf

from adbench_repro import interrupts
from adbench_repro.sweep.progress import JobFailed, ReportsProgress, failed_return
from adbench_repro.validate import ConfigError

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
    """One line per sbatch that :class:`AdbenchSlurmLauncher` would submit for ``n_jobs`` jobs (submitit submits
    a single task as a plain job, and caps an array's parallelism at its size)."""
    chunks = array_chunks(n_jobs, max_array_size)
    return [f"job {k + 1}/{len(chunks)}: job #{first + r.start} (sbatch: a plain job, 1 task)" if len(r) == 1 else
            f"array {k + 1}/{len(chunks)}: jobs #{first + r.start}-#{first + r.stop - 1} (sbatch --array=0-{len(r) - 1}"
            f"%{min(len(r), parallelism or len(r))}: {len(r)} tasks, at most {min(len(r), parallelism or len(r))} at once)"
            for k, r in enumerate(chunks)]


#: SLURM's refusals (sbatch's errors, or why squeue says a task will never start) -> the setting to change
REFUSALS = (("CPU count per node", "lower hydra.launcher.cpus_per_task (now {cpus_per_task}) to the CPUs of a node "
             "(sinfo -o %c)"),
            ("Memory specification", "lower hydra.launcher.mem_gb (now {mem_gb}) to a node's memory (sinfo -o %m)"),
            ("job array", "set hydra.launcher.max_array_size (now {max_array_size}) below the cluster's MaxArraySize "
             "(scontrol show config | grep MaxArraySize)"),
            ("PartitionConfig", "lower hydra.launcher.cpus_per_task (now {cpus_per_task}), mem_gb (now {mem_gb}) or "
             "gpus_per_node (now {gpus_per_node}) to what a node of the partition has (sinfo -o '%c %m %G')"),
            ("PartitionTimeLimit", "lower hydra.launcher.timeout_min (now {timeout_min}) to the partition's MaxTime"))
#: squeue reasons of a pending task that SLURM will never start
NEVER = ("PartitionConfig", "PartitionTimeLimit", "PartitionNodeLimit", "BadConstraints")


def refusal(text: str, settings: dict) -> str:
    """One line for a refusal: SLURM's own error (``sbatch: error: ...`` lines of ``text``) and the setting to change."""
    errors = re.findall(r"sbatch: error: ([^\n]+)", text) or text.strip().splitlines()[-1:]
    said = "; ".join(dict.fromkeys(e.strip() for e in errors))
    fix = next((f.format_map(defaultdict(lambda: "?", settings)) for key, f in REFUSALS if key.lower() in said.lower()),
               "check hydra.launcher.partition, cpus_per_task, mem_gb, gpus_per_node and timeout_min against sinfo")
    return f"SLURM refused the sweep's job: {said}: {fix}"


def never_starts(arrays: list[str]) -> Optional[str]:
    """Why SLURM will never start a pending task of ``arrays`` (one ``squeue``), or None."""
    try:
        out = subprocess.run(["squeue", "-h", "-o", "%r", "-j", ",".join(arrays)], capture_output=True, text=True,
                             timeout=60).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return next((r for r in NEVER if r in out), None)


def lost_task(job: Any, overrides: Sequence[str], state: str) -> JobReturn:
    """The failed ``JobReturn`` of a task that produced no result (cancelled, timed out, OOM, node lost)."""
    return failed_return(overrides, JobFailed(f"SLURM task {job.job_id} {state}: it produced no result (see its log)"),
                         str(Path(str(job.paths.stdout)).parent))


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
            self.progress, self._collected = None, {}

        def __call__(self, *args: Any, **kwargs: Any) -> JobReturn:
            interrupts.interrupt_on_signals()  # in the task: scancel/preemption/time limit end the run KILLED
            return super().__call__(*args, **kwargs)

        def __getstate__(self) -> dict:  # pickled into every task: without the sweep's progress
            return {**self.__dict__, "progress": None, "_collected": {}}

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
            from submitit.core.utils import FailedJobError

            executor = self._executor()
            Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
            args = [(list(o), "hydra.sweep.dir", initial_job_idx + i, f"job_id_for_{initial_job_idx + i}",
                     Singleton.get_state()) for i, o in enumerate(job_overrides)]
            jobs: list = []
            self._collected = {}
            try:
                for line, chunk in zip(self.plan(len(args), initial_job_idx),
                                       array_chunks(len(args), self.max_array_size)):
                    try:  # sbatch's stderr, which submitit echoes, comes back in its error or as a warning
                        with contextlib.redirect_stderr(io.StringIO()) as said:
                            submitted = executor.map_array(self, *zip(*args[chunk.start:chunk.stop]))
                    except FailedJobError as exc:
                        raise ConfigError(refusal(str(exc), self._settings())) from None
                    if said.getvalue().strip():
                        log.warning("%s", said.getvalue().strip())
                    jobs.extend(submitted)
                    log.info("submitted %s: SLURM job %s", line, submitted[0].job_id.split("_")[0])
                return self._collect(jobs, job_overrides, initial_job_idx)
            except BaseException as exc:  # Ctrl-C, SIGTERM, a refusal: the tasks left would run on unwatched
                self._cancel(jobs, job_overrides, initial_job_idx, report=isinstance(exc, KeyboardInterrupt))
                raise

        def _cancel(self, jobs: list, job_overrides, first: int, report: bool) -> None:
            """One scancel for every array; with ``report``, the tasks running are reported killed (their runs end
            KILLED), those that ended meanwhile collected, the pending ones left."""
            if report:
                interrupts.exit_on_next_signal()
            todo = [i for i in range(len(jobs)) if i not in self._collected]
            arrays = sorted({jobs[i].job_id.split("_")[0] for i in todo})
            try:
                arrays and subprocess.run(["scancel", *arrays], check=False, capture_output=True, timeout=60)
            except (OSError, subprocess.SubprocessError) as exc:
                log.warning("could not cancel SLURM job(s) %s: %s", " ".join(arrays), exc)
            for i in todo if report else []:
                state = jobs[i].watcher.get_state(jobs[i].job_id, mode="cache")
                if jobs[i].paths.result_pickle.exists():
                    self._take(i, jobs, job_overrides, first, "COMPLETED")
                elif state in ("RUNNING", "COMPLETING"):
                    self._killed(first + i, job_overrides[i], f"SLURM task {jobs[i].job_id} cancelled while running")

        def _collect(self, jobs: list, job_overrides: Sequence[Sequence[str]], first: int) -> List[JobReturn]:
            """Poll all tasks' states with one sacct per ``poll_s`` and collect each ended task's result at once."""
            pending = set(range(len(jobs)))
            while pending:
                jobs[0].watcher.update()  # one sacct for every array of the sweep
                states = {i: jobs[i].watcher.get_state(jobs[i].job_id, mode="cache") for i in pending}
                reason = "PENDING" in states.values() and never_starts(sorted({j.job_id.split("_")[0] for j in jobs}))
                if reason:  # e.g. more CPUs per task than a node has: sbatch took it, but it would wait forever
                    raise ConfigError(refusal(f"sbatch: error: its tasks stay PENDING ({reason})", self._settings()))
                for i in sorted(pending):
                    if jobs[i].paths.result_pickle.exists() or jobs[i].watcher.is_done(jobs[i].job_id, mode="cache"):
                        self._take(i, jobs, job_overrides, first, states[i])
                        pending.discard(i)
                if pending:
                    time.sleep(self.poll_s)
            return [self._collected[i] for i in range(len(jobs))]

        def _settings(self) -> dict:
            return {**self.params, "max_array_size": self.max_array_size}

        def _take(self, i: int, jobs: list, job_overrides, first: int, state: str) -> None:
            job = jobs[i]
            if job.paths.result_pickle.exists() or state == "COMPLETED":  # COMPLETED: its result may lag on NFS
                try:
                    ret = job.results()[0]
                except Exception as exc:  # noqa: BLE001 - UncompletedJobError, FailedJobError, ...
                    ret = lost_task(job, job_overrides[i], f"{state}, {type(exc).__name__}")
            else:
                ret = lost_task(job, job_overrides[i], state)
            self._collected[i] = ret
            self._report(first + i, ret)
