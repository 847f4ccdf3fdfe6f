"""Cost per run of ADBench's detectors the paper did not evaluate (issue 32): DevNet, PReNet, FEAWAD, RF,
LightGBM, XGBoost, on one CPU thread.

Each (dataset, augmenter, detector) is one whole experiment as the runner does it (load, split, generate,
fit, score; ``adbench_repro.evaluate``, no tracking store), seed 0, 1% labeled anomalies, Baseline and
NNG-Mix 10x (the study ``families``'s two costliest columns; Uniform costs what NNG-Mix does). Prints the
seconds per run (wall and CPU), the fit and score seconds, the test AUCROC, and for each detector the
seconds per run scaled to a 10,000-row dataset as ``adbench_repro.reproduce.SECONDS_PER_RUN`` holds them
(the median over the measured runs of seconds / ``size_factor(dataset)``).

Usage: python scripts/bench_new_detectors.py [--datasets 14_glass 6_cardio 19_landsat] [--detectors ...]
       [--threads 1] [--out results/bench/new_detectors.txt]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from pathlib import Path

import torch

DETECTORS = ["devnet", "prenet", "feawad", "rf", "lightgbm", "xgboost"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["14_glass", "6_cardio", "19_landsat"])
    ap.add_argument("--detectors", nargs="+", default=DETECTORS)
    ap.add_argument("--augmenters", nargs="+", default=["none", "nng_mix"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    os.environ["ADBENCH_THREADS"] = str(args.threads)  # the run's thread budget (threads: auto), as a sweep worker

    from adbench_repro import evaluate
    from adbench_repro.provenance import cpu_model
    from adbench_repro.reproduce import size_factor

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# bench_new_detectors: {now}; nproc {os.cpu_count()}; CPU {cpu_model()}; torch {torch.__version__} "
             f"({args.threads} thread(s)); python {platform.python_version()}",
             "# one whole run each (load, split, generate, fit, score), seed 0, 1% labeled, multiplier 10; "
             "the machine is shared, so wall times are noisy: CPU time is printed too",
             f"{'detector':10s} {'dataset':12s} {'augmenter':9s} {'train rows':>10s} {'wall s':>8s} {'cpu s':>8s} "
             f"{'fit s':>8s} {'score s':>8s} {'AUCROC':>7s}"]
    print("\n".join(lines), flush=True)
    per_10k: dict[str, list[float]] = {d: [] for d in args.detectors}
    cpu_10k: dict[str, list[float]] = {d: [] for d in args.detectors}
    for det in args.detectors:
        for ds in args.datasets:
            for aug in args.augmenters:
                t0, c0 = time.perf_counter(), time.process_time()
                r = evaluate(dataset=ds, augmenter=aug, detector=det, seed=0, label_ratio="1pct", multiplier=10,
                             overrides=[f"threads={args.threads}"])
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                m = r.metrics
                rows = int(m.get("n_train", 0))  # labeled + unlabeled + generated
                line = (f"{det:10s} {ds:12s} {aug:9s} {rows:10d} {wall:8.2f} {cpu:8.2f} {m.get('fit_s', float('nan')):8.2f} "
                        f"{m.get('score_s', float('nan')):8.2f} {r.aucroc:7.4f}")
                print(line, flush=True)
                lines.append(line)
                per_10k[det].append(wall / size_factor(ds))
                cpu_10k[det].append(cpu / size_factor(ds))
    lines.append("")
    lines.append("# seconds per run scaled to a 10,000-row dataset (median of seconds / size_factor), "
                 "as adbench_repro.reproduce.SECONDS_PER_RUN; on a loaded machine the CPU time is the cost")
    lines.append(f"{'detector':10s} {'wall s':>8s} {'cpu s':>8s}")
    for det, xs in per_10k.items():
        lines.append(f"{det:10s} {statistics.median(xs):8.1f} {statistics.median(cpu_10k[det]):8.1f}")
    print("\n".join(lines[-len(per_10k) - 3:]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
