"""The ADBench split protocol, reproduced draw for draw, plus the paper's label-ratio subset.

ADBench's ``DataGenerator.generator`` seeds NumPy's global RNG and reseeds it before the
duplication and subsampling draws; we replay the same sequence of draws on one private
``numpy.random.RandomState(seed)`` stream (reseeded at the same points), so our splits equal
ADBench's for the same seed without touching global state:

1. ``n < 1000``: 1000 row indices with replacement (reseeded) -- optional, ``duplicate_small``;
2. ``n > 10000``: 10000 row indices without replacement (reseeded);
3. stratified ``train_test_split(test_size=0.3, shuffle=True)`` drawing from the stream;
4. ``MinMaxScaler`` fit on train, applied to train and test;
5. ``ceil(la * n_train_anomalies)`` labeled anomalies drawn without replacement;
6. (NNG-Mix) ``ceil(keep * n_labeled)`` of the labeled anomalies, taken in split order, kept in
   the order drawn (no draw when ``keep == 1``); the others leave the training set
   (``drop_unkept``) or become unlabeled rows;
7. (Fig. 4) ``pollution``: the fraction of unlabeled training anomalies that stay unlabeled
   (drawn without replacement, no draw when 1.0); the rest leave the training set.

``split="grouped"`` (beyond the paper, the leakage control of ``results/leakage.md``) changes step 3 only
when step 1 resampled: every copy of one source row goes to the same side, with exactly ADBench's test
size and per-class test counts for the same seed (:func:`grouped_split`), so data size and labeled counts
are ADBench's and only the train/test copies go. Without resampling every group is one row and the split
is ADBench's, draw for draw.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

N_LOWER = 1000
N_UPPER = 10000
SPLITS = ("adbench", "grouped")


@dataclass
class Split:
    """One train/test split ready for augmentation and training."""

    X_unlabeled: np.ndarray  # H: unlabeled training rows (label 0), split order
    X_labeled: np.ndarray  # A: kept labeled anomalies (label 1), order drawn
    X_test: np.ndarray
    y_test: np.ndarray
    y_unlabeled_true: np.ndarray  # ground truth of H (1 = contamination), for diagnostics only
    info: dict = field(default_factory=dict)

    def training_set(self, X_generated: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Unlabeled rows, then labeled anomalies, then generated ones; labels 0, 1, 1."""
        d = self.X_unlabeled.shape[1]
        gen = np.empty((0, d)) if X_generated is None else np.asarray(X_generated, dtype=np.float64)
        if gen.ndim != 2 or gen.shape[1] != d:
            raise ValueError(f"generated pseudo-anomalies must have shape (n, {d}), got {gen.shape}")
        X = np.vstack([self.X_unlabeled, self.X_labeled, gen])
        y = np.r_[np.zeros(len(self.X_unlabeled)), np.ones(len(self.X_labeled) + len(gen))].astype(np.int64)
        return X, y


def adbench_generate(
    X: np.ndarray,
    y: np.ndarray,
    seed: int,
    la: float = 0.1,
    test_size: float = 0.3,
    duplicate_small: bool = True,
    split: str = "adbench",
) -> tuple[dict, np.random.RandomState]:
    """ADBench's ``DataGenerator.generator(la=la, at_least_one_labeled=True)`` on a private stream.

    Returns ADBench's dict (``X_train``, ``y_train`` with 1 only for labeled anomalies,
    ``X_test``, ``y_test``, plus ``y_train_true`` and ``idx_labeled`` in the order drawn) and the
    stream, positioned where ADBench's global RNG would be afterwards. ``split="grouped"`` keeps the
    copies of each source row on one side (:func:`grouped_split`); its stream then diverges from ADBench's.
    """
    if split not in SPLITS:
        raise ValueError(f"protocol.split must be one of {', '.join(SPLITS)}, got {split!r}")
    if not 0 < la <= 1:
        raise ValueError(f"label_ratio.la must be in (0, 1], got {la}")
    if not 0 < test_size < 1:
        raise ValueError(f"protocol.test_size must be in (0, 1), got {test_size}")
    rs = np.random.RandomState(seed)
    info = {"n_original": len(y), "duplicated": False, "subsampled": False}
    source = None  # source row of each row, when resampled with replacement
    if len(y) < N_LOWER and duplicate_small:
        rs = np.random.RandomState(seed)
        idx = rs.choice(np.arange(len(y)), N_LOWER, replace=True)
        X, y = X[idx], y[idx]
        info["duplicated"] = True
        source = idx
    if len(y) > N_UPPER:
        rs = np.random.RandomState(seed)
        idx = rs.choice(np.arange(len(y)), N_UPPER, replace=False)
        X, y = X[idx], y[idx]
        info["subsampled"] = True
    if split == "grouped" and source is not None:
        train_idx, test_idx = grouped_split(source, y, test_size, rs)
        X_train, X_test, y_train, y_test = X[train_idx], X[test_idx], y[train_idx], y[test_idx]
    else:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, shuffle=True, stratify=y, random_state=rs
        )
    scaler = MinMaxScaler().fit(X_train)
    X_train = scaler.transform(X_train).astype(np.float64)
    X_test = scaler.transform(X_test).astype(np.float64)

    idx_anomaly = np.where(y_train == 1)[0]
    idx_labeled = rs.choice(idx_anomaly, math.ceil(la * len(idx_anomaly)), replace=False)
    y_train_true = y_train.copy()
    y_train = np.zeros_like(y_train)
    y_train[idx_labeled] = 1
    out = dict(X_train=X_train, y_train=y_train, X_test=X_test, y_test=np.asarray(y_test),
               y_train_true=y_train_true, idx_labeled=idx_labeled, info=info)
    return out, rs


