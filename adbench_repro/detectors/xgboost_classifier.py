"""ADBench's XGB: ``xgboost.XGBClassifier(random_state=seed)`` with XGBoost's defaults."""

from __future__ import annotations

import numpy as np

from .base import Detector
from .threads import thread_budget


class XGBoostDetector(Detector):
    """XGBoost gradient-boosted trees; score = P(anomaly).

    The defaults are those of the installed XGBoost (2.x: ``tree_method="hist"``, 100 trees of
    depth 6, learning rate 0.3); ADBench ran an older XGBoost whose default ``tree_method="auto"``
    chose the exact greedy method on small data (``detector.tree_method=exact`` gives that).

    Parameters
    ----------
    n_estimators : int, default 100
    learning_rate : float, default 0.3
    max_depth : int, default 6
    min_child_weight : float, default 1.0
    subsample : float, default 1.0
    colsample_bytree : float, default 1.0
    reg_lambda : float, default 1.0
    reg_alpha : float, default 0.0
    tree_method : str, default "hist"
    n_jobs : int, default -1
        Threads; -1 is the run's thread budget (all cores for one run, cores / workers in a sweep).
    seed : int
        ``random_state``.
    device : str
        Ignored: XGBoost runs on the CPU (the xgboost-cpu build).
    """

    name = "xgboost"
    requires_anomalies = True
    _conversions = dict(n_estimators=int, learning_rate=float, max_depth=int, min_child_weight=float,
                        subsample=float, colsample_bytree=float, reg_lambda=float, reg_alpha=float, tree_method=str,
                        n_jobs=int)
    _minimums = dict(n_estimators=1, max_depth=0, n_jobs=-1)

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.3,
        max_depth: int = 6,
        min_child_weight: float = 1.0,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_lambda: float = 1.0,
        reg_alpha: float = 0.0,
        tree_method: str = "hist",
        n_jobs: int = -1,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(seed=seed, device=device)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.tree_method = tree_method
        self.n_jobs = n_jobs
        self._settings()

    def _check_settings(self, s) -> None:
        if s.tree_method not in ("hist", "exact", "approx", "auto"):
            raise ValueError(f"xgboost: setting `tree_method` must be hist, exact, approx or auto, got {self.tree_method!r}")
        if s.n_jobs == 0:
            raise ValueError("xgboost: setting `n_jobs` must be -1 or >= 1, got 0")
        if s.learning_rate <= 0:
            raise ValueError(f"xgboost: setting `learning_rate` must be > 0, got {self.learning_rate}")

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit the classifier on ``(X, y)``."""
        from xgboost import XGBClassifier

        params = vars(self._settings())
        params["n_jobs"] = thread_budget(params["n_jobs"])
        self.model_ = XGBClassifier(random_state=self.seed, verbosity=0, **params).fit(X, y)

    def _decision_function(self, X) -> np.ndarray:
        """Predicted probability of class 1."""
        return self.model_.predict_proba(X)[:, 1]
