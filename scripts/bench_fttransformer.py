"""FT-Transformer on a CPU: what a run costs per dataset, whether our training loop wastes time, and how
much of the CPU's arithmetic it uses (issue 32).

1. Cost per dataset. For each Classical dataset under the data root: the training rows of Table I's
   NNG-Mix run (1% labels, 10x; Baseline has slightly fewer), the features, and the fit time of 100
   epochs extrapolated from ``--epochs`` timed epochs on at most ``--rows`` of its training rows (the
   cost is linear in rows for a fixed number of features). The rule for the CPU subset: estimated fit
   <= ``--budget-min`` CPU-minutes on one thread. Prints the list, cheapest first.
2. Our loop against a reference loop. The reference is the plain way of training an
   ``rtdl_revisiting_models.FTTransformer``: a ``TensorDataset`` and a ``DataLoader`` whose batches
   come from the same seeded permutations as ours, the model's default optimizer, BCE on the logit.
   Same data, seed and epochs: the scores must agree, and the wall-time ratio measures our loop.
3. FLOP/s. ``torch.utils.flop_counter`` counts the FLOPs of one training step (forward + backward),
   from which the achieved FLOP/s of a fit follows; compared with the FLOP/s of a large float32 matmul
   on the same thread(s), the CPU's practical peak.

Usage: python scripts/bench_fttransformer.py [--threads 1] [--rows 512] [--epochs 2] [--budget-min 3]
       [--loop-dataset 29_Pima] [--loop-epochs 5]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf
from sklearn.metrics import roc_auc_score
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from adbench_repro.augmenters.nng_mix import NNGMix
from adbench_repro.datasets import load_arrays, make_split
from adbench_repro.datasets.catalog import dataset_names
from adbench_repro.datasets.loader import DataError
from adbench_repro.detectors.fttransformer import FTTransformerDetector
from adbench_repro.provenance import cpu_model

CONF = Path(__file__).resolve().parents[1] / "conf"
FULL_EPOCHS = 100


def table1_training_set(name: str, root: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and test arrays of Table I's NNG-Mix run (1% labels, 10x) of dataset ``name``."""
    lr = OmegaConf.load(CONF / "label_ratio" / "1pct.yaml")
    X, y = load_arrays(name, root)
    split = make_split(X, y, seed=seed, la=float(lr.la), keep=float(lr.keep))
    n_gen = 10 * len(split.X_labeled)
    X_gen = NNGMix().generate(split.X_labeled, split.X_unlabeled, n_gen, np.random.default_rng(seed))
    X_train, y_train = split.training_set(X_gen)
    return X_train, y_train, split.X_test, split.y_test


