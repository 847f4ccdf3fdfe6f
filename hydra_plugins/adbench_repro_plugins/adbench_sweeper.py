"""``hydra/sweeper=adbench``: Hydra's basic sweeper plus what long ADBench sweeps need.

* ``dataset=classical`` (``cv``, ``nlp``, mixed with ids: ``dataset=classical,20news_3``) expands to
  the datasets of the family present under the data root; ``glob(...)`` keeps working.
* Screening (``screen``): a configuration whose config hash already has a FINISHED run is not run
  again (unless ``force=true``), a configuration repeated in the sweep (same hash, e.g.
  augmenter=none under several multipliers) runs once, and a composition error fails that job only.
  With the adbench_pool launcher (``screen=auto``) each job is composed in its worker, in parallel
  and while other jobs run; the runner skips FINISHED configs and claims each hash
  (``adbench_repro.sweep.claims``). With other launchers (SLURM) every job is composed in the
  parent before launching, so nothing is submitted for work already done.
* ``hydra.sweeper.jobs_file=<yaml>`` runs an explicit list of configurations (a study, a union of
  products) as one sweep; command-line overrides apply to every job (see ``adbench_repro.sweep.joblist``).
* Jobs are launched longest first (``order: longest_first``, an a-priori cost estimate, see
  ``adbench_repro.sweep.schedule``) so that a pool does not end waiting on one long job; ``as_given``
  keeps the sweep order. The order never changes a result.
* Jobs that fail do not stop the sweep; progress (done/total, failures, elapsed, ETA) is printed as
  jobs complete, a summary at the end, and the sweep exits non-zero when any job failed.
"""


import logging
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, filter_overrides

log = logging.getLogger(__name__)


@dataclass
class AdbenchSweeperConf:
    _target_: str = "hydra_plugins.adbench_repro_plugins.adbench_sweeper.AdbenchSweeper"
    # jobs handed to the launcher at once; null = all
    max_batch_size: Optional[int] = None
    # sweep parameters, as in the basic sweeper (e.g. {seed: "0,1,2"})
    params: Optional[Dict[str, str]] = None
    # do not launch configurations that already have a FINISHED run (the runner would skip them)
    skip_finished: bool = True
    # print the jobs that would be launched (after expansion and skipping) and run nothing
    dry_run: bool = False
    # a YAML list of jobs (override lists or mappings) to run instead of a product; CLI overrides apply to each
    jobs_file: Optional[str] = None
    # launch order: longest_first (estimated cost, best for a worker pool) | as_given
    order: str = "longest_first"
    # where jobs are composed and screened (FINISHED / repeated): parent (all before launching; exact
    # counts up front, nothing submitted for done work: best for SLURM) | workers (each job in its
    # worker, in parallel with running) | auto (workers when the launcher composes there: adbench_pool)
    screen: str = "auto"


ConfigStore.instance().store(group="hydra/sweeper", name="adbench", node=AdbenchSweeperConf,
                             provider="adbench_repro")
# `dataset=classical|cv|nlp` must compose in the parent of a multirun; the sweeper expands them.
for _family in ("classical", "cv", "nlp"):
    ConfigStore.instance().store(group="dataset", name=_family, node={"name": _family, "family": _family},
                                 provider="adbench_repro")


