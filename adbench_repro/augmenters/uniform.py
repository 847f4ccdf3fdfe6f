"""``uniform``: points uniform in the (optionally widened) bounding box of the training rows.

The box is the per-feature ``[min, max]`` over ``A u H`` (after min-max scaling of the training
set this is ``[0, 1]^d``), widened by ``margin * (max - min)`` on each side (default ``margin=0``).
Labels are not used: each sample is ``lo + u * (hi - lo)`` with ``u ~ U(0, 1)^d``.

Edge cases: ``n == 0`` -> ``(0, d)``; no training rows at all with ``n > 0`` -> ValueError; a
constant feature gives that constant; ``n_a``, ``k`` and ``d == 1`` need nothing special.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .base import Augmenter


class Uniform(Augmenter):
    """Uniform noise in the training rows' bounding box."""

    name = "uniform"
    min_anomalies = 0
    min_rows = 1

    def __init__(self, margin: float = 0.0) -> None:
        self.margin = margin
        self._check_params()

    def _check_params(self) -> None:
        _checks.real("margin", self.margin, low=0.0)

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` uniform points in the widened box of ``A u H``."""
        rows = np.concatenate([A, H])
        lo, hi = rows.min(axis=0), rows.max(axis=0)
        pad = float(self.margin) * (hi - lo)
        lo, hi = lo - pad, hi + pad
        return lo + rng.random((n, A.shape[1])) * (hi - lo)
