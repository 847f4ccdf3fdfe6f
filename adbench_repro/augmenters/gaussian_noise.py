"""``gaussian_noise``: a labeled anomaly plus isotropic Gaussian noise (paper Eq. 4).

``d = a1 + eps``, ``a1`` uniform from ``A``, ``eps ~ N(0, sigma^2 I)``, ``sigma = 0.01`` (paper).

Edge cases: ``n == 0`` -> ``(0, d)``; ``n_a == 0`` with ``n > 0`` -> ValueError; ``n_a == 1`` and
``d == 1`` need nothing special; ``sigma == 0`` gives exact copies of anomalies.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .base import Augmenter


def add_noise(X: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``X + N(0, sigma^2 I)`` (a new array)."""
    return X + rng.normal(0.0, sigma, size=X.shape)


class GaussianNoise(Augmenter):
    """Gaussian-noise copies of labeled anomalies."""

    name = "gaussian_noise"

    def __init__(self, sigma: float = 0.01) -> None:
        self.sigma = sigma
        self._check_params()

    def _check_params(self) -> None:
        _checks.real("sigma", self.sigma, low=0.0)

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` noisy copies of anomalies drawn uniformly from ``A``."""
        return add_noise(A[rng.integers(len(A), size=n)], float(self.sigma), rng)
