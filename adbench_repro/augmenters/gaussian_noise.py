"""``gaussian_noise``: a labeled anomaly plus isotropic Gaussian noise (paper Eq. 4).

``d = a1 + eps``, ``a1`` uniform from ``A``, ``eps ~ N(0, sigma^2 I)``, ``sigma = 0.01`` (paper).

Edge cases: ``n == 0`` -> ``(0, d)``; ``n_a == 0`` with ``n > 0`` -> ValueError; ``n_a == 1`` and
``d == 1`` need nothing special; ``sigma == 0`` gives exact copies of anomalies.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .base import Augmenter, check_inputs, empty, require_rows


def add_noise(X: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``X + N(0, sigma^2 I)`` (a new array)."""
    return X + rng.normal(0.0, sigma, size=X.shape)


class GaussianNoise(Augmenter):
    """Gaussian-noise copies of labeled anomalies."""

    def __init__(self, sigma: float = 0.01) -> None:
        self.sigma = _checks.real("sigma", sigma, low=0.0)

    def generate(self, anomalies: np.ndarray, unlabeled: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``n`` noisy copies of anomalies drawn uniformly from ``A``."""
        A, _, n = check_inputs(anomalies, unlabeled, n, rng)
        if n == 0:
            return empty(A.shape[1])
        require_rows(A, 1, "labeled anomaly", "gaussian_noise")
        return add_noise(A[rng.integers(len(A), size=n)], self.sigma, rng)
