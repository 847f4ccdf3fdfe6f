"""``cutout``: a labeled anomaly with a contiguous block of features set to 0 (paper Eq. 2, DeVries & Taylor 2017).

For each sample: ``a1`` uniform from ``A``; block length ``L = max(1, int(r * d))`` with
``r ~ U(r_low, r_high)`` (paper: ``U(0.1, 0.3)``); a centre feature ``c`` uniform in ``0..d-1``;
the block is columns ``[c - L // 2, c - L // 2 + L)`` clipped to ``[0, d)`` (so blocks at the
ends of the vector are shorter than ``L``), and those columns are set to 0.

Edge cases: ``n == 0`` -> ``(0, d)``; ``n_a == 0`` with ``n > 0`` -> ValueError; ``n_a == 1``
needs no partner; ``d == 1``: ``L = 1`` and the single feature is zeroed.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from ._sampling import block_lengths, block_mask
from .base import Augmenter


def cutout_samples(A: np.ndarray, n: int, rng: np.random.Generator, r_low: float, r_high: float) -> np.ndarray:
    """``n`` cutout samples from the rows of ``A`` (the rule in the module docstring)."""
    d = A.shape[1]
    first = rng.integers(len(A), size=n)
    length = block_lengths(rng, n, d, r_low, r_high)
    centre = rng.integers(d, size=n)
    start = centre - length // 2
    stop = np.minimum(start + length, d)
    out = A[first]
    out[block_mask(np.maximum(start, 0), stop, d)] = 0.0
    return out


def check_ratio_range(r_low: object, r_high: object) -> tuple[float, float]:
    """Validate the block-ratio interval ``0 < r_low <= r_high <= 1``."""
    low = _checks.real("r_low", r_low, low=0.0, high=1.0, low_open=True)
    high = _checks.real("r_high", r_high, low=0.0, high=1.0, low_open=True)
    if low > high:
        raise ValueError(f"r_low must be <= r_high, got r_low={low}, r_high={high}")
    return low, high


class Cutout(Augmenter):
    """Cutout of one contiguous feature block of a labeled anomaly."""

    name = "cutout"

    def __init__(self, r_low: float = 0.1, r_high: float = 0.3) -> None:
        self.r_low = r_low
        self.r_high = r_high
        self._check_params()

    def _check_params(self) -> None:
        check_ratio_range(self.r_low, self.r_high)

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` cutout samples (see the module docstring)."""
        return cutout_samples(A, n, rng, float(self.r_low), float(self.r_high))
