"""``cutmix_gn``: a cutmix sample plus ``N(0, sigma^2 I)`` noise (paper Tab. VIII "CutMix+GN").

CutMix as in :mod:`adbench_repro.augmenters.cutmix`, then noise with ``sigma = 0.01`` added to
every feature. Edge cases as for cutmix.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .base import Augmenter
from .cutmix import BLOCK_SOURCES, cutmix_samples
from .cutout import check_ratio_range
from .gaussian_noise import add_noise


class CutMixGN(Augmenter):
    """CutMix followed by Gaussian noise."""

    name = "cutmix_gn"

    def __init__(
        self, r_low: float = 0.1, r_high: float = 0.3, block_source: str = "same", sigma: float = 0.01
    ) -> None:
        self.r_low = r_low
        self.r_high = r_high
        self.block_source = block_source
        self.sigma = sigma
        self._check_params()

    def _check_params(self) -> None:
        check_ratio_range(self.r_low, self.r_high)
        _checks.choice("block_source", self.block_source, BLOCK_SOURCES)
        _checks.real("sigma", self.sigma, low=0.0)

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` noisy cutmix samples."""
        samples = cutmix_samples(A, n, rng, float(self.r_low), float(self.r_high), self.block_source)
        return add_noise(samples, float(self.sigma), rng)
