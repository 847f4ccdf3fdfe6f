"""Run a paper study (resuming), then rebuild its table: ``python -m adbench_repro.reproduce table1``.

    python -m adbench_repro.reproduce table1 --quick                 # documented small subset, minutes
    python -m adbench_repro.reproduce table1 --detectors deepsad,mlp,catboost,xgbod
    python -m adbench_repro.reproduce table1 --dry-run               # counts and time estimate only

Before starting it prints how many runs the study has, how many already have a FINISHED run in the
tracking store (they are skipped), and an estimated wall time per detector on this machine. The
runs are executed as Hydra multiruns of ``python -m adbench_repro.run`` (one per group of
configurations that differ only in dataset and seed), on the default process-pool launcher; then
``python -m adbench_repro.aggregate <study>`` writes ``results/<study>.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from hydra import compose, initialize_config_dir

from . import studies, tracking
from .confighash import config_hash
from .datasets import dataset_path
from .run import CONF_DIR

#: rough seconds per run on a 2-core CPU for a mid-sized dataset, used until the store has timings
DEFAULT_SECONDS_PER_RUN = {"mlp": 10.0, "catboost": 12.0, "deepsad": 20.0, "xgbod": 60.0, "fttransformer": 3600.0}


def compose_hashes(configs: list[dict], extra: list[str]) -> list[str]:
    """The config hash of each expanded configuration, composed exactly as the runner would."""
    out = []
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        for config in configs:
            cfg = compose("config", overrides=[*studies.to_override_list(config), *extra])
            out.append(config_hash(cfg))
    return out


def seconds_per_run(client, experiment_id: str) -> dict[str, float]:
    """Median wall seconds per run by detector, from FINISHED runs in the store (defaults otherwise)."""
    est = dict(DEFAULT_SECONDS_PER_RUN)
    samples: dict[str, list[float]] = defaultdict(list)
    runs = tracking.with_retries(client.search_runs, [experiment_id], filter_string="attributes.status = 'FINISHED'",
                                 max_results=2000, order_by=["attributes.start_time DESC"])
    for r in runs:
        m = r.data.metrics
        if "fit_s" in m:
            samples[r.data.tags.get("detector", "?")].append(sum(m.get(k, 0.0) for k in ("load_s", "generate_s", "fit_s", "score_s")) + 1.0)
    for det, xs in samples.items():
        if len(xs) >= 3:
            est[det] = statistics.median(xs)
    return est


def group_for_multirun(configs: list[dict]) -> list[list[str]]:
    """Hydra multirun override lists: configurations that differ only in dataset and seed share one."""
    groups: dict[tuple, dict] = {}
    for c in configs:
        key = tuple((k, str(v)) for k, v in c.items() if k not in ("dataset", "seed"))
        g = groups.setdefault(key, {"base": {k: v for k, v in c.items() if k not in ("dataset", "seed")},
                                    "pairs": set()})
        g["pairs"].add((c["dataset"], c["seed"]))
    out = []
    for g in groups.values():
        by_seed: dict[object, list[str]] = defaultdict(list)
        for ds, seed in sorted(g["pairs"], key=lambda p: (str(p[1]), p[0])):
            by_seed[seed].append(ds)
        # datasets x seeds is a product when every seed has the same datasets; else one multirun per seed
        dsets = {tuple(v) for v in by_seed.values()}
        base = studies.to_override_list(g["base"])
        if len(dsets) == 1:
            out.append([*base, "dataset=" + ",".join(next(iter(dsets))), "seed=" + ",".join(map(str, by_seed))])
        else:
            out.extend([*base, "dataset=" + ",".join(ds), f"seed={seed}"] for seed, ds in by_seed.items())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m adbench_repro.reproduce", description=__doc__.splitlines()[0])
    ap.add_argument("study", help=f"one of {', '.join(studies.available_studies())}")
    ap.add_argument("--quick", action="store_true", help="the study's documented small subset")
    ap.add_argument("--detectors", default=None, help="comma list, e.g. deepsad,mlp,catboost,xgbod")
    ap.add_argument("--datasets", default=None, help="comma list of dataset ids")
    ap.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all cores)")
    ap.add_argument("--dry-run", action="store_true", help="print counts and estimates, run nothing")
    ap.add_argument("--no-aggregate", action="store_true")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides for every run (e.g. device=cuda)")
    args = ap.parse_args(argv)

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
    hashes = compose_hashes(present, args.overrides)
    client, exp_id = tracking.open_experiment(base_cfg.mlflow)
    done = tracking.finished_hashes(client, exp_id)
    distinct = dict(zip(hashes, present))  # e.g. Fig. 5's default k/sigma/alpha columns are one configuration
    present = list(distinct.values())
    todo = [c for h, c in distinct.items() if h not in done]
    jobs = args.jobs or os.cpu_count() or 1
    est = seconds_per_run(client, exp_id)

    print(f"study {study.name}{' (QUICK)' if args.quick else ''}: {study.title}")
    print(f"  {len(present)} runs, {len(present) - len(todo)} already FINISHED in "
          f"{base_cfg.mlflow.tracking_uri} [{base_cfg.mlflow.experiment_name}], {len(todo)} to run on {jobs} worker(s)")
    per_det: dict[str, int] = defaultdict(int)
    for c in todo:
        per_det[c["detector"]] += 1
    total = 0.0
    for det, n in sorted(per_det.items()):
        t = n * est.get(det, 30.0) / jobs
        total += t
        print(f"  {det:<14} {n:5d} runs x ~{est.get(det, 30.0):7.1f} s  ->  ~{t / 3600:6.2f} h")
    print(f"  estimated wall time: ~{total / 3600:.2f} h")
    if per_det.get("fttransformer"):
        print("  note: FTTransformer on a CPU takes ~1 hour per run. Restrict with e.g. "
              f"`make reproduce-{study.name} DETECTORS=deepsad,mlp,catboost,xgbod` or run it on a GPU (device=cuda).")
    if args.dry_run:
        return 0

    failed = 0
    for overrides in group_for_multirun(todo):
        cmd = [sys.executable, "-m", "adbench_repro.run", "-m", *overrides, *args.overrides]
        if args.jobs:
            cmd.append(f"hydra.launcher.n_jobs={args.jobs}")
        print("+ " + " ".join(cmd[1:]), flush=True)
        failed += subprocess.run(cmd).returncode != 0
    if failed:
        print(f"{failed} multirun group(s) had failures (see their summaries above); FINISHED runs are kept")
    if not args.no_aggregate:
        agg = [sys.executable, "-m", "adbench_repro.aggregate", study.name,
               "--tracking-uri", str(base_cfg.mlflow.tracking_uri), "--experiment", str(base_cfg.mlflow.experiment_name), *args.overrides]
        rc = subprocess.run(agg).returncode
        if rc == 0:
            print(f"table written: {Path('results') / (study.name + '.md')}")
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