def _subset_near_sum(sizes: np.ndarray, target: int) -> np.ndarray:
    """Indices of a subset of ``sizes`` (positive ints) whose sum is ``target``, or the nearest reachable
    sum (the lower one on a tie); subset-sum by dynamic programming, preferring early entries."""
    total = int(sizes.sum())
    reach = np.full(total + 1, -1, dtype=np.int64)  # reach[s]: the item that first reached sum s
    reach[0] = len(sizes)  # sentinel
    for i, c in enumerate(sizes):
        if target <= total and reach[target] >= 0:
            break
        new = np.where((reach[: total + 1 - c] >= 0) & (reach[c:] < 0))[0]  # sums reached before item i
        reach[new + c] = i
    sums = np.where(reach >= 0)[0]
    s = int(sums[np.argmin(np.abs(sums - target) * 2 + (sums > target))])
    out = []
    while s > 0:
        i = int(reach[s])
        out.append(i)
        s -= int(sizes[i])
    return np.array(out, dtype=np.int64)


def grouped_split(source: np.ndarray, y: np.ndarray, test_size: float,
                  rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices with every copy of a source row on one side.

    Per class, the test side takes as many rows as ADBench's stratified split of ``y`` with the same
    stream would (its counts are read from a copy of ``rs``): whole groups of copies in random order,
    the first that fit, then an exact subset-sum over the groups in that order when the greedy fill
    falls short. When a class's copies cannot make up its count exactly (a few source anomalies with
    many copies each), it takes the nearest count and the largest class absorbs the difference, so
    the test size is always ADBench's. Both sides are then shuffled.
    """
    _, y_test_ref = train_test_split(y, test_size=test_size, shuffle=True, stratify=y,
                                     random_state=copy.deepcopy(rs))
    classes = sorted(np.unique(y), key=lambda c: ((y == c).sum(), c))  # largest class last
    test_rows, shift = [], 0
    for k, cls in enumerate(classes):
        rows = np.where(y == cls)[0]
        groups, inverse, sizes = np.unique(source[rows], return_inverse=True, return_counts=True)
        target = int((y_test_ref == cls).sum()) + (shift if k == len(classes) - 1 else 0)
        order = rs.permutation(len(groups))
        taken, total = [], 0
        for g in order:  # greedy: whole groups in random order while they fit
            if total + sizes[g] <= target:
                taken.append(g)
                total += sizes[g]
        if total != target:
            taken = order[_subset_near_sum(sizes[order], target)]
        in_test = np.isin(inverse, np.asarray(taken, dtype=np.int64))
        shift += target - int(in_test.sum())
        test_rows.append(rows[in_test])
    test_idx = np.concatenate(test_rows)
    train_idx = np.setdiff1d(np.arange(len(y)), test_idx)
    return train_idx[rs.permutation(len(train_idx))], test_idx[rs.permutation(len(test_idx))]


def make_split(
    X: np.ndarray,
    y: np.ndarray,
    seed: int,
    la: float = 0.1,
    keep: float = 1.0,
    test_size: float = 0.3,
    duplicate_small: bool = True,
    drop_unkept: bool = True,
    pollution: float = 1.0,
    split: str = "adbench",
) -> Split:
    """The full protocol (module docstring, steps 1-7) for one dataset and seed."""
    if not 0 < keep <= 1:
        raise ValueError(f"label_ratio.keep must be in (0, 1], got {keep}")
    if not 0 <= pollution <= 1:
        raise ValueError(f"protocol.pollution must be in [0, 1], got {pollution}")
    ad, rs = adbench_generate(X, y, seed, la=la, test_size=test_size, duplicate_small=duplicate_small,
                              split=split)
    X_train, y_train, y_true = ad["X_train"], ad["y_train"], ad["y_train_true"]

    labeled = np.where(y_train == 1)[0]  # split order, as the paper's code reads them back
    if keep < 1:
        pos = rs.choice(len(labeled), math.ceil(keep * len(labeled)), replace=False)
        kept = labeled[pos]
    else:
        kept = labeled
    unkept = np.setdiff1d(labeled, kept)

    unlabeled_mask = y_train == 0
    if not drop_unkept:
        unlabeled_mask[unkept] = True
    contamination = np.where(unlabeled_mask & (y_true == 1))[0]
    n_polluted = len(contamination)
    if pollution < 1 and len(contamination):
        stay = rs.choice(contamination, int(round(pollution * len(contamination))), replace=False)
        unlabeled_mask[np.setdiff1d(contamination, stay)] = False
        n_polluted = len(stay)
    unlabeled = np.where(unlabeled_mask)[0]

    info = dict(ad["info"])
    info.update(
        n_train_split=len(y_train),
        n_train_anomalies=int(y_true.sum()),
        n_labeled_total=len(labeled),
        n_labeled=len(kept),
        n_unlabeled=len(unlabeled),
        n_unlabeled_anomalies=n_polluted,
        n_dropped=len(y_train) - len(unlabeled) - len(kept),
        n_test=len(ad["y_test"]),
    )
    return Split(
        X_unlabeled=X_train[unlabeled],
        X_labeled=X_train[kept],
        X_test=ad["X_test"],
        y_test=ad["y_test"].astype(np.int64),
        y_unlabeled_true=y_true[unlabeled].astype(np.int64),
        info=info,
    )
