"""``rosas``: RoSAS mass interpolation between an anomaly and an unlabeled row (our adaptation).

RoSAS (Xu et al., "RoSAS: Deep semi-supervised anomaly detection with contamination-resilient
continuous supervision", IP&M 2023) interpolates a labeled anomaly with an unlabeled row and
trains on the interpolation's continuous "abnormal degree" ``lam``. Our adaptation keeps only
the data side: ``d = lam * a + (1 - lam) * h`` with ``a`` uniform from ``A``, ``h`` uniform from
``H`` and ``lam ~ Beta(alpha, alpha)`` (``alpha = 0.5``), and labels every sample a pseudo-anomaly
(1) instead of ``lam``. ``min_degree`` (default 0.0, in ``[0, 1)``) keeps only samples with
``lam >= min_degree``: batches are drawn (vectorised) and filtered until ``n`` are kept, in draw
order, so the kept ``lam`` follow Beta(alpha, alpha) truncated to ``[min_degree, 1]``.

Edge cases: ``n == 0`` -> ``(0, d)``; ``n_a == 0`` or ``n_h == 0`` with ``n > 0`` -> ValueError;
``n_a == 1`` and ``d == 1`` need nothing special.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from . import _checks
from .base import Augmenter


class RoSAS(Augmenter):
    """Mass interpolation of a labeled anomaly with an unlabeled row."""

    name = "rosas"
    min_unlabeled = 1

    def __init__(self, alpha: float = 0.5, min_degree: float = 0.0) -> None:
        self.alpha = alpha
        self.min_degree = min_degree
        self._check_params()

    def _check_params(self) -> None:
        _checks.real("alpha", self.alpha, low=0.0, low_open=True)
        _checks.real("min_degree", self.min_degree, low=0.0, high=1.0, high_open=True)

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` interpolations with degree ``lam >= min_degree``."""
        alpha, min_degree = float(self.alpha), float(self.min_degree)
        keep_rate = float(stats.beta.sf(min_degree, alpha, alpha))
        lams, firsts, seconds, have = [], [], [], 0
        while have < n:
            batch = int(np.ceil(1.2 * (n - have) / keep_rate)) + 16
            lam = rng.beta(alpha, alpha, size=batch)
            first = rng.integers(len(A), size=batch)
            second = rng.integers(len(H), size=batch)
            kept = lam >= min_degree
            lams.append(lam[kept])
            firsts.append(first[kept])
            seconds.append(second[kept])
            have += int(kept.sum())
        lam = np.concatenate(lams)[:n, None]
        first = np.concatenate(firsts)[:n]
        second = np.concatenate(seconds)[:n]
        return lam * A[first] + (1.0 - lam) * H[second]
