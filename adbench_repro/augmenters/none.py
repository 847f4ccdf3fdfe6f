"""``none``: the baseline without pseudo-anomalies."""

from __future__ import annotations

import numpy as np

from .base import Augmenter, check_inputs, empty


class NoAugmenter(Augmenter):
    """Generates nothing: ``generate`` always returns an empty ``(0, d)`` array, whatever ``n``."""

    def generate(self, anomalies: np.ndarray, unlabeled: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``(0, d)`` (the inputs are still validated)."""
        A, _, _ = check_inputs(anomalies, unlabeled, n, rng)
        return empty(A.shape[1])
