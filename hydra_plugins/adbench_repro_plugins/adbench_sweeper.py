"""``hydra/sweeper=adbench``: Hydra's basic sweeper plus what long ADBench sweeps need.

* ``dataset=classical`` (``cv``, ``nlp``, mixed with ids: ``dataset=classical,20news_3``) expands to
  the datasets of the family present under the data root; ``glob(...)`` keeps working.
* ``hydra.sweeper.jobs_file=<yaml>`` runs an explicit list of configurations (a study, a union of
  products) as one sweep; command-line overrides apply to every job (``adbench_repro.sweep.joblist``).
* Jobs that fail do not stop the sweep; progress (done/total, failures, elapsed, ETA) is printed as
  jobs complete (per job with the adbench_pool launcher, per batch with others), a summary at the end,
  and the sweep exits 1 when any job failed.

Whether a configuration is done, or being done by another sweep, is decided by each run itself
(``adbench_repro.lease``), so every launcher gets the same answer.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import filter_overrides
from omegaconf import OmegaConf

from adbench_repro.datasets import resolve_data_root
from adbench_repro.sweep import joblist
from adbench_repro.sweep.datasets import rewrite_dataset_override
from adbench_repro.sweep.progress import FAILED, ReportsProgress, SweepProgress, outcome_of, varying_keys


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


ConfigStore.instance().store(group="hydra/sweeper", name="adbench", node=AdbenchSweeperConf,
                             provider="adbench_repro")
# `dataset=classical|cv|nlp` must compose in the parent of a multirun; the sweeper expands them.
for _family in ("classical", "cv", "nlp"):
    ConfigStore.instance().store(group="dataset", name=_family, node={"name": _family, "family": _family},
                                 provider="adbench_repro")


class AdbenchSweeper(BasicSweeper):
    """Basic sweeper with dataset families, jobs files, progress and a summary."""

    def __init__(self, max_batch_size: Optional[int] = None, params: Optional[Dict[str, str]] = None,
                 dry_run: bool = False, jobs_file: Optional[str] = None) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.dry_run, self.jobs_file = bool(dry_run), jobs_file

    def _job_list(self, arguments: List[str]) -> list[list[str]]:
        root = resolve_data_root(self.config.get("data", {}).get("root"))
        params_conf = rewrite_dataset_override(self._parse_config() + list(arguments), root)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        jobs = [list(job) for batch in self.split_arguments(parser.parse_overrides(params_conf), None) for job in batch]
        if self.jobs_file:
            jobs = joblist.combine(joblist.read_jobs_file(self.jobs_file), jobs, self.jobs_file)
        return jobs

    def sweep(self, arguments: List[str]) -> Any:
        jobs = self._job_list(arguments)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        if self.jobs_file:  # the sweep dir keeps the job list it ran, next to multirun.yaml
            joblist.write_jobs_file(sweep_dir / "jobs.yaml", jobs)
        progress = SweepProgress(total=len(jobs), show_keys=varying_keys(jobs) or None)
        progress.emit(f"[sweep] {len(jobs)} job(s); sweep dir {sweep_dir}")
        if self.dry_run:
            for job in jobs:
                progress.emit(f"[sweep] would run: {' '.join(filter_overrides(job))}")
            progress.emit(f"[sweep] dry run: {len(jobs)} job(s); each skips itself if its configuration is "
                          "FINISHED or running in the store by then")
            return []
        reports_each = isinstance(self.launcher, ReportsProgress)
        if reports_each:
            self.launcher.progress = progress
        size = self.max_batch_size or len(jobs) or 1
        returns = []
        for start in range(0, len(jobs), size):
            results = self.launcher.launch(jobs[start:start + size], initial_job_idx=start)
            if not reports_each:
                for i, r in enumerate(results):
                    progress.add(outcome_of(start + i, r))
            returns.append(results)
        progress.emit(progress.summary())
        if progress.count(FAILED):  # the summary says what failed and where its log is: no traceback
            raise SystemExit(1)
        return returns
