"""Leakage audit: how many test rows the detector has already seen in training, and which datasets share rows.

ADBench resamples every dataset of fewer than 1000 rows *with replacement* to 1000 rows before the 70/30
split (``protocol.duplicate_small``), so copies of one row can land on both sides. The audit measures, per
dataset and seed, the share of test rows that have an exact duplicate among **the rows the detector trains
on** at Table I's label ratio (1 %: the unlabeled rows plus the kept labeled anomalies, after ``keep`` and
the drop of the unkept ones; generated pseudo-anomalies not counted), with ADBench's split, with the grouped
split (``protocol.split=grouped``), with the fully grouped split (``protocol.split=grouped_identical``) and
without the resampling; and, as an upper bound, the same share against the whole 70 % training split. Per file,
the values repeated (identical rows) and those whose rows carry both labels (label-conflicting duplicates). It also lists the pairs of datasets with identical rows (same number
of features, equal values). On datasets that are not resampled, the shares are the file's natural duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .catalog import dataset_names
from .loader import dataset_path, load_arrays
from .split import N_LOWER, first_identical_row, identical_groups, make_split


def _row_keys(X: np.ndarray) -> np.ndarray:
    """One hashable key per row (its float64 bytes), so equal rows have equal keys."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    return X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()


def share_seen_in_training(X_train: np.ndarray, X_test: np.ndarray) -> float:
    """Share of the rows of ``X_test`` that have an exact duplicate in ``X_train``."""
    if len(X_test) == 0:
        return 0.0
    return float(np.isin(_row_keys(X_test), _row_keys(X_train)).mean())


#: Table I's label ratio (1 %): ADBench's la and the paper's keep
AUDIT_LA, AUDIT_KEEP = 0.1, 0.1


@dataclass
class AuditRow:
    """One dataset's audit line; every share is of the test rows that have an exact copy in training."""

    dataset: str
    rows: int
    duplicated: bool            # ADBench resamples it to 1000 rows
    seen_with: float            # in the rows the detector trains on (1 %), ADBench's split
    seen_without: float         # same, duplicate_small=false
    self_duplicates: float      # share of the file's rows that repeat an earlier row (before any protocol)
    seen_grouped: float = float("nan")  # same as seen_with, protocol.split=grouped
    seen_split: float = float("nan")    # in the whole 70 % training split, ADBench's (upper bound of seen_with)
    # the fully grouped split (protocol.split=grouped_identical) and the file's identical rows
    seen_identical: float = float("nan")  # same as seen_with, protocol.split=grouped_identical
    identical_groups: int = 0           # values repeated in the file (groups of two rows or more)
    identical_rows: int = 0             # rows in them
    conflict_groups: int = 0            # of those, groups whose rows carry both labels
    conflict_rows: int = 0              # rows in them
    test_anomalies: tuple[int, int] = (0, 0)  # test anomalies, ADBench's split and grouped_identical
    labeled: tuple[int, int] = (0, 0)         # kept labeled anomalies (1 %), the same two


def _seen(s) -> float:
    """Share of ``s``'s test rows with an exact copy among the rows the detector trains on."""
    return share_seen_in_training(np.vstack([s.X_unlabeled, s.X_labeled]), s.X_test)


def audit_dataset(name: str, root=None, seed: int = 0) -> AuditRow:
    """The audit line of one dataset at Table I's label ratio (1 %)."""
    from .split import adbench_generate

    X, y = load_arrays(name, root)
    adb = make_split(X, y, seed, la=AUDIT_LA, keep=AUDIT_KEEP)
    duplicated = bool(adb.info["duplicated"])
    grouped = make_split(X, y, seed, la=AUDIT_LA, keep=AUDIT_KEEP, split="grouped") if duplicated else adb
    without = make_split(X, y, seed, la=AUDIT_LA, keep=AUDIT_KEEP, duplicate_small=False) if duplicated else adb
    whole, _ = adbench_generate(X, y, seed, la=AUDIT_LA)
    keys = _row_keys(X)
    full = make_split(X, y, seed, la=AUDIT_LA, keep=AUDIT_KEEP, split="grouped_identical")
    same = identical_groups(first_identical_row(X), y)
    return AuditRow(dataset=name, rows=len(X), duplicated=duplicated, seen_with=_seen(adb),
                    seen_without=_seen(without), self_duplicates=1.0 - len(np.unique(keys)) / len(keys),
                    seen_grouped=_seen(grouped),
                    seen_split=share_seen_in_training(whole["X_train"], whole["X_test"]),
                    seen_identical=_seen(full), identical_groups=same["n_identical_groups"],
                    identical_rows=same["n_identical_rows"], conflict_groups=same["n_conflict_groups"],
                    conflict_rows=same["n_conflict_rows"],
                    test_anomalies=(int(adb.y_test.sum()), int(full.y_test.sum())),
                    labeled=(len(adb.X_labeled), len(full.X_labeled)))


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
    out = ["| dataset | rows | resampled to 1000 | seen by the detector (ADBench split) | grouped split "
           "| without resampling | in the 70 % training split (upper bound) | repeated rows in the file |",
           "|---|---|---|---|---|---|---|---|"]
    for r in sorted(lines, key=lambda r: (-r.seen_with, r.dataset)):
        out.append(f"| {r.dataset} | {r.rows} | {'yes' if r.duplicated else 'no'} | {r.seen_with:.1%} "
                   f"| {r.seen_grouped:.1%} | {r.seen_without:.1%} | {r.seen_split:.1%} | {r.self_duplicates:.1%} |")
    out += ["", f"Seed {seed}. Each share is of the test rows that have an exact copy (equal values) in training. "
            "*Seen by the detector*: among the rows the detector trains on at Table I's label ratio (1 %: la = 0.1, "
            "keep = 0.1): the unlabeled rows plus the kept labeled anomalies, after the unkept labeled anomalies "
            "are dropped; generated pseudo-anomalies are not counted. *In the 70 % training split*: against every "
            "row of ADBench's training split, an upper bound of the first. On datasets that are not resampled the "
            "three splits are the same and the share is the file's natural duplicates.", ""]
    if pairs:
        out += ["Datasets that share identical rows (same features, equal values):", "",
                "| dataset a | dataset b | rows of a also in b | rows of a | rows of b |", "|---|---|---|---|---|"]
        out += [f"| {a} | {b} | {n} | {na} | {nb} |" for a, b, n, na, nb in pairs]
    else:
        out.append("No two datasets share an identical row.")
    return "\n".join(out) + "\n"
