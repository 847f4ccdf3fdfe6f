"""The contract every detector follows."""

from __future__ import annotations

import abc

import numpy as np


class Detector(abc.ABC):
    """A semi-supervised or supervised anomaly detector.

    Constructors only store hyperparameters; every detector accepts ``seed`` (int) and
    ``device`` (``"cpu"`` or ``"cuda"``, already resolved by the runner; detectors that do not
    use torch or a GPU ignore it). ``fit(X, y)`` takes ``y`` in {0, 1} (1 = labeled or generated
    anomaly, 0 = unlabeled) and returns ``self``; ``score(X)`` returns a float64 array where
    higher means more anomalous.
    """

    def __init__(self, seed: int = 0, device: str = "cpu") -> None:
        self.seed = seed
        self.device = device

    @abc.abstractmethod
    def fit(self, X: np.ndarray, y: np.ndarray) -> "Detector":
        """Train on ``X`` with labels ``y`` (0 = unlabeled, 1 = anomaly)."""

    @abc.abstractmethod
    def score(self, X: np.ndarray) -> np.ndarray:
        """Anomaly scores for ``X`` (higher = more anomalous)."""
