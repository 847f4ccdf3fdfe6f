"""The contract every detector follows."""

from __future__ import annotations

import abc
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator

from .inputs import check_features, check_fit_inputs, check_fitted


class Detector(BaseEstimator, abc.ABC):
    """A semi-supervised or supervised anomaly detector.

    A detector is a scikit-learn estimator: its constructor stores every argument unchanged as the
    attribute of the same name (so ``sklearn.base.clone``, ``get_params`` and ``set_params`` work)
    and validates them by calling :meth:`_settings`, which ``fit`` calls again and uses: it
    converts the hyperparameters (``int``, ``float``, a Hydra ``ListConfig`` to a tuple, ... as
    the class's ``_conversions`` say) and checks them (``_check_settings``). Every detector accepts
    ``seed`` (int) and ``device`` (``"cpu"`` or ``"cuda"``, already resolved by the runner;
    detectors that do not use torch or a GPU ignore it).

    ``fit(X, y)`` and ``decision_function(X)`` are template methods. ``fit`` takes ``y`` in {0, 1}
    (1 = labeled or generated anomaly, 0 = unlabeled), checks ``X`` and ``y`` (both classes are
    required where ``requires_anomalies``; ``y`` may be left out where ``requires_labels`` is
    false), calls the subclass's ``_fit``, sets ``n_features_`` and returns ``self``.
    ``decision_function(X)`` checks that the detector is fitted and ``X`` has ``n_features_``
    columns, then returns ``_decision_function``'s scores as a float64 array where higher means
    more anomalous (PyOD's and scikit-learn's name).
    """

    #: the detector's name in error messages (see ``label``)
    name = "detector"
    #: ``fit`` needs labels ``y`` (False: ``fit(X)`` alone is allowed, the detector ignores ``y``)
    requires_labels: bool = True
    #: ``fit`` needs both classes in ``y`` (a classifier)
    requires_anomalies: bool = False
    #: setting name -> function giving the value ``fit`` uses (settings not named are used as stored)
    _conversions: dict[str, Callable[[Any], Any]] = {}
    #: setting name -> the smallest value allowed (checked after the conversion)
    _minimums: dict[str, int] = {}
    n_features_: int | None = None

    def __init__(self, seed: int = 0, device: str = "cpu") -> None:
        self.seed = seed
        self.device = device

    def _settings(self) -> SimpleNamespace:
        """The hyperparameters as ``fit`` uses them: every constructor argument but ``seed`` and
        ``device``, converted by ``_conversions``, checked against ``_minimums``, then validated
        by ``_check_settings``.

        Subclass constructors call it after storing their arguments, so a bad value fails when the
        detector is built; ``fit`` calls it again (values given by ``set_params`` are checked too).
        """
        values = {}
        for key, value in self.get_params(deep=False).items():
            if key in ("seed", "device"):
                continue
            try:
                values[key] = self._conversions.get(key, _as_given)(value)
            except (TypeError, ValueError) as exc:
                kind = TypeError if isinstance(exc, TypeError) else ValueError
                raise kind(f"{self.label}: setting `{key}` has an unusable value {value!r} ({exc})") from None
        for key, minimum in self._minimums.items():
            if values[key] < minimum:
                raise ValueError(f"{self.label}: setting `{key}` must be >= {minimum}, got {getattr(self, key)}")
        settings = SimpleNamespace(**values)
        self._check_settings(settings)
        return settings

    def _check_settings(self, settings: SimpleNamespace) -> None:
        """Raise a clear error (naming the setting) for a bad converted value; may add derived values."""

    @property
    def label(self) -> str:
        """The name used in error messages and logs."""
        return self.name

    def fit(self, X, y=None) -> "Detector":
        """Train on ``X`` with labels ``y`` (0 = unlabeled, 1 = anomaly); returns ``self``."""
        if y is None and not self.requires_labels:
            X = check_features(X, self.label)
        else:
            X, y = check_fit_inputs(X, y, self.label, need_anomalies=self.requires_anomalies)
        self._fit(X, y)
        self.n_features_ = X.shape[1]
        return self

    @abc.abstractmethod
    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        """Train on checked input: ``X`` finite 2-D float64, ``y`` int64 0/1 of the same length
        (``None`` only where ``requires_labels`` is false and no labels were given)."""

    def decision_function(self, X) -> np.ndarray:
        """Anomaly scores for ``X``, one float64 per row (higher = more anomalous)."""
        check_fitted(self.n_features_ is not None, self.label)
        X = check_features(X, self.label, self.n_features_)
        return np.asarray(self._decision_function(X), dtype=np.float64).reshape(-1)

    @abc.abstractmethod
    def _decision_function(self, X: np.ndarray) -> np.ndarray:
        """Scores for ``X``, already checked: finite, 2-D, ``n_features_`` columns, detector fitted."""


def _as_given(value: Any) -> Any:
    return value


def int_tuple(value: Any) -> tuple[int, ...]:
    """A sequence of sizes (a list, tuple or Hydra ``ListConfig``) as a tuple of ints."""
    return tuple(int(v) for v in value)
