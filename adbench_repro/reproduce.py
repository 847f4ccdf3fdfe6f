"""Run a paper study (resuming), then rebuild its table: ``python -m adbench_repro.reproduce table1``.

    python -m adbench_repro.reproduce table1 --quick                 # documented small subset, minutes
    python -m adbench_repro.reproduce table1 --detectors deepsad,mlp,catboost,xgbod
    python -m adbench_repro.reproduce table1 --dry-run               # counts and time estimate only

Before starting it prints how many runs the study has, how many already have a FINISHED run in the
tracking store (matched by tags, one query; ``--dry-run`` composes every configuration and counts by
config hash), and an estimated wall time per detector on this machine. The study's configurations
are written to a jobs file and executed as ONE Hydra multirun of ``python -m adbench_repro.run``
(``hydra.sweeper.jobs_file``) on the default process-pool launcher, whose workers skip each
configuration that already has a FINISHED run (by config hash, exactly); then
``python -m adbench_repro.aggregate <study>`` writes ``results/<study>.md``.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # start the workers' forkserver first: its imports overlap with this module's
    from adbench_repro.sweep.workers import start_forkserver, study_cli_wants_forkserver

    if study_cli_wants_forkserver(sys.argv[1:]):
        start_forkserver()

import argparse
import os
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

from hydra import compose, initialize_config_dir

from . import studies, tracking
from .confighash import affects_hash, config_hash
from .datasets import dataset_path
from .datasets.catalog import PUBLISHED_SIZE
from .run import CONF_DIR
from .sweep.joblist import write_jobs_file
from .sweep.workers import start_forkserver, study_cli_wants_forkserver

#: rough seconds per run on a 2-core CPU for a 10,000-row dataset (ADBench's cap), used until the store
#: has timings; smaller datasets are scaled down by their row count (ADBench pads them to 1,000 rows)
DEFAULT_SECONDS_PER_RUN = {"mlp": 10.0, "catboost": 12.0, "deepsad": 20.0, "xgbod": 60.0, "fttransformer": 3600.0}


def size_factor(dataset: str) -> float:
    """Rows ADBench keeps of ``dataset`` (padded to 1,000, capped at 10,000) over 10,000."""
    rows = PUBLISHED_SIZE.get(dataset, (10_000, 0, 0.0))[0]
    return min(max(rows, 1_000), 10_000) / 10_000


def compose_hashes(configs: list[dict], extra: list[str]) -> list[str]:
    """The config hash of each expanded configuration, composed exactly as the runner would."""
    out = []
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        for config in configs:
            cfg = compose("config", overrides=[*studies.to_override_list(config), *extra])
            out.append(config_hash(cfg))
    return out


def seconds_per_run(client, experiment_id: str) -> tuple[dict[str, float], set[str]]:
    """``(seconds, measured)``: seconds per run on a 10,000-row dataset by detector, the median of the
    FINISHED runs in the store each divided by its dataset's :func:`size_factor` (for the ``measured``
    detectors: those with at least 3 such runs), else :data:`DEFAULT_SECONDS_PER_RUN`. Multiply by a
    dataset's size factor for an estimate."""
    est = dict(DEFAULT_SECONDS_PER_RUN)
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


#: run tags that, with no other override, determine a study configuration
TAG_KEYS = ("dataset", "label_ratio", "augmenter", "multiplier", "detector", "seed")


def unfinished_by_tags(configs: list[dict], client, experiment_id: str, extra: list[str]) -> list[dict]:
    """The configurations without a FINISHED run whose tags match (one store query, no composing).

    Only configurations made of :data:`TAG_KEYS` alone, with no extra command-line override of a hashed
    key (``device=``, ``data.root=``, ``mlflow.*`` are fine), can be matched this way; the others are
    counted as to run. Used for the counts printed before a sweep, whose workers then decide exactly
    by config hash.
    """
    if any(affects_hash(o) for o in extra):
        return list(configs)

    def key(values: dict) -> tuple:
        return tuple(studies.normalise(values.get(k)) for k in TAG_KEYS)

    done = {key(r.data.tags) for r in tracking.iter_finished_runs(client, experiment_id)}
    return [c for c in configs if set(c) != set(TAG_KEYS) or key(c) not in done]


