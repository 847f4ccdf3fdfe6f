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

``split="grouped_identical"`` (beyond the paper, the fully grouped protocol) groups by *value* instead: every
row equal to another (a copy made by step 1, or a natural duplicate in the file) is in one group, so no test
row has an identical row in training. Groups that mix labels (identical features, different labels) go to one
side whole (:func:`grouped_split`) and are counted in ``info`` (``n_conflict_groups``, ``n_conflict_rows``).
The groups are numbered by the first file row of each value, so on a file without repeated rows the groups
are the source rows and the split equals ``grouped``'s draw for draw; with no group of two rows or more (a
file without repeated rows, not resampled) it is ADBench's split, draw for draw.
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
SPLITS = ("adbench", "grouped", "grouped_identical")


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
    first = first_identical_row(X) if split == "grouped_identical" else None
    rows = np.arange(len(y))  # file row of each row
    if len(y) < N_LOWER and duplicate_small:
        rs = np.random.RandomState(seed)
        idx = rs.choice(np.arange(len(y)), N_LOWER, replace=True)
        X, y = X[idx], y[idx]
        info["duplicated"] = True
        source = idx
        rows = rows[idx]
    if len(y) > N_UPPER:
        rs = np.random.RandomState(seed)
        idx = rs.choice(np.arange(len(y)), N_UPPER, replace=False)
        X, y = X[idx], y[idx]
        info["subsampled"] = True
        rows = rows[idx]
    groups = None
    if split == "grouped" and source is not None:
        groups = source
    elif split == "grouped_identical":
        groups = first[rows]  # one group per distinct row value, numbered by its first file row
        info.update(identical_groups(groups, y))
        if info["n_identical_groups"] == 0:
            groups = None  # every row distinct: ADBench's split, draw for draw
    if groups is not None:
        train_idx, test_idx = grouped_split(groups, y, test_size, rs)
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


def first_identical_row(X: np.ndarray) -> np.ndarray:
    """For each row of ``X``, the index of the first row with the same values (exact float64 equality)."""
    X = np.ascontiguousarray(X, dtype=np.float64) + 0.0  # + 0.0: -0.0 and 0.0 are one value
    keys = X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first[inverse.ravel()]


def identical_groups(groups: np.ndarray, y: np.ndarray) -> dict[str, int]:
    """Counts of the groups of identical rows: ``n_identical_groups`` (groups of two rows or more),
    ``n_identical_rows`` (rows in them), ``n_conflict_groups`` (groups whose rows carry both labels) and
    ``n_conflict_rows`` (rows in those)."""
    ids, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    anomalies = np.bincount(inverse.ravel(), weights=(np.asarray(y) == 1), minlength=len(ids))
    conflict = (anomalies > 0) & (anomalies < sizes)
    return {"n_identical_groups": int((sizes > 1).sum()), "n_identical_rows": int(sizes[sizes > 1].sum()),
            "n_conflict_groups": int(conflict.sum()), "n_conflict_rows": int(sizes[conflict].sum())}


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

    Groups that hold both labels (identical rows with conflicting labels, ``split="grouped_identical"``) are
    placed first, whole (:func:`_place_mixed`), and the per-class counts left are filled as above; with none
    (always under ``split="grouped"``: copies share their source's label) no draw is made for them.
    """
    _, y_test_ref = train_test_split(y, test_size=test_size, shuffle=True, stratify=y,
                                     random_state=copy.deepcopy(rs))
    classes = sorted(np.unique(y), key=lambda c: ((y == c).sum(), c))  # largest class last
    targets = {cls: int((y_test_ref == cls).sum()) for cls in classes}
    test_rows, shift = [], 0
    mixed = _mixed_groups(source, y)
    if mixed.any():  # groups with both labels go to one side whole first (no draw when there are none)
        taken = _place_mixed(source, y, mixed, targets, test_size, rs)
        test_rows.append(taken)
        for cls in classes:
            targets[cls] -= int((y[taken] == cls).sum())
    for k, cls in enumerate(classes):
        rows = np.where((y == cls) & ~mixed)[0]
        groups, inverse, sizes = np.unique(source[rows], return_inverse=True, return_counts=True)
        target = targets[cls] + (shift if k == len(classes) - 1 else 0)
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


def _mixed_groups(source: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per row, whether its group holds rows of more than one label."""
    ids, inverse = np.unique(source, return_inverse=True)
    inverse = inverse.ravel()
    lo = np.full(len(ids), np.inf)
    hi = np.full(len(ids), -np.inf)
    np.minimum.at(lo, inverse, y.astype(float))
    np.maximum.at(hi, inverse, y.astype(float))
    return (lo != hi)[inverse]


def _place_mixed(source: np.ndarray, y: np.ndarray, mixed: np.ndarray, targets: dict, test_size: float,
                 rs: np.random.RandomState) -> np.ndarray:
    """Row indices of the mixed-label groups that go to the test side: whole groups in random order while the
    test side's share of the mixed rows stays within ``round(test_size x mixed rows)`` and every class stays
    within its test count."""
    rows = np.where(mixed)[0]
    groups, inverse = np.unique(source[rows], return_inverse=True)
    inverse = inverse.ravel()
    cap = int(round(test_size * len(rows)))
    used = {cls: 0 for cls in targets}
    total, taken = 0, []
    for g in rs.permutation(len(groups)):
        members = rows[inverse == g]
        counts = {cls: int((y[members] == cls).sum()) for cls in targets}
        if total + len(members) <= cap and all(used[c] + counts[c] <= targets[c] for c in targets):
            taken.append(members)
            total += len(members)
            for c in targets:
                used[c] += counts[c]
    return np.concatenate(taken) if taken else np.empty(0, dtype=np.int64)


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
