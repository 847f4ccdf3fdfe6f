"""Leakage audit: how many test rows the detector has already seen in training, and which datasets share rows.

ADBench resamples every dataset of fewer than 1000 rows *with replacement* to 1000 rows before the 70/30
split (``protocol.duplicate_small``), so copies of one row can land on both sides. The audit measures, per
dataset and seed, the share of test rows that have an exact duplicate among the training rows (unlabeled
and labeled, as the detector sees them) with and without that resampling, and lists the pairs of datasets
with identical rows (same number of features, equal values).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .catalog import dataset_names
from .loader import dataset_path, load_arrays
from .split import N_LOWER, make_split


def _row_keys(X: np.ndarray) -> np.ndarray:
    """One hashable key per row (its float64 bytes), so equal rows have equal keys."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    return X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()


def share_seen_in_training(X_train: np.ndarray, X_test: np.ndarray) -> float:
    """Share of the rows of ``X_test`` that have an exact duplicate in ``X_train``."""
    if len(X_test) == 0:
        return 0.0
    return float(np.isin(_row_keys(X_test), _row_keys(X_train)).mean())


@dataclass
class AuditRow:
    """One dataset's audit line."""

    dataset: str
    rows: int
    duplicated: bool            # ADBench resamples it to 1000 rows
    seen_with: float            # share of test rows also in training, duplicate_small=true (ADBench)
    seen_without: float         # same, duplicate_small=false
    self_duplicates: float      # share of the file's rows that repeat an earlier row (before any protocol)


def audit_dataset(name: str, root=None, seed: int = 0) -> AuditRow:
    """The audit line of one dataset (label ratio 10%, i.e. every labeled anomaly in training)."""
    X, y = load_arrays(name, root)
    shares = []
    for dup in (True, False):
        s = make_split(X, y, seed, la=0.1, keep=1.0, duplicate_small=dup)
        shares.append(share_seen_in_training(np.vstack([s.X_unlabeled, s.X_labeled]), s.X_test))
    keys = _row_keys(X)
    return AuditRow(dataset=name, rows=len(X), duplicated=len(X) < N_LOWER, seen_with=shares[0],
                    seen_without=shares[1], self_duplicates=1.0 - len(np.unique(keys)) / len(keys))


def shared_rows(names: list[str], root=None) -> list[tuple[str, str, int, int, int]]:
    """``(a, b, rows of a also in b, rows of a, rows of b)`` for every pair of datasets that share rows."""
    keys, dims, sizes = {}, {}, {}
    for n in names:
        X, _ = load_arrays(n, root)
        keys[n], dims[n], sizes[n] = _row_keys(X), X.shape[1], len(X)
    out = []
    for a, b in combinations(names, 2):
        if dims[a] != dims[b]:
            continue
        n_shared = int(np.isin(keys[a], keys[b]).sum())
        if n_shared:
            out.append((a, b, n_shared, sizes[a], sizes[b]))
    return out


def audit(root=None, family: str = "classical", seed: int = 0) -> tuple[list[AuditRow], list[tuple]]:
    """Audit every dataset of ``family`` present under ``root``: per-dataset lines and shared-row pairs."""
    names = [n for n in dataset_names(family) if dataset_path(n, root).is_file()]
    return [audit_dataset(n, root, seed) for n in names], shared_rows(names, root)


def audit_markdown(lines: list[AuditRow], pairs: list[tuple], seed: int = 0) -> str:
    """The audit as Markdown tables (affected datasets first)."""
    out = [f"| dataset | rows | resampled to 1000 | test rows seen in training (ADBench) | without resampling "
           f"| repeated rows in the file |", "|---|---|---|---|---|---|"]
    for r in sorted(lines, key=lambda r: (-r.seen_with, r.dataset)):
        out.append(f"| {r.dataset} | {r.rows} | {'yes' if r.duplicated else 'no'} | {r.seen_with:.1%} "
                   f"| {r.seen_without:.1%} | {r.self_duplicates:.1%} |")
    out += ["", f"Seed {seed}, every labeled anomaly in training (la = 0.1, keep = 1). "
            "A row counts as seen when a training row (unlabeled or labeled) has exactly the same values.", ""]
    if pairs:
        out += ["Datasets that share identical rows (same features, equal values):", "",
                "| dataset a | dataset b | rows of a also in b | rows of a | rows of b |", "|---|---|---|---|---|"]
        out += [f"| {a} | {b} | {n} | {na} | {nb} |" for a, b, n, na, nb in pairs]
    else:
        out.append("No two datasets share an identical row.")
    return "\n".join(out) + "\n"
