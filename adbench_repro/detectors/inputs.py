"""Input checks shared by every detector: clear errors instead of deep library tracebacks."""

from __future__ import annotations

import numpy as np


def check_features(X, name: str, n_features: int | None = None) -> np.ndarray:
    """``X`` as a finite 2-D float64 array (with ``n_features`` columns when given)."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: X must be a numeric array ({exc})") from None
    if X.ndim != 2:
        raise ValueError(f"{name}: X must be 2-D (rows x features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name}: X is empty (shape {X.shape})")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name}: X has {X.shape[1]} features but the detector was fit on {n_features}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name}: X contains NaN or inf in {int((~np.isfinite(X)).any(axis=1).sum())} row(s)")
    return X


def check_fit_inputs(X, y, name: str, need_anomalies: bool) -> tuple[np.ndarray, np.ndarray]:
    """Validate a training set: ``y`` 1-D, same length as ``X``, values in {0, 1}.

    ``need_anomalies``: the detector is a classifier and needs at least one ``y == 1`` and one
    ``y == 0`` row. Returns ``(X float64, y int64)``.
    """
    X = check_features(X, name)
    if y is None:
        raise ValueError(f"{name}: fit needs labels y (0 = unlabeled, 1 = anomaly)")
    y_arr = np.asarray(y)
    if y_arr.ndim != 1:
        raise ValueError(f"{name}: y must be 1-D, got shape {y_arr.shape}")
    if len(y_arr) != len(X):
        raise ValueError(f"{name}: X has {len(X)} rows but y has {len(y_arr)} labels")
    if not (np.issubdtype(y_arr.dtype, np.number) or y_arr.dtype == bool):
        raise ValueError(f"{name}: y must be numeric 0/1 labels, got dtype {y_arr.dtype}")
    values = np.unique(y_arr)
    if not np.isin(values, [0, 1]).all():
        raise ValueError(f"{name}: y must contain only 0 (unlabeled) and 1 (anomaly), found {values[:10].tolist()}")
    y_int = y_arr.astype(np.int64)
    if need_anomalies and (y_int.min() == y_int.max()):
        which = "anomaly (y == 1)" if y_int[0] == 0 else "unlabeled row (y == 0)"
        raise ValueError(f"{name}: a classifier needs both classes, but y has no {which}")
    return X, y_int


def check_fitted(fitted: bool, name: str) -> None:
    """Raise ``RuntimeError`` when ``decision_function`` is called before ``fit``."""
    if not fitted:
        raise RuntimeError(f"{name}: call fit(X, y) before decision_function(X)")
