"""``cutout_gn``: a cutout sample plus ``N(0, sigma^2 I)`` noise (paper Tab. VIII "Cutout+GN").

Cutout as in :mod:`adbench_repro.augmenters.cutout` (``r ~ U(r_low, r_high)``), then noise with
``sigma = 0.01`` added to every feature (the zeroed block included). Edge cases as for cutout.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .base import Augmenter, check_inputs, empty, require_rows
from .cutout import check_ratio_range, cutout_samples
from .gaussian_noise import add_noise


class CutoutGN(Augmenter):
    """Cutout followed by Gaussian noise."""

    def __init__(self, r_low: float = 0.1, r_high: float = 0.3, sigma: float = 0.01) -> None:
        self.r_low, self.r_high = check_ratio_range(r_low, r_high)
        self.sigma = _checks.real("sigma", sigma, low=0.0)

    def generate(self, anomalies: np.ndarray, unlabeled: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``n`` noisy cutout samples."""
        A, _, n = check_inputs(anomalies, unlabeled, n, rng)
        if n == 0:
            return empty(A.shape[1])
        require_rows(A, 1, "labeled anomaly", "cutout_gn")
        return add_noise(cutout_samples(A, n, rng, self.r_low, self.r_high), self.sigma, rng)
