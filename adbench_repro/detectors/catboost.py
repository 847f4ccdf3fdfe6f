"""ADBench's CatB: ``catboost.CatBoostClassifier(random_state=seed)`` with its defaults, silent."""

from __future__ import annotations

import numpy as np

from .base import Detector


def _optional_float(value) -> float | None:
    return None if value is None else float(value)


class CatBoostDetector(Detector):
    """CatBoost classifier; score = P(anomaly).

    Runs on the GPU only with ``task_type="GPU"`` (independent of the runner's ``device``), never
    writes ``catboost_info/`` (``allow_writing_files=False``) and prints nothing.
    """

    name = "catboost"
    requires_anomalies = True
    _conversions = dict(iterations=int, learning_rate=_optional_float, depth=int, l2_leaf_reg=float,
                        task_type=lambda v: str(v).upper(), thread_count=int)
    _minimums = dict(iterations=1)

    def __init__(
        self,
        iterations: int = 1000,
        learning_rate: float | None = None,
        depth: int = 6,
        l2_leaf_reg: float = 3.0,
        task_type: str = "CPU",
        thread_count: int = -1,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(seed=seed, device=device)
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.depth = depth
        self.l2_leaf_reg = l2_leaf_reg
        self.task_type = task_type
        self.thread_count = thread_count
        self._settings()

    def _check_settings(self, settings) -> None:
        if settings.task_type not in ("CPU", "GPU"):
            raise ValueError(f"catboost: setting `task_type` must be CPU or GPU, got {self.task_type!r}")

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit the classifier on ``(X, y)``."""
        from catboost import CatBoostClassifier

        params = vars(self._settings())  # the settings are CatBoostClassifier's arguments
        if params["thread_count"] == -1:  # the run's thread budget, so parallel sweep workers do not oversubscribe
            import torch

            params["thread_count"] = max(1, torch.get_num_threads())
        model = CatBoostClassifier(random_state=self.seed, verbose=False, allow_writing_files=False, **params)
        model.fit(X, y)
        self.model_ = model

    def _decision_function(self, X) -> np.ndarray:
        """Predicted probability of class 1."""
        return self.model_.predict_proba(X)[:, 1]
