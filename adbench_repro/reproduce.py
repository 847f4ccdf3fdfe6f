"""Run a paper study (resuming), then rebuild its table: ``python -m adbench_repro.reproduce table1``.

    python -m adbench_repro.reproduce table1 --quick                 # documented small subset, minutes
    python -m adbench_repro.reproduce table1 --detectors deepsad,mlp,catboost,xgbod
    python -m adbench_repro.reproduce table1 --dry-run               # counts and time estimate only

It prints how many runs the study has, how many are done (a current run, by config hash and code
fingerprint, in the committed store ``results/store/`` or in the tracking store), how many are stale (a run
of code that behaves otherwise, per component) and an estimated wall time per detector on this machine
(``--dry-run`` stops there; an estimate over :data:`CONFIRM_ABOVE_S` asks first, or needs ``--yes``). Rows
that need a GPU are left out on a machine without one, with a line saying how to include them. The
configurations left are written to a jobs file and executed as ONE
Hydra multirun of ``python -m adbench_repro.run`` (``hydra.sweeper.jobs_file``) on the default
process-pool launcher; each run skips a configuration that another sweep has FINISHED or is running
meanwhile (:mod:`adbench_repro.lease`);
then, for the paper's and this project's studies (``kind: paper|beyond``), the new runs made from a committed
tree enter the committed store, and the aggregator writes ``results/<study>.md`` from it (``results/quick/``
with ``--quick``; ``--out DIR`` elsewhere). A study of your own (a spec without ``kind: paper|beyond``) writes
under ``results/studies/<name>/`` from the committed store and the tracking store, and never touches the
committed results. Each configuration is composed and hashed once, here (:mod:`.plan`); the jobs and the
aggregator take those hashes.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import statistics
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_dir

from . import interrupts, lease, outputs, paths, plan, store, studies, tracking
from .datasets import dataset_path
from .run import CONF_DIR
from .aggregate.publish import publish_study
from .sweep.joblist import write_jobs_file
from .datasets.catalog import PUBLISHED_SIZE

#: the folder that a study's default output path (:meth:`studies.Study.results_dir`) is relative to; None: the
#: project home (:func:`adbench_repro.paths.results_root`: the checkout, whatever the current folder)
OUTPUT_ROOT = None

#: the one cost model: rough seconds per run on 2 CPU cores for a 10,000-row dataset (ADBench's cap), by
#: detector config, used until the store has timings; a dataset costs its rows (padded to 1,000) / 10,000 of it,
#: times 1 + the training-row budget's fraction where one is set (:func:`budget_factor`)
SECONDS_PER_RUN = {"mlp": 10.0, "catboost": 12.0, "deepsad": 5.0, "deepsad_pretrained": 20.0, "xgbod": 20.0,
                   "fttransformer": 3600.0,
                   # ADBench's detectors the paper left out (issue 32): CPU seconds per run, 1 thread, 2026-12-04,
                   # results/bench/new_detectors.txt (the machine was loaded ~6x, so CPU time, not wall)
                   "devnet": 8.0, "prenet": 6.0, "feawad": 50.0, "rf": 2.0, "lightgbm": 1.5, "xgboost": 1.5}
#: for a detector not listed above
UNKNOWN_DETECTOR_S = 30.0
#: detectors left out on a machine without a GPU unless named with --detectors (or device=cuda is given)
GPU_DETECTORS = ("fttransformer",)
#: an estimate above this (seconds of wall time) asks for confirmation, or needs --yes
CONFIRM_ABOVE_S = 3600.0


def size_factor(dataset: str) -> float:
    """Rows ADBench keeps of ``dataset`` (padded to 1,000, capped at 10,000) over 10,000 (1.0 when unknown)."""
    rows = PUBLISHED_SIZE.get(dataset, (10_000, 0, 0.0))[0]
    return min(max(rows, 1_000), 10_000) / 10_000


def budget_factor(config: dict) -> float:
    """How much larger a configuration's training set is than the paper's: ``1 + budget.fraction_of_train`` with
    a training-row budget (adbench_repro/budget.py), else 1 (the multiplier's few dozen rows are noise)."""
    f = config.get(studies.BUDGET_KEY)
    return 1.0 + float(f) if f is not None and studies.uses_multiplier(config["augmenter"]) else 1.0


def seconds_per_run(client, experiment_id: str) -> tuple[dict[str, float], set[str]]:
    """``(seconds, measured)``: seconds per run on a 10,000-row dataset by detector, the median of the
    FINISHED runs in the store each divided by its dataset's :func:`size_factor` (for the ``measured``
    detectors: those with at least 3 such runs), else the built-in :data:`SECONDS_PER_RUN`.
    Multiply by a dataset's size factor for an estimate."""
    est = dict(SECONDS_PER_RUN)
    measured: set[str] = set()
    samples: dict[str, list[float]] = defaultdict(list)
    runs = tracking.with_retries(client.search_runs, [experiment_id], filter_string="attributes.status = 'FINISHED'",
                                 max_results=2000, order_by=["attributes.start_time DESC"])
    for r in runs:
        m = r.data.metrics
        if "fit_s" in m:
            seconds = sum(m.get(k, 0.0) for k in ("load_s", "generate_s", "fit_s", "score_s")) + 1.0
            samples[r.data.tags.get("detector", "?")].append(seconds / size_factor(r.data.tags.get("dataset", "")))
    for det, xs in samples.items():
        if len(xs) >= 3:
            est[det] = statistics.median(xs)
            measured.add(det)
    return est, measured


def holdout_cost(fraction: float) -> float:
    """A run's cost relative to one without held-out signals: one more generation and fit on ``1 - fraction``
    of the training rows, taken as linear in the rows (``2 - fraction``; 1 when off)."""
    return 2.0 - fraction if fraction > 0 else 1.0


def config_key(config: dict) -> tuple:
    """A configuration's identity as :func:`studies.expand` deduplicates it (values normalised)."""
    return tuple(sorted((k, repr(studies.normalise(v))) for k, v in config.items()))


def expand_all(view: studies.Study, present: list[dict], selected: list[dict]) -> list[dict]:
    """The configurations to hash: every one of ``view`` (what the table covers) whose dataset is present, plus
    the ``selected`` ones (a subset unless filters widen it), deduplicated."""
    have = {c["dataset"] for c in present}
    out = {config_key(c): c for c in studies.expand(view) if c["dataset"] in have}
    for c in present:
        out.setdefault(config_key(c), c)
    return list(out.values())


def write_table(view: studies.Study, base_cfg, out: Path, overrides: list[str], expected: dict,
                committed: bool = True, made_here: set[str] | None = None):
    """Write ``view``'s table under ``out`` with the hashes already planned: a paper or beyond study from the
    committed store alone, a user's study from the committed store and the tracking store (its table says per
    column which runs were reused and which ``made_here``: the config hashes this command ran). The aggregator's
    result, or None after an error (printed)."""
    from .aggregate import aggregate_study, collect_runs

    try:
        runs = collect_runs(str(base_cfg.mlflow.tracking_uri), str(base_cfg.mlflow.experiment_name),
                            use_store=view.kind not in ("paper", "beyond") or not committed, committed=committed)
        result = aggregate_study(view, runs, out_dir=out, extra_overrides=overrides, expected=expected,
                                 made_here=made_here)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    t = result.table
    uri, experiment = str(base_cfg.mlflow.tracking_uri), str(base_cfg.mlflow.experiment_name)
    print(f"{view.name}: {t.runs_used} runs used; table written: {out / (view.name + '.md')}; runs in "
          f"{tracking.shown_uri(uri)} [{experiment}]{' (make mlflow-ui serves it)' if paths.is_project_store(uri) else ''}")
    publish_study(result, out, view, str(base_cfg.mlflow.tracking_uri), str(base_cfg.mlflow.experiment_name))
    return result


#: the command that resumes an interrupted study, printed by the sweep (set by :func:`main`)
RESUME_ENV = "ADBENCH_RESUME_COMMAND"


def run_sweep(argv: list[str]) -> int:
    """``python -m adbench_repro.run <argv>`` in this process (no second interpreter start-up); exit code
    (130: interrupted by Ctrl-C or SIGTERM, the summary printed)."""
    from . import run as runner

    try:
        runner.cli(argv)
    except SystemExit as exc:  # Hydra exits 1 after a failed sweep's summary
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m adbench_repro.reproduce", description=__doc__.splitlines()[0])
    ap.add_argument("study", help=f"one of {', '.join(studies.available_studies())}")
    ap.add_argument("--quick", action="store_true", help="the study's documented small subset")
    ap.add_argument("--detectors", default=None,
                    help="comma list, e.g. deepsad,mlp,catboost,xgbod; detectors the study does not use widen it")
    ap.add_argument("--datasets", default=None,
                    help="comma list of dataset ids or families; datasets the study does not use widen it")
    ap.add_argument("--seeds", default=None,
                    help="seeds and ranges, e.g. 1,2 or 0-4 or 0,2,5-7; seeds the study does not use widen it")
    ap.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all cores)")
    ap.add_argument("--dry-run", action="store_true", help="print the counts and the time estimate, run nothing")
    ap.add_argument("--no-aggregate", action="store_true")
    ap.add_argument("--out", default=None,
                    help="where the table goes (default: results/ for the paper's and this project's studies, "
                         "results/studies/<name>/ for your own; quick/ below it with --quick)")
    ap.add_argument("--no-committed", action="store_true",
                    help="ignore the committed store (results/store/): plan and tabulate from the tracking store only")
    ap.add_argument("--yes", action="store_true",
                    help=f"start without asking even when the estimate exceeds {CONFIRM_ABOVE_S / 3600:g} h")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides for every run (e.g. device=cuda)")
    args = ap.parse_intermixed_args(argv)
    os.environ[RESUME_ENV] = "python -m adbench_repro.reproduce " + shlex.join(sys.argv[1:] if argv is None else argv)
    interrupts.interrupt_on_signals()  # SIGTERM ends it like Ctrl-C: runs KILLED, summary, exit 130
    try:  # an unknown study, detector, dataset or seed is a usage error: one line, exit code 2
        outcome = run_study(args.study, quick=args.quick,
                            detectors=args.detectors or None, datasets=args.datasets or None,
                            seeds=args.seeds or None, jobs=args.jobs,
                            dry_run=args.dry_run, aggregate=not args.no_aggregate, out=args.out,
                            committed=not args.no_committed, yes=args.yes, overrides=args.overrides)
    except studies.StudyError as exc:
        ap.error(str(exc))
    except tracking.StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # before or after the sweep (which reports its own)
        print(f"{interrupts.error_tag(exc)}: nothing of the sweep was lost; rerun the command to resume",
              file=sys.stderr)
        return 130
    finally:
        os.environ.pop(RESUME_ENV, None)
    return outcome.rc


