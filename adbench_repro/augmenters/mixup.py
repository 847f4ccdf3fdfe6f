"""``mixup``: convex combinations of two labeled anomalies (paper Eq. 1, Zhang et al. 2018).

``d = lam * a1 + (1 - lam) * a2`` with ``a1`` uniform from ``A`` and ``a2 != a1`` (a different row)
uniform from the partner pool, ``lam ~ Beta(alpha, alpha)`` (``lam="beta"``, default ``alpha=0.2``)
or ``U(0, 1)`` (``lam="uniform"``).

Partner pool: ``pool="anomalies"`` (the paper's Mixup baseline) draws ``a2`` from ``A``;
``pool="all"`` draws it from ``A u H`` (the ablation "w/o NN and GN" of Tab. VI).

Edge cases: ``n == 0`` -> ``(0, d)``; ``n_a == 0`` with ``n > 0`` -> ValueError. ``n_a == 1`` with
``pool="anomalies"``: no other anomaly exists, so ``a2 = a1`` and every sample is a copy of the
single anomaly (the authors' code behaves the same). ``d == 1`` needs nothing special.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from ._sampling import LAMBDA_KINDS, mixing_weights, other_index
from .base import Augmenter

POOLS = ("anomalies", "all")


class Mixup(Augmenter):
    """Mixup between anomalies (or between an anomaly and any training row with ``pool="all"``)."""

    name = "mixup"

    def __init__(self, alpha: float = 0.2, pool: str = "anomalies", lam: str = "beta") -> None:
        self.alpha = alpha
        self.pool = pool
        self.lam = lam
        self._check_params()

    def _check_params(self) -> None:
        _checks.real("alpha", self.alpha, low=0.0, low_open=True)
        _checks.choice("pool", self.pool, POOLS)
        _checks.choice("lam", self.lam, LAMBDA_KINDS)

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` mixed samples (see the module docstring)."""
        pool = A if self.pool == "anomalies" else np.concatenate([A, H])
        first = rng.integers(len(A), size=n)
        # rows 0..n_a-1 of `pool` are A, so "another row than a1" is the same rule for both pools
        second = other_index(rng, first, len(pool)) if len(pool) >= 2 else first
        lam = mixing_weights(rng, n, self.lam, float(self.alpha))[:, None]
        return lam * A[first] + (1.0 - lam) * pool[second]
