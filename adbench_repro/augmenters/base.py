"""The contract every pseudo-anomaly generator follows."""

from __future__ import annotations

import abc

import numpy as np


class Augmenter(abc.ABC):
    """Generates pseudo-anomalies (label 1) from labeled anomalies and unlabeled rows.

    Constructors only store hyperparameters (validated), like PyOD/sklearn estimators.
    ``generate`` is a pure function of its inputs and of ``rng``: it never touches global
    RNG state and never mutates ``anomalies`` or ``unlabeled``.
    """

    @abc.abstractmethod
    def generate(
        self,
        anomalies: np.ndarray,
        unlabeled: np.ndarray,
        n: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Return an ``(n, d)`` float64 array of pseudo-anomalies.

        ``anomalies`` is ``A`` (n_a x d, the kept labeled anomalies), ``unlabeled`` is ``H``
        (n_h x d). ``n == 0`` returns an empty ``(0, d)`` array.
        """

    def params(self) -> dict:
        """Hyperparameters as a flat dict (for logging)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}
