"""``hydra/sweeper=adbench``: Hydra's basic sweeper plus what long ADBench sweeps need.

* ``dataset=classical`` (``cv``, ``nlp``, mixed with ids: ``dataset=classical,20news_3``) expands to
  the datasets of the family present under the data root; ``glob(...)`` keeps working.
* ``hydra.sweeper.jobs_file=<yaml>`` runs an explicit list of configurations (a study, a union of
  products) as one sweep; command-line overrides apply to every job (``adbench_repro.sweep.joblist``).
* Jobs that fail do not stop the sweep; progress (done/total, failures, elapsed, ETA) is printed as
  jobs complete (per job with the adbench_pool and adbench_slurm launchers, per batch with others), a
  summary at the end, and the sweep exits 1 when any job failed.
* ``skip_finished`` (default: with every launcher but the local pool): configurations already FINISHED in
  the store are not launched (a SLURM task or Ray task each would only skip itself); counted as skipped.
* ``on_elsewhere``: configurations skipped as "being run elsewhere" and not FINISHED at the end of the
  sweep are listed; ``wait`` (default) first waits while their runs are alive, ``fail`` does not wait;
  either way the sweep exits 1 if any is left unfinished. ``ignore`` says nothing.
* Each sweep gets a unique ``sweep_id`` (absolute sweep dir + random suffix), inherited by its jobs.
* The store is checked before any work (one line, exit 2); Ctrl-C or SIGTERM prints the summary (finished,
  skipped, failed, killed, left) and the command that resumes, exit 130.

Whether a configuration is done, or being done by another sweep, is decided by each run itself
(``adbench_repro.lease``), so every launcher gets the same answer.
"""

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import filter_overrides
from omegaconf import OmegaConf

from adbench_repro import interrupts, lease, outputs, plan, tracking
from adbench_repro.provenance import SWEEP_ID_ENV, new_sweep_id
from adbench_repro.datasets import resolve_data_root
from adbench_repro.sweep import leftover
from adbench_repro.sweep import joblist
from adbench_repro.sweep.datasets import rewrite_dataset_override
from adbench_repro.validate import ConfigError
from adbench_repro.sweep.progress import (FAILED, KILLED, SKIPPED, JobOutcome, ReportsProgress, SweepProgress,
                                          outcome_of, varying_keys)

ALREADY_DONE = "already FINISHED (not launched)"


@dataclass
class AdbenchSweeperConf:
    _target_: str = "hydra_plugins.adbench_repro_plugins.adbench_sweeper.AdbenchSweeper"
    # jobs handed to the launcher at once; null = all
    max_batch_size: Optional[int] = None
    # sweep parameters, as in the basic sweeper (e.g. {seed: "0,1,2"})
    params: Optional[Dict[str, str]] = None
    # print the jobs that would be launched and run nothing
    dry_run: bool = False
    # a YAML list of jobs (override lists or mappings) to run instead of a product; CLI overrides apply to each
    jobs_file: Optional[str] = None
    # leave out configurations already FINISHED in the store before launching; null = all launchers but adbench_pool
    skip_finished: Optional[bool] = None
    # configurations skipped as "being run elsewhere" and unfinished at the end: wait | fail | ignore
    on_elsewhere: str = "wait"
    # seconds between checks while waiting for them
    elsewhere_poll_s: float = 10.0


ConfigStore.instance().store(group="hydra/sweeper", name="adbench", node=AdbenchSweeperConf,
                             provider="adbench_repro")
# `dataset=classical|cv|nlp` must compose in the parent of a multirun; the sweeper expands them.
for _family in ("classical", "cv", "nlp"):
    ConfigStore.instance().store(group="dataset", name=_family, node={"name": _family, "family": _family},
                                 provider="adbench_repro")


