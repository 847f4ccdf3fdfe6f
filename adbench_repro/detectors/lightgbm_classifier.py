"""ADBench's LGB: ``lightgbm.LGBMClassifier(random_state=seed)`` with LightGBM's defaults, silent."""

from __future__ import annotations

import numpy as np

from .base import Detector
from .threads import thread_budget


class LightGBMDetector(Detector):
    """LightGBM gradient-boosted trees; score = P(anomaly).

    Parameters
    ----------
    n_estimators : int, default 100
    learning_rate : float, default 0.1
    num_leaves : int, default 31
    max_depth : int, default -1 (no limit)
    min_child_samples : int, default 20
    subsample : float, default 1.0
    colsample_bytree : float, default 1.0
    reg_alpha, reg_lambda : float, default 0.0
    n_jobs : int, default -1
        Threads; -1 is the run's thread budget (all cores for one run, cores / workers in a sweep).
    seed : int
        ``random_state``.
    device : str
        Ignored (CPU).
    """

    name = "lightgbm"
    requires_anomalies = True
    _conversions = dict(n_estimators=int, learning_rate=float, num_leaves=int, max_depth=int, min_child_samples=int,
                        subsample=float, colsample_bytree=float, reg_alpha=float, reg_lambda=float, n_jobs=int)
    _minimums = dict(n_estimators=1, num_leaves=2, min_child_samples=1, n_jobs=-1)

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        num_leaves: int = 31,
        max_depth: int = -1,
        min_child_samples: int = 20,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_alpha: float = 0.0,
        reg_lambda: float = 0.0,
        n_jobs: int = -1,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(seed=seed, device=device)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.n_jobs = n_jobs
        self._settings()

    def _check_settings(self, s) -> None:
        if s.n_jobs == 0:
            raise ValueError("lightgbm: setting `n_jobs` must be -1 or >= 1, got 0")
        if s.learning_rate <= 0:
            raise ValueError(f"lightgbm: setting `learning_rate` must be > 0, got {self.learning_rate}")

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit the classifier on ``(X, y)``; LightGBM's log messages are silenced (``verbose=-1``)."""
        from lightgbm import LGBMClassifier

        params = vars(self._settings())
        params["n_jobs"] = thread_budget(params["n_jobs"])
        self.model_ = LGBMClassifier(random_state=self.seed, verbose=-1, **params).fit(X, y)

    def _decision_function(self, X) -> np.ndarray:
        """Predicted probability of class 1."""
        return self.model_.predict_proba(X)[:, 1]
