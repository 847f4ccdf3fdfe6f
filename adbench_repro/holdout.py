"""Validation signals from rows the detector did not fit: ``validation.holdout`` (issue 31).

The signals of :mod:`.signals` are in-sample: the unlabeled rows that ``val_xgen_*`` ranks its validation points
against were training rows of the detector. With ``validation.holdout = h > 0`` a run, after its own fit, test
scores and in-sample signals (left untouched: everything here comes after them, on its own streams), does once
more what it did, on part of its training split, and scores the rest:

1. :func:`draw` holds out a fraction ``h`` of the training split, stratified: ``nearest(h × n)`` of the kept
   labeled anomalies (at most all but one, so the second fit keeps one: with one labeled anomaly none is held
   out) and ``nearest(h × n)`` of the unlabeled rows (at least one). It draws *groups of identical rows*, in a
   random order from the private stream ``signals.stream(seed, "holdout")``, so no held-out row has a copy in
   the fit (the resampled small datasets copy rows; some files repeat rows themselves);
2. the run's generator, with its settings and seed, makes ``multiplier × (labeled anomalies left)``
   pseudo-anomalies from the rows left; a second detector (the run's config and seed) fits them as the run
   fits its own training set (:meth:`Split.training_set`);
3. the signals, on the held-out unlabeled rows only (no test row, no label beyond the training split's):
   ``val_ho_mmd`` (MMD between the second fit's training set and the held-out rows, in place of the test rows)
   and ``val_ho_xgen_<g>`` (AUC of the second detector's scores of ``g``'s points, made from the rows left,
   against the held-out rows, in place of its own training rows).

Logged besides: ``holdout_fraction`` (``h``), ``holdout_unlabeled`` and ``holdout_anomalies`` (rows held out)
and ``holdout_s`` (the time of all of it: about one more generation and fit per run).
"""

from __future__ import annotations

import dataclasses
import time

import hydra
import numpy as np

from .confighash import effective_multiplier
from .outputs import holdout_fraction
from .signals import mmd_signal, stream, xgen_signals


def nearest(x: float) -> int:
    """``x`` rounded to the nearest whole number, halves up (``nearest(0.5) == 1``)."""
    return int(np.floor(x + 0.5))


def draw(X_unlabeled: np.ndarray, X_labeled: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(held_unlabeled, held_labeled)``: boolean masks of the rows held out (see the module docstring).

    Identical rows (over both parts) form one group and go to one side together; the labeled anomalies' groups are
    drawn first (up to ``nearest(fraction × n_labeled)`` of them held out, at least one left), then the unlabeled
    groups that hold no labeled anomaly left to fit, in random order, until ``nearest(fraction × n_unlabeled)``
    (at least one) unlabeled rows are held out, never all of them."""
    if not 0 < fraction < 1:
        raise ValueError(f"validation.holdout must be in (0, 1) to draw a held-out part, got {fraction}")
    n_u, n_a = len(X_unlabeled), len(X_labeled)
    if n_u < 2:
        raise ValueError(f"validation.holdout: {n_u} unlabeled training row(s), too few to hold any out")
    rng = stream(seed, "holdout")
    X = np.vstack([X_unlabeled, X_labeled])
    group = np.unique(X, axis=0, return_inverse=True)[1].ravel()
    labeled = np.r_[np.zeros(n_u, bool), np.ones(n_a, bool)]
    held = np.zeros(n_u + n_a, bool)
    want_a = min(nearest(fraction * n_a), max(n_a - 1, 0))
    want_u = min(max(1, nearest(fraction * n_u)), n_u - 1)
    # labeled anomalies first: a group is taken whole while the labeled count stays within want_a
    for g in rng.permutation(np.unique(group[labeled])):
        members = group == g
        if (held & labeled).sum() + (members & labeled).sum() <= want_a and (held | members)[~labeled].sum() < n_u:
            held |= members
    # then unlabeled rows, by groups that put no further labeled anomaly out of the fit
    for g in rng.permutation(np.unique(group[~labeled & ~held])):
        if held[~labeled].sum() >= want_u:
            break
        members = group == g
        if (members & labeled & ~held).any() or (held | members)[~labeled].sum() >= n_u:
            continue
        held |= members
    return held[:n_u], held[n_u:]


def heldout_metrics(cfg, split, device: str = "cpu") -> dict[str, float]:
    """The held-out signals and counts of a run with ``validation.holdout > 0`` (module docstring): a second
    generation and fit on the rows :func:`draw` leaves, the signals on the rows it holds out."""
    t0 = time.perf_counter()
    fraction, seed = holdout_fraction(cfg), int(cfg.seed)
    held_u, held_a = draw(split.X_unlabeled, split.X_labeled, fraction, seed)
    rest = dataclasses.replace(split, X_unlabeled=split.X_unlabeled[~held_u], X_labeled=split.X_labeled[~held_a],
                               y_unlabeled_true=split.y_unlabeled_true[~held_u])
    X_held = split.X_unlabeled[held_u]
    augmenter = hydra.utils.instantiate(cfg.augmenter)
    X_gen = augmenter.generate(rest.X_labeled, rest.X_unlabeled, effective_multiplier(cfg) * len(rest.X_labeled),
                               np.random.default_rng(seed))
    X_train, y_train = rest.training_set(X_gen)
    detector = hydra.utils.instantiate(cfg.detector, seed=seed, device=device)
    detector.fit(X_train, y_train)
    out = {"val_ho_mmd": mmd_signal(rest.X_unlabeled, rest.X_labeled, X_gen, X_held, seed, streams="ho.")}
    out.update(xgen_signals(detector, rest.X_labeled, rest.X_unlabeled, seed, X_negatives=X_held,
                            metric="val_ho_", streams="ho."))
    out.update({"holdout_fraction": fraction, "holdout_unlabeled": int(held_u.sum()),
                "holdout_anomalies": int(held_a.sum()), "holdout_s": time.perf_counter() - t0})
    return out