def run_sweep(argv: list[str]) -> int:
    """``python -m adbench_repro.run <argv>`` in this process (no second interpreter start-up); exit code."""
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
    ap.add_argument("--detectors", default=None, help="comma list, e.g. deepsad,mlp,catboost,xgbod")
    ap.add_argument("--datasets", default=None, help="comma list of dataset ids")
    ap.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all cores)")
    ap.add_argument("--dry-run", action="store_true",
                    help="print exact counts (composes every configuration) and estimates, run nothing")
    ap.add_argument("--no-aggregate", action="store_true")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides for every run (e.g. device=cuda)")
    args = ap.parse_intermixed_args(argv)
    if study_cli_wants_forkserver(sys.argv[1:] if argv is None else argv):
        start_forkserver()  # (already running when started as __main__) imports overlap with the planning

    study = studies.load_study(args.study)
    configs = studies.expand(study, quick=args.quick,
                             detectors=args.detectors.split(",") if args.detectors else None,
                             datasets=args.datasets.split(",") if args.datasets else None)
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        base_cfg = compose("config", overrides=list(args.overrides))
    present = [c for c in configs if dataset_path(c["dataset"], str(base_cfg.data.root)).is_file()]
    missing = sorted({c["dataset"] for c in configs} - {c["dataset"] for c in present})
    if missing:
        print(f"{len(missing)} dataset(s) of {study.name} are not under the data root and are left out: "
              f"{', '.join(missing)} (`make data` fetches them)")
    client, exp_id = tracking.open_experiment(base_cfg.mlflow)
    if args.dry_run:  # exact: compose every configuration as the runner would (~50 ms each)
        hashes = compose_hashes(present, args.overrides)
        done = tracking.finished_hashes(client, exp_id)
        distinct = dict(zip(hashes, present))  # e.g. Fig. 5's default k/sigma/alpha columns are one configuration
        present = list(distinct.values())
        todo = [c for h, c in distinct.items() if h not in done]
        how = "by config hash"
    else:  # fast: match by tags, for the counts only; the sweep gets every configuration and its
        # workers skip the FINISHED ones by config hash (exact), so a stale tag match never hides work
        todo = unfinished_by_tags(present, client, exp_id, args.overrides)
        how = "matched by tags; the sweep checks each config hash"
    jobs = args.jobs or os.cpu_count() or 1
    est, measured = seconds_per_run(client, exp_id)

    print(f"study {study.name}{' (QUICK)' if args.quick else ''}: {study.title}")
    print(f"  {len(present)} runs, {len(present) - len(todo)} already FINISHED in "
          f"{base_cfg.mlflow.tracking_uri} [{base_cfg.mlflow.experiment_name}] ({how}), "
          f"{len(todo)} to run on {jobs} worker(s)")
    per_det: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    for c in todo:
        per_det[c["detector"]] += 1
        seconds[c["detector"]] += est.get(c["detector"], 30.0) * size_factor(c["dataset"])
    total = 0.0
    for det, n in sorted(per_det.items()):
        t = seconds[det] / jobs
        total += t
        source = "from your runs" if det in measured else "built-in default"
        print(f"  {det:<14} {n:5d} runs x ~{seconds[det] / n:7.1f} s ({source})  ->  ~{t / 3600:6.2f} h")
    print(f"  estimated wall time: ~{total / 3600:.2f} h")
    if per_det.get("fttransformer"):
        print("  note: FTTransformer on a CPU takes ~1 hour per run. Restrict with e.g. "
              f"`make reproduce-{study.name} DETECTORS=deepsad,mlp,catboost,xgbod` or run it on a GPU (device=cuda).")
    if args.dry_run:
        return 0

    failed = 0
    if present:  # even when the tags say all done: a changed conf/ default changes hashes, not tags
        with tempfile.TemporaryDirectory(prefix=f"adbench_{study.name}_") as tmp:
            jobs_file = write_jobs_file(Path(tmp) / "jobs.yaml", [studies.to_override_list(c) for c in present])
            argv = ["-m", f"hydra.sweeper.jobs_file={jobs_file}", *args.overrides]
            if args.jobs:
                argv.append(f"hydra.launcher.n_jobs={args.jobs}")
            print(f"+ python -m adbench_repro.run {' '.join(argv)}   ({len(present)} jobs)", flush=True)
            failed = run_sweep(argv) != 0
        if failed:
            print("the sweep had failures (see its summary above); FINISHED runs are kept and a rerun resumes")
    if not args.no_aggregate:
        from .aggregate.__main__ import main as aggregate

        rc = aggregate([study.name, "--tracking-uri", str(base_cfg.mlflow.tracking_uri),
                        "--experiment", str(base_cfg.mlflow.experiment_name), *args.overrides])
        if rc == 0:
            print(f"table written: {Path('results') / (study.name + '.md')}")
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    from .fastexit import exit_now

    exit_now(main())
