"""ADBench's MLP: scikit-learn's ``MLPClassifier`` with its defaults; score = P(anomaly)."""

from __future__ import annotations

import logging
import warnings

import numpy as np

from .base import Detector
from .inputs import check_fit_inputs

logger = logging.getLogger(__name__)


class MLPDetector(Detector):
    """``sklearn.neural_network.MLPClassifier(random_state=seed)``; defaults are sklearn's."""

    name = "mlp"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size="auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        shuffle: bool = True,
        tol: float = 1e-4,
        early_stopping: bool = False,
        n_iter_no_change: int = 10,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(seed=seed, device=device)
        self.params = dict(
            hidden_layer_sizes=tuple(int(h) for h in hidden_layer_sizes), activation=activation, solver=solver,
            alpha=float(alpha), batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=float(learning_rate_init), max_iter=int(max_iter), shuffle=bool(shuffle),
            tol=float(tol), early_stopping=bool(early_stopping), n_iter_no_change=int(n_iter_no_change),
        )
        if self.params["max_iter"] < 1:
            raise ValueError(f"mlp: setting `max_iter` must be >= 1, got {max_iter}")
        self.model_ = None

    def fit(self, X, y) -> "MLPDetector":
        """Fit the classifier on ``(X, y)``; convergence warnings go to the logger."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        X, y = check_fit_inputs(X, y, self.name, need_anomalies=True)
        model = MLPClassifier(random_state=self.seed, **self.params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X, y)
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                logger.info("mlp: %s", w.message)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        self.model_ = model
        self.n_features_ = X.shape[1]
        return self

    def _decision_function(self, X) -> np.ndarray:
        """Predicted probability of class 1."""
        return self.model_.predict_proba(X)[:, 1]