class AdbenchSweeper(BasicSweeper):
    """Basic sweeper with dataset families, jobs files, progress and a summary."""

    def __init__(self, max_batch_size: Optional[int] = None, params: Optional[Dict[str, str]] = None,
                 dry_run: bool = False, jobs_file: Optional[str] = None, skip_finished: Optional[bool] = None,
                 on_elsewhere: str = "wait", elsewhere_poll_s: float = 10.0) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.dry_run, self.jobs_file = bool(dry_run), jobs_file
        if on_elsewhere not in leftover.ELSEWHERE_MODES:
            raise ValueError(f"hydra.sweeper.on_elsewhere must be one of {', '.join(leftover.ELSEWHERE_MODES)}, "
                             f"got {on_elsewhere!r}")
        self.skip_finished, self.on_elsewhere, self.elsewhere_poll_s = skip_finished, on_elsewhere, elsewhere_poll_s
        self._client = None

    def _job_list(self, arguments: List[str]) -> list[list[str]]:
        root = resolve_data_root(self.config.get("data", {}).get("root"))
        params_conf = rewrite_dataset_override(self._parse_config() + list(arguments), root)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        jobs = [list(job) for batch in self.split_arguments(parser.parse_overrides(params_conf), None) for job in batch]
        if self.jobs_file:
            jobs = joblist.combine(joblist.read_jobs_file(self.jobs_file), jobs, self.jobs_file)
        return jobs

    def _store(self):
        """``(client, experiment id)`` of the sweep's tracking store, opened once."""
        if self._client is None:
            self._client = tracking.open_experiment(self.config.mlflow)
        return self._client

    def _check_settings(self) -> None:
        m = self.config.get("mlflow", {})
        try:
            lease.check_timing(float(m.get("lease_stale_s", 300)), float(m.get("lease_heartbeat_s", 30)))
            tracking.check_store(str(m.get("tracking_uri", "")), str(m.get("experiment_name", "")))
        except ConfigError as exc:  # lease timing, an unusable store
            print(f"error: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None

    def _wants_skip_finished(self, jobs: list[list[str]]) -> bool:
        if self.skip_finished is not None:
            return bool(self.skip_finished)
        forced = bool(self.config.get("force", False)) or any(t.replace(" ", "") == "force=true" for j in jobs for t in j)
        return not forced and type(self.launcher).__name__ != "PoolLauncher"

    def _leave_out_finished(self, jobs: list[list[str]], progress: SweepProgress) -> list[list[str]]:
        """Jobs whose configuration is not FINISHED in the store; the others are counted as skipped."""
        if not jobs or not self._wants_skip_finished(jobs):
            return jobs
        loader = self.hydra_context.config_loader
        planned = plan.compose(jobs, composer=lambda ov: loader.load_sweep_config(self.config, ov))
        hashes = [p.config_hash for p in planned]
        client, exp_id = self._store()
        done = lease.done(client, exp_id, planned, outputs.required(self.config))  # held-out signals asked for?
        left = [j for j, h in zip(jobs, hashes) if h not in done]
        for i, (j, h) in enumerate(zip(jobs, hashes)):
            if h in done:
                progress.add(JobOutcome(i, " ".join(filter_overrides(j)), SKIPPED, ALREADY_DONE), pre_done=True,
                             quiet=True)
        progress.emit(f"[sweep] {len(jobs) - len(left)} of {len(jobs)} job(s) already FINISHED in "
                      f"{self.config.mlflow.tracking_uri}: not launched; {len(left)} to launch")
        return left

    def _elsewhere(self, returns: list, progress: SweepProgress) -> dict[str, str]:
        skipped = {}
        for results in returns:
            for r in results:
                v = r._return_value if r.status.name == "COMPLETED" else None
                if isinstance(v, dict) and v.get("reason") == "being run elsewhere":
                    skipped[str(v["run_id"])] = " ".join(filter_overrides(list(r.overrides or [])))
        if not skipped or self.on_elsewhere == "ignore":
            return {}
        client, _ = self._store()
        return leftover.unfinished_elsewhere(client, skipped, float(self.config.mlflow.get("lease_stale_s", 300)),
                                             self.on_elsewhere, self.elsewhere_poll_s, progress.emit)

    def sweep(self, arguments: List[str]) -> Any:
        jobs = self._job_list(arguments)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        if self.jobs_file:  # the sweep dir keeps the job list it ran, next to multirun.yaml
            joblist.write_jobs_file(sweep_dir / "jobs.yaml", jobs)
        os.environ[SWEEP_ID_ENV] = new_sweep_id(str(sweep_dir))  # inherited by every job's process
        progress = SweepProgress(total=len(jobs), show_keys=varying_keys(jobs) or None)
        self._check_settings()
        progress.emit(f"[sweep] {len(jobs)} job(s); sweep dir {sweep_dir}; sweep_id {os.environ[SWEEP_ID_ENV]}")
        jobs = self._leave_out_finished(jobs, progress)
        size = self.max_batch_size or len(jobs) or 1
        if self.dry_run:
            for job in jobs:
                progress.emit(f"[sweep] would run: {' '.join(filter_overrides(job))}")
            for start in range(0, len(jobs), size) if hasattr(self.launcher, "plan") else []:
                for line in self.launcher.plan(len(jobs[start:start + size]), start):
                    progress.emit(f"[sweep] would submit {line}")
            progress.emit(f"[sweep] dry run: {len(jobs)} job(s) to launch; each skips itself if its configuration "
                          "is FINISHED or running in the store by then")
            return []
        reports_each = isinstance(self.launcher, ReportsProgress)
        if reports_each:
            self.launcher.progress = progress
        returns = []
        try:
            for start in range(0, len(jobs), size):
                results = self.launcher.launch(jobs[start:start + size], initial_job_idx=start)
                if not reports_each:
                    for i, r in enumerate(results):
                        progress.add(outcome_of(start + i, r))
                returns.append(results)
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM: what is done stays done; the rerun does the rest
            interrupts.exit_on_next_signal("[sweep] second interrupt: exiting now")
            # the command that resumes: this one, or the one that started it (reproduce sets it)
            resume = os.environ.get("ADBENCH_RESUME_COMMAND") or f"python -m adbench_repro.run {shlex.join(sys.argv[1:])}"
            progress.emit(progress.summary())
            progress.emit(f"[sweep] {interrupts.error_tag(exc)}: FINISHED runs are kept; resume with: {resume}")
            raise SystemExit(130) from None
        except ConfigError as exc:  # e.g. sbatch refusing the launcher's settings
            print(f"error: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None
        unfinished = self._elsewhere(returns, progress)
        progress.emit(progress.summary())
        for what, state in unfinished.items():
            progress.emit(f"[sweep]   NOT FINISHED (skipped as being run elsewhere, now {state}): {what}")
        if unfinished:
            progress.emit(f"[sweep] {len(unfinished)} configuration(s) skipped as being run elsewhere are not "
                          "FINISHED: rerun the sweep to run them")
        if progress.count(FAILED) + progress.count(KILLED) or unfinished:  # the summary says what and where: no traceback
            raise SystemExit(1)
        return returns
