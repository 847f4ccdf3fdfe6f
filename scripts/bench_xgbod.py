"""Time pyod's XGBOD and ours (``detector=xgbod``) side by side on the same splits, 1 thread, after a warm-up.

For each dataset (seed 0, 1 % labels as Table I's baseline): both fit on the same training rows and score
the same test rows; ``--repeats`` alternating rounds, the minimum fit+score time of each counts. Checks
that the AUCROCs are equal (1e-6) and the decision scores identical, prints the time ratio per dataset and
over all of them. Both are warmed up first (numba compiles pyod's HBOS and our kernels once per process).

Usage: nice -n 5 python scripts/bench_xgbod.py [--datasets 6_cardio 19_landsat ...] [--repeats 2]
"""

from __future__ import annotations

import argparse
import sys
import datetime
import os
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's package, not another installed one
DATASETS = ["6_cardio", "19_landsat", "30_satellite", "22_magic.gamma", "20news_3"]


def pyod_fit_score(X, y, X_test, seed=0):
    from pyod.models.xgbod import XGBOD

    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return XGBOD(random_state=seed).fit(X, y).decision_function(X_test)
    finally:
        np.random.set_state(state)


def ours_fit_score(X, y, X_test, seed=0):
    from adbench_repro.detectors.xgbod import XGBODDetector

    return XGBODDetector(seed=seed).fit(X, y).decision_function(X_test)


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=DATASETS)
    ap.add_argument("--data-root", default=os.environ.get("ADBENCH_DATA", str(REPO / "data" / "adbench")))
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--note", default="", help="a line about the machine's load, printed in the header")
    args = ap.parse_args()

    from threadpoolctl import threadpool_limits

    from adbench_repro.datasets import load_split
    from adbench_repro.detectors import xgbod
    from adbench_repro.provenance import cpu_model

    warnings.simplefilter("ignore", UserWarning)
    print(f"# bench_xgbod: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; nproc {os.cpu_count()}; "
          f"CPU {cpu_model()}; ours from {Path(xgbod.__file__).parent}; 1 thread (threadpoolctl); {args.repeats} alternating repeats, minimum counts")
    if args.note:
        print(f"# {args.note}")
    print("# dataset n_train x d | pyod s | ours s | ratio | AUCROC pyod | AUCROC ours | max |score diff|")
    totals = [0.0, 0.0]
    with threadpool_limits(limits=1):
        splits = {}
        for name in args.datasets:
            split = load_split(name, root=args.data_root, seed=0, la=0.1, keep=0.1)
            splits[name] = (*split.training_set(), split.X_test, split.y_test)
        X, y, X_test, _ = splits[args.datasets[0]]
        rows = np.r_[0:250, len(y) - 50:len(y)]  # unlabeled rows and anomalies
        pyod_fit_score(X[rows], y[rows], X_test[:50])  # warm-up: numba compilation, imports
        ours_fit_score(X[rows], y[rows], X_test[:50])
        for name, (X, y, X_test, y_test) in splits.items():
            ref_t, our_t = [], []
            for _ in range(args.repeats):
                t, ref = timed(pyod_fit_score, X, y, X_test)
                ref_t.append(t)
                t, ours = timed(ours_fit_score, X, y, X_test)
                our_t.append(t)
            auc_ref, auc_ours = roc_auc_score(y_test, ref), roc_auc_score(y_test, ours)
            assert abs(auc_ref - auc_ours) <= 1e-6, f"{name}: AUCROC pyod {auc_ref} vs ours {auc_ours}"
            totals[0] += min(ref_t)
            totals[1] += min(our_t)
            print(f"{name} {X.shape[0]} x {X.shape[1]} | {min(ref_t):.2f} | {min(our_t):.2f} | "
                  f"{min(ref_t) / min(our_t):.2f}x | {auc_ref:.6f} | {auc_ours:.6f} | {np.abs(ref - ours).max():.1e}",
                  flush=True)
    print(f"# all {len(splits)} datasets: pyod {totals[0]:.1f} s, ours {totals[1]:.1f} s, {totals[0] / totals[1]:.2f}x")


if __name__ == "__main__":
    main()
