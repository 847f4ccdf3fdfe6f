"""ADBench's CatB: ``catboost.CatBoostClassifier(random_state=seed)`` with its defaults, silent."""

from __future__ import annotations

import numpy as np

from .base import Detector
from .inputs import check_fit_inputs


class CatBoostDetector(Detector):
    """CatBoost classifier; score = P(anomaly).

    Runs on the GPU only with ``task_type="GPU"`` (independent of the runner's ``device``), never
    writes ``catboost_info/`` (``allow_writing_files=False``) and prints nothing.
    """

    name = "catboost"

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
        if str(task_type).upper() not in ("CPU", "GPU"):
            raise ValueError(f"catboost: setting `task_type` must be CPU or GPU, got {task_type!r}")
        if int(iterations) < 1:
            raise ValueError(f"catboost: setting `iterations` must be >= 1, got {iterations}")
        self.params = dict(
            iterations=int(iterations), learning_rate=None if learning_rate is None else float(learning_rate),
            depth=int(depth), l2_leaf_reg=float(l2_leaf_reg), task_type=str(task_type).upper(),
            thread_count=int(thread_count),
        )
        self.model_ = None

    def fit(self, X, y) -> "CatBoostDetector":
        """Fit the classifier on ``(X, y)``."""
        from catboost import CatBoostClassifier

        X, y = check_fit_inputs(X, y, self.name, need_anomalies=True)
        params = dict(self.params)
        if params["thread_count"] == -1:  # the run's thread budget, so parallel sweep workers do not oversubscribe
            import torch

            params["thread_count"] = max(1, torch.get_num_threads())
        model = CatBoostClassifier(random_state=self.seed, verbose=False, allow_writing_files=False, **params)
        model.fit(X, y)
        self.model_ = model
        self.n_features_ = X.shape[1]
        return self

    def _decision_function(self, X) -> np.ndarray:
        """Predicted probability of class 1."""
        return self.model_.predict_proba(X)[:, 1]
