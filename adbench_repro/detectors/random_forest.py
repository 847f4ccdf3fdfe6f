"""ADBench's RF: ``sklearn.ensemble.RandomForestClassifier(random_state=seed)`` with sklearn's defaults."""

from __future__ import annotations

import numpy as np

from .base import Detector


def _optional_int(value) -> int | None:
    return None if value is None else int(value)


class RandomForestDetector(Detector):
    """Random forest classifier; score = P(anomaly) (the mean of the trees' leaf class fractions).

    Parameters
    ----------
    n_estimators : int, default 100
    criterion : str, default "gini"
    max_depth : int or None, default None
    min_samples_split : int, default 2
    min_samples_leaf : int, default 1
    max_features : str, int or float, default "sqrt"
    bootstrap : bool, default True
    n_jobs : int, default 1
        Threads used to grow the trees (the scores do not depend on it).
    seed : int
        ``random_state`` of the forest.
    device : str
        Ignored (CPU only).
    """

    name = "rf"
    requires_anomalies = True
    _conversions = dict(n_estimators=int, max_depth=_optional_int, min_samples_split=int, min_samples_leaf=int,
                        bootstrap=bool, n_jobs=int)
    _minimums = dict(n_estimators=1, min_samples_split=2, min_samples_leaf=1)

    def __init__(
        self,
        n_estimators: int = 100,
        criterion: str = "gini",
        max_depth: int | None = None,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        max_features="sqrt",
        bootstrap: bool = True,
        n_jobs: int = 1,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(seed=seed, device=device)
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.bootstrap = bootstrap
        self.n_jobs = n_jobs
        self._settings()

    def _check_settings(self, s) -> None:
        if s.criterion not in ("gini", "entropy", "log_loss"):
            raise ValueError(f"rf: setting `criterion` must be gini, entropy or log_loss, got {self.criterion!r}")

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit the forest on ``(X, y)``."""
        from sklearn.ensemble import RandomForestClassifier

        self.model_ = RandomForestClassifier(random_state=self.seed, **vars(self._settings())).fit(X, y)

    def _decision_function(self, X) -> np.ndarray:
        """Predicted probability of class 1."""
        return self.model_.predict_proba(X)[:, 1]