def stratified_rows(y: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """At most ``n`` row indices with the class shares of ``y`` and at least one row of each class."""
    rng = np.random.default_rng(seed)
    if len(y) <= n:
        return np.arange(len(y))
    pos, neg = rng.permutation(np.flatnonzero(y == 1)), rng.permutation(np.flatnonzero(y == 0))
    n_pos = min(len(pos), max(1, round(n * len(pos) / len(y))))
    return np.sort(np.r_[pos[:n_pos], neg[: n - n_pos]])


def fit_cpu_seconds(X: np.ndarray, y: np.ndarray, epochs: int) -> float:
    """CPU seconds of one FT-Transformer fit of ``epochs`` epochs (default configuration): on one thread the
    cost of the fit, whatever else the machine runs."""
    t0 = time.process_time()
    FTTransformerDetector(epochs=epochs, seed=0).fit(X, y)
    return time.process_time() - t0


def timed_rows(n_features: int, rows: int) -> int:
    """Rows to time on: ``rows``, fewer for wide data, whose attention maps (features^2 per row and head) would
    not fit in memory at 512 rows (17_InternetAds has 1,555 features)."""
    return max(4, min(rows, int(2_000_000 / (n_features + 1) ** 2)))


def reference_fit(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, epochs: int, seed: int) -> tuple[float, np.ndarray]:
    """The plain rtdl training loop: DataLoader over a TensorDataset, batches of 64 from one seeded
    permutation per epoch (the same permutations as ours), default optimizer, BCE. Returns (seconds, scores)."""
    from rtdl_revisiting_models import FTTransformer

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    model = FTTransformer(n_cont_features=X.shape[1], cat_cardinalities=[], d_out=1,
                          **FTTransformer.get_default_kwargs(3))
    optimizer = model.make_default_optimizer()
    data = TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    # the DataLoader's own base seed comes from a generator of its own, not torch's default one,
    # so that dropout sees the same random stream as in our loop
    loader_gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=gen).tolist()
        batches = [order[i:i + 64] for i in range(0, len(order), 64)]
        model.train()
        for xb, yb in DataLoader(data, batch_sampler=batches, generator=loader_gen):
            loss = F.binary_cross_entropy_with_logits(model(xb, None).squeeze(-1), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        scores = torch.sigmoid(model(torch.tensor(X_test, dtype=torch.float32), None).squeeze(-1)).numpy()
    return seconds, scores


def step_flops(n_features: int, batch: int = 64) -> int:
    """FLOPs of one training step (forward + backward) of the default FT-Transformer on ``batch`` rows."""
    from rtdl_revisiting_models import FTTransformer
    from torch.utils.flop_counter import FlopCounterMode

    model = FTTransformer(n_cont_features=n_features, cat_cardinalities=[], d_out=1,
                          **FTTransformer.get_default_kwargs(3))
    xb, yb = torch.randn(batch, n_features), torch.ones(batch)
    with FlopCounterMode(display=False) as counter:
        F.binary_cross_entropy_with_logits(model(xb, None).squeeze(-1), yb).backward()
    return int(counter.get_total_flops())


def matmul_flops_per_s(n: int = 1024, repeats: int = 10) -> float:
    """Practical float32 peak: FLOP/s of an n x n matmul on the current thread setting (best CPU time of ``repeats``)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best


def _timed(fn) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=os.environ.get("ADBENCH_DATA", "data/adbench"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rows", type=int, default=512, help="training rows timed per dataset (part 1)")
    ap.add_argument("--epochs", type=int, default=2, help="epochs timed per dataset (part 1)")
    ap.add_argument("--budget-min", type=float, default=3.0, help="CPU-minute bound of the CPU subset")
    ap.add_argument("--loop-dataset", default="29_Pima")
    ap.add_argument("--loop-epochs", type=int, default=5)
    ap.add_argument("--skip-cost", action="store_true", help="skip part 1")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# bench_fttransformer: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
          f"nproc {os.cpu_count()}; CPU {cpu_model()}; torch {torch.__version__} ({torch.get_num_threads()} "
          f"thread(s)); python {platform.python_version()}")

    if not args.skip_cost:
        print(f"\n## 1. Cost of one run (100 epochs, extrapolated from {args.epochs} epoch(s) on <= {args.rows} "
              f"training rows), Table I's NNG-Mix training set at seed 0")
        rows = []
        for name in dataset_names("classical"):
            try:
                X, y, _, _ = table1_training_set(name, args.data_root)
            except DataError:
                print(f"{name:24s} not under {args.data_root}: left out")
                continue
            sub = stratified_rows(y, timed_rows(X.shape[1], args.rows))
            sec = fit_cpu_seconds(X[sub], y[sub], args.epochs)
            est_min = sec / args.epochs * FULL_EPOCHS * len(X) / len(sub) / 60
            rows.append((est_min, name, len(X), X.shape[1]))
            print(f"{name:24s} train {len(X):6d} x {X.shape[1]:4d}  timed on {len(sub):4d} rows  ~{est_min:8.1f} "
                  "CPU-min", flush=True)
        rows.sort()
        subset = [name for est, name, _, _ in rows if est <= args.budget_min]
        print(f"\nrule: estimated fit <= {args.budget_min:g} CPU-min on {args.threads} thread(s): "
              f"{len(subset)} of {len(rows)} datasets")
        print("subset (cheapest first): " + ", ".join(subset))

    print(f"\n## 2. Our loop vs the plain rtdl loop ({args.loop_dataset}, seed 0, {args.loop_epochs} epochs, "
          "same batches)")
    X, y, X_test, y_test = table1_training_set(args.loop_dataset, args.data_root)
    c0 = time.process_time()
    ref_s, ref_scores = reference_fit(X, y, X_test, args.loop_epochs, seed=0)
    ref_cpu = time.process_time() - c0
    c0, t0 = time.process_time(), time.perf_counter()
    ours = FTTransformerDetector(epochs=args.loop_epochs, seed=0).fit(X, y)
    our_s = time.perf_counter() - t0
    our_cpu = time.process_time() - c0
    our_scores = ours.decision_function(X_test)
    print(f"wall: reference {ref_s:.2f} s  ours {our_s:.2f} s  ratio {ref_s / our_s:.2f}x; CPU: reference "
          f"{ref_cpu:.2f} s  ours {our_cpu:.2f} s  ratio (reference / ours) {ref_cpu / our_cpu:.2f}x; "
          f"max |score difference| {np.max(np.abs(ref_scores - our_scores)):.2e}; AUCROC reference "
          f"{roc_auc_score(y_test, ref_scores):.4f} ours {roc_auc_score(y_test, our_scores):.4f}")

    print("\n## 3. Achieved FLOP/s")
    flops = step_flops(X.shape[1])
    steps = args.loop_epochs * -(-len(X) // 64)
    achieved = flops * steps / our_cpu
    peak = matmul_flops_per_s()
    print(f"one training step (64 rows x {X.shape[1]} features): {flops / 1e9:.3f} GFLOP; "
          f"{steps} steps in {our_cpu:.2f} CPU-s -> {achieved / 1e9:.2f} GFLOP/s; 1024^3 matmul on the same threads "
          f"{peak / 1e9:.1f} GFLOP/s; fraction {achieved / peak:.2f}")


if __name__ == "__main__":
    main()
