"""The contract every detector follows."""

from __future__ import annotations

import abc

import numpy as np

from .inputs import check_features, check_fitted


class Detector(abc.ABC):
    """A semi-supervised or supervised anomaly detector.

    Constructors only store hyperparameters; every detector accepts ``seed`` (int) and
    ``device`` (``"cpu"`` or ``"cuda"``, already resolved by the runner; detectors that do not
    use torch or a GPU ignore it). ``fit(X, y)`` takes ``y`` in {0, 1} (1 = labeled or generated
    anomaly, 0 = unlabeled) and returns ``self``, setting ``n_features_``; ``decision_function(X)``
    returns a float64 array where higher means more anomalous (PyOD's and scikit-learn's name). A detector
    implements ``_decision_function`` on input that the base class has already checked.
    """

    name = "detector"
    n_features_: int | None = None

    def __init__(self, seed: int = 0, device: str = "cpu") -> None:
        self.seed = seed
        self.device = device

    @abc.abstractmethod
    def fit(self, X: np.ndarray, y: np.ndarray) -> "Detector":
        """Train on ``X`` with labels ``y`` (0 = unlabeled, 1 = anomaly)."""

    def decision_function(self, X) -> np.ndarray:
        """Anomaly scores for ``X``, one float64 per row (higher = more anomalous)."""
        check_fitted(self.n_features_ is not None, self.name)
        X = check_features(X, self.name, self.n_features_)
        return np.asarray(self._decision_function(X), dtype=np.float64).reshape(-1)

    @abc.abstractmethod
    def _decision_function(self, X: np.ndarray) -> np.ndarray:
        """Scores for ``X``, already checked: finite, 2-D, ``n_features_`` columns, detector fitted."""
