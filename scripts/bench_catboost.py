"""CatBoost (``detector=catboost``): does ``thread_count`` change the result, and what does it cost? (issue 21)

On the same splits (seed 0, 1 % labels), fits our CatBoost detector with ``thread_count`` 1 and 2 (and -1,
which our detector turns into the run's thread budget), ``--repeats`` alternating rounds; prints the
minimum fit+score time of each, whether the test scores are identical to the bit and the AUCROCs. Also
times quantization alone (``Pool.quantize``) against the whole fit: the part a border cache could save.

Usage: nice -n 5 python scripts/bench_catboost.py [--datasets 6_cardio 19_landsat] [--repeats 2]
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's package, not another installed one


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["6_cardio", "19_landsat", "22_magic.gamma"])
    ap.add_argument("--data-root", default=os.environ.get("ADBENCH_DATA", str(REPO / "data" / "adbench")))
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--note", default="")
    args = ap.parse_args()

    import catboost
    import torch

    from adbench_repro.datasets import load_split
    from adbench_repro.detectors.catboost import CatBoostDetector
    from adbench_repro.provenance import cpu_model

    print(f"# bench_catboost: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; nproc {os.cpu_count()}; "
          f"CPU {cpu_model()}; catboost {catboost.__version__}; {args.repeats} alternating repeats, minimum counts")
    if args.note:
        print(f"# {args.note}")
    for name in args.datasets:
        split = load_split(name, root=args.data_root, seed=0, la=0.1, keep=0.1)
        X, y = split.training_set()
        times: dict[str, list[float]] = {}
        scores: dict[str, np.ndarray] = {}
        for _ in range(args.repeats):
            for label, tc, torch_threads in [("thread_count=1", 1, 1), ("thread_count=2", 2, 1),
                                             ("thread_count=-1 (torch 1 thread, as a sweep run)", -1, 1)]:
                torch.set_num_threads(torch_threads)
                t0 = time.perf_counter()
                s = CatBoostDetector(thread_count=tc, seed=0).fit(X, y).decision_function(split.X_test)
                times.setdefault(label, []).append(time.perf_counter() - t0)
                scores[label] = s
            t0 = time.perf_counter()
            catboost.Pool(X, y).quantize()
            times.setdefault("quantize only", []).append(time.perf_counter() - t0)
        ref = scores["thread_count=1"]
        print(f"\n## {name}: train {X.shape[0]} x {X.shape[1]}, test {len(split.y_test)}")
        for label, t in times.items():
            line = f"{label:50s} {min(t):7.2f} s"
            if label in scores:
                s = scores[label]
                line += (f"   AUCROC {roc_auc_score(split.y_test, s):.10f}   identical to thread_count=1: "
                         f"{np.array_equal(s, ref)} (max |diff| {np.abs(s - ref).max():.1e})")
            print(line, flush=True)


if __name__ == "__main__":
    main()