class AdbenchSweeper(BasicSweeper):
    """Basic sweeper with dataset families, pre-launch skipping, failure isolation and progress."""

    def __init__(self, max_batch_size: Optional[int] = None, params: Optional[Dict[str, str]] = None,
                 skip_finished: bool = True, dry_run: bool = False, jobs_file: Optional[str] = None,
                 order: str = "longest_first", screen: str = "auto") -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        if order not in ("longest_first", "as_given"):
            raise ValueError(f"hydra.sweeper.order must be longest_first or as_given, got {order!r}")
        self.skip_finished = bool(skip_finished)
        self.dry_run = bool(dry_run)
        self.jobs_file = jobs_file
        self.order = order
        if screen not in ("auto", "parent", "workers"):
            raise ValueError(f"hydra.sweeper.screen must be auto, parent or workers, got {screen!r}")
        self.screen = screen

    # ------------------------------------------------------------------ helpers
    def _data_root(self):
        from adbench_repro.datasets import resolve_data_root

        root = self.config.get("data", {}).get("root") if self.config is not None else None
        return resolve_data_root(root)

    def _job_list(self, arguments: List[str]) -> list[list[str]]:
        from adbench_repro.sweep.datasets import rewrite_dataset_override

        params_conf = self._parse_config() + list(arguments)
        params_conf = rewrite_dataset_override(params_conf, self._data_root())
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        batches = self.split_arguments(parser.parse_overrides(params_conf), None)
        jobs = [list(job) for batch in batches for job in batch]
        if self.jobs_file:
            from adbench_repro.sweep.joblist import combine, read_jobs_file

            jobs = combine(read_jobs_file(self.jobs_file), jobs, self.jobs_file)
        return jobs

    def _finished_hashes(self) -> set[str]:
        if not self.skip_finished or self.config.get("force", False):
            return set()
        from adbench_repro import tracking
        from adbench_repro.sweep.store import prepare_tracking_store

        store = prepare_tracking_store(self.config, quiet=True)
        return tracking.finished_hashes(*store) if store else set()

    def _screen(self, jobs: list[list[str]], progress) -> list[list[str]]:
        """Compose every job; record composition failures, finished and repeated configs; return the rest."""
        from adbench_repro.confighash import config_hash
        from adbench_repro.sweep.outcome import FAILED, SKIPPED, JobOutcome, error_line

        finished = self._finished_hashes()
        self._composed = {}
        seen: dict[str, int] = {}
        to_run, n_done, n_dup = [], 0, 0
        for k, job in enumerate(jobs):
            shown = " ".join(filter_overrides(job))
            try:
                cfg = self.hydra_context.config_loader.load_sweep_config(self.config, job)
            except Exception as exc:  # noqa: BLE001 - this job fails, the sweep goes on
                progress.add(JobOutcome(-1, shown, FAILED, f"composition failed: {error_line(exc)}"), pre_done=True)
                continue
            try:
                h = config_hash(cfg) if "augmenter" in cfg and "detector" in cfg else None
            except Exception:  # noqa: BLE001 - the runner reports a bad config properly
                h = None
            if h is not None and h in finished:
                progress.add(JobOutcome(-1, shown, SKIPPED, "already FINISHED"), pre_done=True, quiet=True)
                n_done += 1
                continue
            if h is not None and h in seen:  # even with force=true: one run per config per sweep
                progress.add(JobOutcome(-1, shown, SKIPPED, f"same config as job {seen[h]}"), pre_done=True,
                             quiet=True)
                n_dup += 1
                continue
            if h is not None:
                seen[h] = k
            to_run.append(job)
            self._composed[tuple(job)] = cfg
        if n_done or n_dup:
            progress.emit(f"[sweep] not launched: {n_done} configuration(s) already FINISHED in the store, "
                          f"{n_dup} repeated in this sweep (force=true reruns FINISHED ones)")
        if self.order == "longest_first":
            from adbench_repro.sweep.schedule import estimated_cost, longest_first

            order = longest_first([estimated_cost(self._composed[tuple(j)]) for j in to_run])
            to_run = [to_run[i] for i in order]
        return to_run

    def _order_uncomposed(self, jobs: list[list[str]]) -> list[list[str]]:
        """Jobs in launch order, estimated from their overrides (no composing)."""
        if self.order != "longest_first":
            return jobs
        from adbench_repro.sweep.schedule import job_cost, longest_first

        choices = self.config.hydra.runtime.choices
        defaults = {k: str(choices.get(k)) for k in ("dataset", "detector") if choices.get(k) is not None}
        order = longest_first([job_cost(j, defaults) for j in jobs])
        return [jobs[i] for i in order]

    def _screen_in_parent(self) -> bool:
        if self.screen == "auto":
            return not getattr(self.launcher, "composes_in_workers", False)
        return self.screen == "parent"

    # ------------------------------------------------------------------ sweep
    def sweep(self, arguments: List[str]) -> Any:
        from omegaconf import OmegaConf
        from pathlib import Path

        from adbench_repro.sweep.outcome import FAILED, outcome_of
        from adbench_repro.sweep.progress import SweepProgress, varying_keys

        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        jobs = self._job_list(arguments)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        if self.jobs_file:  # the sweep dir keeps the job list it ran, next to multirun.yaml
            from adbench_repro.sweep.joblist import write_jobs_file

            write_jobs_file(sweep_dir / "jobs.yaml", jobs)

        progress = SweepProgress(total=len(jobs), show_keys=varying_keys(jobs) or None)
        progress.emit(f"[sweep] {len(jobs)} job(s); sweep dir {sweep_dir}")
        in_parent = self.dry_run or self._screen_in_parent()
        if in_parent:
            to_run = self._screen(jobs, progress)
        else:  # each job is composed in its worker; the runner skips FINISHED and claimed configs
            from adbench_repro.sweep import claims

            to_run = self._order_uncomposed(jobs)
            self._composed = {}
            saved_claims = os.environ.get(claims.ENV_VAR)
            os.environ[claims.ENV_VAR] = str(claims.new_claims_dir(sweep_dir))
            progress.emit("[sweep] jobs are composed in the workers; configurations already FINISHED in the store "
                          "or repeated in this sweep are skipped there (force=true reruns FINISHED ones)")
        if self.dry_run:
            for job in to_run:
                progress.emit(f"[sweep] would run: {' '.join(filter_overrides(job))}")
            progress.emit(f"[sweep] dry run: {len(to_run)} of {len(jobs)} job(s) would be launched")
            return []
        reports_itself = hasattr(self.launcher, "progress")
        if hasattr(self.launcher, "composed"):  # the pool launcher runs these configs without recomposing
            self.launcher.composed = self._composed
        if reports_itself:
            self.launcher.progress = progress

        size = self.max_batch_size or len(to_run) or 1
        returns: List[Sequence[JobReturn]] = []
        idx = 0
        try:
            for start in range(0, len(to_run), size):
                batch = to_run[start:start + size]
                results = self.launcher.launch(batch, initial_job_idx=idx)
                if not reports_itself:
                    for i, r in enumerate(results):
                        progress.add(outcome_of(idx + i, r))
                idx += len(batch)
                returns.append(results)
        finally:
            if not in_parent:
                if saved_claims is None:
                    os.environ.pop(claims.ENV_VAR, None)
                else:
                    os.environ[claims.ENV_VAR] = saved_claims

        progress.emit(progress.summary())
        n_failed = progress.count(FAILED)
        if n_failed:
            # the summary above says what failed and where its log is: exit 1 without a traceback
            raise SystemExit(1)
        return returns