@dataclass
class Outcome:
    """What :func:`run_study` did: ``rc`` (0 when every run and the aggregation succeeded) and the
    aggregator's result (None with ``dry_run`` or ``aggregate=False``)."""

    rc: int
    result: object = None


def run_study(study: str | Path | studies.Study, *, quick: bool = False, detectors: list[str] | None = None,
              datasets: list[str] | str | None = None, seeds: list | str | None = None, jobs: int | None = None,
              dry_run: bool = False, aggregate: bool = True, out: str | Path | None = None,
              committed: bool = True, yes: bool = False, overrides: list[str] | tuple[str, ...] = ()) -> Outcome:
    """Run ``study`` (a name, a spec path or a :class:`studies.Study`), resuming, then aggregate it: what
    ``python -m adbench_repro.reproduce`` does, callable from Python. ``detectors`` / ``datasets`` / ``seeds``
    select, and widen the study by values it does not use (:func:`studies.widen`; seeds as ``"0-4"`` too).
    ``committed=False`` ignores the committed store. Raises :class:`studies.StudyError` for an unknown study,
    detector or dataset, or a bad seed."""
    overrides = list(overrides)
    if not isinstance(study, studies.Study):
        study = studies.load_study(study)
    study = studies.widen(study, detectors, datasets, seeds)  # values beyond the spec join it (its table too)
    configs = studies.expand(study, quick=quick, detectors=detectors, datasets=datasets, seeds=seeds)
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        base_cfg = compose("config", overrides=list(overrides))
    data_root = Path(str(base_cfg.data.root))
    if not data_root.is_dir():  # said even when every configuration is already FINISHED
        print(f"warning: the data root {data_root} (data.root / $ADBENCH_DATA) does not exist; "
              "`make data` links or downloads the ADBench files", file=sys.stderr)
    present = [c for c in configs if dataset_path(c["dataset"], str(data_root)).is_file()]
    missing = sorted({c["dataset"] for c in configs} - {c["dataset"] for c in present})
    if missing:
        print(f"{len(missing)} dataset(s) of {study.name} are not under the data root and are left out: "
              f"{', '.join(missing)} (`make data` fetches them)")
    gpu_rows = sorted({c["detector"] for c in present if c["detector"] in GPU_DETECTORS})
    if gpu_rows and detectors is None and not _has_gpu(str(base_cfg.device)):
        present = [c for c in present if c["detector"] not in GPU_DETECTORS]
        print(f"no GPU here: the {', '.join(gpu_rows)} row(s) are left out (hours per run on a CPU); include them "
              f"with DETECTORS=... / --detectors {','.join(gpu_rows)},..., or run on a GPU (device=cuda)")
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)  # "Creating initial MLflow database tables"
    logging.getLogger("alembic").setLevel(logging.WARNING)
    tracking.check_store(str(base_cfg.mlflow.tracking_uri), str(base_cfg.mlflow.experiment_name))
    client, exp_id = tracking.open_experiment(base_cfg.mlflow)
    # one trip per configuration: every configuration the table covers (the study, or its QUICK view) is
    # composed and hashed here, once; the jobs to run and the aggregator both take these hashes
    view = study.quick_view() if quick else study
    table_configs = expand_all(view, present, configs)
    if len(table_configs) > 500:
        print(f"hashing {len(table_configs)} configurations and reading the stores ...", flush=True)
    planned = plan.compose(table_configs, CONF_DIR, overrides, study.name)
    expected = plan.by_hash(table_configs, planned)
    by_key = {config_key(c): p.config_hash for c, p in zip(table_configs, planned)}
    distinct = {}
    for c in present:  # e.g. Fig. 5's default k/sigma/alpha columns are one configuration
        distinct.setdefault(by_key[config_key(c)], c)
    present = list(distinct.values())
    need = outputs.required(base_cfg)  # validation.holdout > 0: only runs with held-out signals are done
    state = plan_state([p for p in {p.config_hash: p for p in planned}.values() if p.config_hash in distinct],
                       client, exp_id, committed, need)
    todo = [c for h, c in distinct.items() if h not in state.done]
    workers = jobs or os.cpu_count() or 1
    est, measured = seconds_per_run(client, exp_id)

    print(f"study {study.name}{' (QUICK)' if quick else ''}: {study.title}")
    print(f"  {len(present)} runs: {len(state.committed)} in the committed store (results/store/), "
          f"{len(state.tracked)} FINISHED in {base_cfg.mlflow.tracking_uri} [{base_cfg.mlflow.experiment_name}] "
          f"(by config hash and code fingerprint); {len(todo)} to run on {workers} worker(s)")
    if need:
        print(f"  held-out signals asked for (validation.holdout={need[outputs.HOLDOUT_TAG]}): a run counts as done "
              f"only when it has them; {len(state.lacking)} done run(s) without them are rerun (same config hash: "
              "the result is checked to the bit and joins the store with them); each run fits twice")
    if len(state.stale):
        print(f"  of those to run, {store.stale_summary(state.stale)}: their runs were made by code that behaves "
              "otherwise today (docs/development.md#fingerprints)")
    per_det: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    for c in todo:
        per_det[c["detector"]] += 1
        seconds[c["detector"]] += (est.get(c["detector"], UNKNOWN_DETECTOR_S) * size_factor(c["dataset"])
                                   * budget_factor(c) * holdout_cost(outputs.holdout_fraction(base_cfg)))
    total = 0.0
    for det, n in sorted(per_det.items()):
        t = seconds[det] / workers
        total += t
        source = "from your runs" if det in measured else "built-in default"
        print(f"  {det:<14} {n:5d} runs x ~{seconds[det] / n:7.1f} s ({source})  ->  ~{t / 3600:6.2f} h")
    print(f"  estimated wall time: ~{total / 3600:.2f} h")
    if dry_run:
        return Outcome(0)
    if todo and total > CONFIRM_ABOVE_S and not yes and not _confirmed(total):
        print(f"not started: the estimate (~{total / 3600:.1f} h) exceeds {CONFIRM_ABOVE_S / 3600:g} h; restrict it "
              "(--detectors/--datasets/--seeds, or QUICK=1) or pass --yes", file=sys.stderr)
        return Outcome(3)

    failed = 0
    if todo:  # each run checks its lease again: another sweep on the store may take some first
        with tempfile.TemporaryDirectory(prefix=f"adbench_{study.name}_") as tmp:
            jobs_file = write_jobs_file(Path(tmp) / "jobs.yaml", [studies.to_override_list(c) for c in todo])
            argv = ["-m", f"hydra.sweeper.jobs_file={jobs_file}", *overrides]
            if jobs:
                argv.append(f"hydra.launcher.n_jobs={jobs}")
            print(f"+ python -m adbench_repro.run {' '.join(argv)}   ({len(todo)} jobs)", flush=True)
            failed = run_sweep(argv)
        if failed == 130:  # interrupted: the sweep printed its summary and the command that resumes
            return Outcome(130)
        if failed:
            print("the sweep had failures (see its summary above); FINISHED runs are kept and a rerun resumes")
    if committed and study.kind in ("paper", "beyond"):
        store.add_from_mlflow(str(base_cfg.mlflow.tracking_uri), str(base_cfg.mlflow.experiment_name),
                              set(distinct) - state.committed)
    if aggregate:
        out = Path(out) if out else (OUTPUT_ROOT or paths.results_root()) / study.results_dir(quick)
        result = write_table(view, base_cfg, out, overrides, expected, committed,
                             made_here={h for h, c in distinct.items() if h not in state.done})
        return Outcome(1 if failed or result is None else 0, result)
    return Outcome(1 if failed else 0)


