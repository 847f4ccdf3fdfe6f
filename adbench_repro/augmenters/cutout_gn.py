"""``cutout_gn``: a cutout sample plus ``N(0, sigma^2 I)`` noise (paper Tab. VIII "Cutout+GN").

Cutout as in :mod:`adbench_repro.augmenters.cutout` (``r ~ U(r_low, r_high)``), then noise with
``sigma = 0.01`` added to every feature (the zeroed block included). Edge cases as for cutout.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .base import Augmenter
from .cutout import check_ratio_range, cutout_samples
from .gaussian_noise import add_noise


class CutoutGN(Augmenter):
    """Cutout followed by Gaussian noise."""

    name = "cutout_gn"

    def __init__(self, r_low: float = 0.1, r_high: float = 0.3, sigma: float = 0.01) -> None:
        self.r_low = r_low
        self.r_high = r_high
        self.sigma = sigma
        self._check_params()

    def _check_params(self) -> None:
        check_ratio_range(self.r_low, self.r_high)
        _checks.real("sigma", self.sigma, low=0.0)

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` noisy cutout samples."""
        samples = cutout_samples(A, n, rng, float(self.r_low), float(self.r_high))
        return add_noise(samples, float(self.sigma), rng)
