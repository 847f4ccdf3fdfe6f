"""``cutmix_gn``: a cutmix sample plus ``N(0, sigma^2 I)`` noise (paper Tab. VIII "CutMix+GN").

CutMix as in :mod:`adbench_repro.augmenters.cutmix`, then noise with ``sigma = 0.01`` added to
every feature. Edge cases as for cutmix.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .base import Augmenter, check_inputs, empty, require_rows
from .cutmix import BLOCK_SOURCES, cutmix_samples
from .cutout import check_ratio_range
from .gaussian_noise import add_noise


class CutMixGN(Augmenter):
    """CutMix followed by Gaussian noise."""

    def __init__(
        self, r_low: float = 0.1, r_high: float = 0.3, block_source: str = "same", sigma: float = 0.01
    ) -> None:
        self.r_low, self.r_high = check_ratio_range(r_low, r_high)
        self.block_source = _checks.choice("block_source", block_source, BLOCK_SOURCES)
        self.sigma = _checks.real("sigma", sigma, low=0.0)

    def generate(self, anomalies: np.ndarray, unlabeled: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``n`` noisy cutmix samples."""
        A, _, n = check_inputs(anomalies, unlabeled, n, rng)
        if n == 0:
            return empty(A.shape[1])
        require_rows(A, 1, "labeled anomaly", "cutmix_gn")
        return add_noise(
            cutmix_samples(A, n, rng, self.r_low, self.r_high, self.block_source), self.sigma, rng
        )
