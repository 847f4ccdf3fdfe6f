"""Benchmark: vectorised nng_mix / mixup vs a literal per-sample reading of the algorithms.

The reference below is what a straightforward implementation of Algorithm 1 does: one loop
iteration per generated sample, one k-d tree query (sklearn KDTree) and one ``np.vstack`` onto
the growing output per sample. Both run in the same process on the same data; the script prints
the times, the speed-up ratio and a sanity check (same shape, similar mean distance to A).

Data: an ADBench dataset with more than 10,000 rows (default 1_ALOI), subsampled to 10,000 rows
as ADBench does (``np.random.RandomState(0).choice(n, 10000, replace=False)``), stratified 70/30
split, MinMaxScaler fit on the training part, every training anomaly labeled (100%).

    python scripts/bench_augmenters.py            # multipliers 10 and 100, writes results/bench/augmenters.txt
    python scripts/bench_augmenters.py --quick    # multiplier 10 only, prints only
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KDTree
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits

from adbench_repro.provenance import cpu_model
from adbench_repro.augmenters import Mixup, NNGMix

REPO_ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ per-sample references


def reference_nng_mix(A, H, n, rng, alpha=0.2, k=10, sigma=0.01, p_anomaly_pool=0.5):
    """Algorithm 1 read literally: per sample, one KDTree query and one np.vstack."""
    tree_a, tree_h = KDTree(A), KDTree(H)
    k_a, k_h = min(k, len(A) - 1), min(k, len(H))
    out = np.empty((0, A.shape[1]))
    for _ in range(n):
        i = rng.integers(len(A))
        a1 = A[i]
        if rng.random() < p_anomaly_pool:
            ind = tree_a.query(a1[None, :], k=k_a + 1, return_distance=False)[0]
            ind = ind[ind != i][:k_a]
            a2 = A[rng.choice(ind)]
        else:
            ind = tree_h.query(a1[None, :], k=k_h, return_distance=False)[0]
            a2 = H[rng.choice(ind)]
        lam = rng.beta(alpha, alpha)
        e1 = rng.normal(0.0, sigma, A.shape[1])
        e2 = rng.normal(0.0, sigma, A.shape[1])
        out = np.vstack([out, lam * (a1 + e1) + (1 - lam) * (a2 + e2)])
    return out


def reference_mixup(A, H, n, rng, alpha=0.2):
    """Mixup between two different anomalies, one sample and one np.vstack per loop iteration."""
    out = np.empty((0, A.shape[1]))
    for _ in range(n):
        i = rng.integers(len(A))
        j = rng.integers(len(A))
        while j == i:
            j = rng.integers(len(A))
        lam = rng.beta(alpha, alpha)
        out = np.vstack([out, lam * A[i] + (1 - lam) * A[j]])
    return out


# ------------------------------------------------------------------ data and timing


def load_training_set(root: Path, name: str):
    """ADBench-style: subsample to 10,000 rows, stratified 70/30 split, min-max scaling fit on train."""
    path = next(root.glob(f"*/{name}.npz"), None)
    if path is None:
        raise SystemExit(f"dataset {name} not found under {root}")
    with np.load(path, allow_pickle=False) as f:
        X, y = f["X"].astype(np.float64), f["y"].astype(int)
    if len(X) <= 10_000:
        raise SystemExit(f"{name} has {len(X)} rows; pick a dataset with more than 10,000 (e.g. 1_ALOI)")
    keep = np.random.RandomState(0).choice(len(X), 10_000, replace=False)
    X, y = X[keep], y[keep]
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    X_train = MinMaxScaler().fit(X_train).transform(X_train)
    return X_train[y_train == 1], X_train[y_train == 0]


def default_data_root() -> Path:
    """First of $ADBENCH_DATA, data/adbench, ../shared/adbench holding Classical/."""
    for c in (os.environ.get("ADBENCH_DATA"), REPO_ROOT / "data" / "adbench", REPO_ROOT.parent / "shared" / "adbench"):
        if c and (Path(c) / "Classical").is_dir():
            return Path(c)
    raise SystemExit("ADBench data not found: set ADBENCH_DATA, pass --data-root or run `make data`")


def best_time(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def mean_distance_to(X: np.ndarray, A: np.ndarray) -> float:
    """Mean distance from each row of X to its nearest row of A."""
    return float(KDTree(A).query(X, k=1)[0].mean())



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="multiplier 10 only; print, do not write the record")
    parser.add_argument("--dataset", default="1_ALOI")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads for both sides (default 1: single-thread vs single-thread)")
    parser.add_argument("--data-root", type=Path, default=None,
                        help="ADBench folder (default: $ADBENCH_DATA, data/adbench, ../shared/adbench)")
    parser.add_argument("--out", type=Path, default=None,
                        help="record file (default results/bench/augmenters.txt for a full run)")
    args = parser.parse_args(argv)
    multipliers = (10,) if args.quick else (10, 100)
    out_path = args.out if args.out is not None else (None if args.quick else REPO_ROOT / "results/bench/augmenters.txt")

    A, H = load_training_set(args.data_root or default_data_root(), args.dataset)
    lines = [
        f"# bench_augmenters {'--quick ' if args.quick else ''}{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"# machine: nproc={os.cpu_count()} cpu={cpu_model()} "
        f"load average at start={' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"# python {platform.python_version()} numpy {np.__version__} scikit-learn {sklearn.__version__}",
        f"# data: {args.dataset}, 10000-row subsample, 70% train: n_a={len(A)} labeled anomalies (100%), "
        f"n_h={len(H)} unlabeled, d={A.shape[1]}",
        f"# threads: {args.threads} (threadpoolctl, both sides); ours: best of 5 runs; "
        "reference: one run (per-sample loop, KDTree query + np.vstack per sample)",
        f"{'generator':<9} {'mult':>4} {'n':>6} {'ours_s':>9} {'ref_s':>9} {'speedup':>8} "
        f"{'shape_ok':>8} {'dist_ours':>9} {'dist_ref':>9}",
    ]
    print("\n".join(lines), flush=True)
    cases = [
        ("nng_mix", lambda n, s: NNGMix().generate(A, H, n, np.random.default_rng(s)), reference_nng_mix),
        ("mixup", lambda n, s: Mixup().generate(A, H, n, np.random.default_rng(s)), reference_mixup),
    ]
    for name, ours, ref in cases:
        for mult in multipliers:
            n = mult * len(A)
            with threadpool_limits(args.threads):
                t_ours, x_ours = best_time(lambda: ours(n, 0), repeats=5)
                t_ref, x_ref = best_time(lambda: ref(A, H, n, np.random.default_rng(0)), repeats=1)
            row = (f"{name:<9} {mult:>4} {n:>6} {t_ours:>9.4f} {t_ref:>9.3f} {t_ref / t_ours:>7.0f}x "
                   f"{str(x_ours.shape == x_ref.shape):>8} {mean_distance_to(x_ours, A):>9.4f} "
                   f"{mean_distance_to(x_ref, A):>9.4f}")
            print(row, flush=True)
            lines.append(row)
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text("\n".join(lines) + "\n")
        print(f"# written to {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