@dataclass
class PlanState:
    """Which planned config hashes are done, and where: ``committed`` (a current run in the committed
    store), ``tracked`` (a current FINISHED run in the tracking store), ``stale`` (committed-store rows of
    code that behaves otherwise today, with the components in column ``stale``), ``lacking`` (hashes with a
    current run that lacks the outputs asked for, :func:`.outputs.required`: not done)."""

    committed: set
    tracked: set
    stale: object
    lacking: set = frozenset()

    @property
    def done(self) -> set:
        return self.committed | self.tracked


def plan_state(planned: list, client, experiment_id: str, committed: bool = True,
               need: dict[str, str] | None = None) -> PlanState:
    """Done or not, for each planned configuration (:class:`plan.Planned`): the one answer the dry run, the
    sweep and the table share. The committed store's rows must match today's fingerprints; the tracking
    store's answer is the lease's (:func:`lease.done`). With ``need`` (output tags, :func:`.outputs.required`)
    a run counts only when it has those outputs (the held-out signals)."""
    hashes = {p.config_hash for p in planned}
    rows = store.read() if committed else pd.DataFrame(columns=store.COLUMNS)
    rows = rows[rows["tags.config_hash"].isin(hashes)]
    stale = store.stale(rows)
    current = set(rows["tags.config_hash"]) - set(stale["tags.config_hash"])
    in_store = set(rows.loc[outputs.rows_satisfy(rows, need or {}), "tags.config_hash"]) & current
    tracked = lease.done(client, experiment_id, [p for p in planned if p.config_hash not in in_store], need)
    lacking = set()
    if need:
        anyhow = lease.done(client, experiment_id, [p for p in planned if p.config_hash not in current])
        lacking = (current | anyhow) - in_store - tracked
    return PlanState(in_store, tracked, stale, lacking)


def _has_gpu(device: str) -> bool:
    """Whether the runs get a GPU: ``device=cuda`` asks for one, ``auto`` takes one when present."""
    from .devices import resolve_device

    return device == "cuda" or (device == "auto" and resolve_device("auto") == "cuda")


def _confirmed(total_s: float) -> bool:
    """Ask on a terminal whether to start a long study; False without one."""
    if not sys.stdin.isatty():
        return False
    answer = input(f"estimated ~{total_s / 3600:.1f} h; start? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


if __name__ == "__main__":
    sys.exit(main())
