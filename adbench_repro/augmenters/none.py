"""``none``: the baseline without pseudo-anomalies."""

from __future__ import annotations

import numpy as np

from .base import Augmenter, empty


class NoAugmenter(Augmenter):
    """Generates nothing: ``generate`` always returns an empty ``(0, d)`` array, whatever ``n``.

    ``uses_n = False``: the requested count (the multiplier) is ignored, so runs that differ only
    in it are the same run. The inputs are still validated.
    """

    name = "none"
    min_anomalies = 0
    uses_n = False

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Never called: with ``uses_n`` false, ``generate`` returns ``(0, d)`` before asking."""
        return empty(A.shape[1])
