"""ADBench's MLP: scikit-learn's ``MLPClassifier`` with its defaults; score = P(anomaly)."""

from __future__ import annotations

import logging
import warnings

import numpy as np

from .base import Detector, int_tuple

logger = logging.getLogger(__name__)


class MLPDetector(Detector):
    """``sklearn.neural_network.MLPClassifier(random_state=seed)``; defaults are sklearn's."""

    name = "mlp"
    requires_anomalies = True
    _conversions = dict(hidden_layer_sizes=int_tuple, alpha=float, learning_rate_init=float, max_iter=int,
                        shuffle=bool, tol=float, early_stopping=bool, n_iter_no_change=int)
    _minimums = dict(max_iter=1)

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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self._settings()

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit the classifier on ``(X, y)``; convergence warnings go to the logger."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        model = MLPClassifier(random_state=self.seed, **vars(self._settings()))  # the settings are its arguments
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X, y)
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                logger.info("mlp: %s", w.message)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        self.model_ = model

    def _decision_function(self, X) -> np.ndarray:
        """Predicted probability of class 1."""
        return self.model_.predict_proba(X)[:, 1]
