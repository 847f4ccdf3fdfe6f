"""The contract every pseudo-anomaly generator follows."""

from __future__ import annotations

import abc
import numbers

import numpy as np


class Augmenter(abc.ABC):
    """Generates pseudo-anomalies (label 1) from labeled anomalies and unlabeled rows.

    Constructors only store hyperparameters (validated), like PyOD/sklearn estimators.
    ``generate`` is a pure function of its inputs and of ``rng``: it never touches global
    RNG state and never mutates ``anomalies`` or ``unlabeled``.
    """

    @abc.abstractmethod
    def generate(
        self,
        anomalies: np.ndarray,
        unlabeled: np.ndarray,
        n: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Return an ``(n, d)`` float64 array of pseudo-anomalies.

        ``anomalies`` is ``A`` (n_a x d, the kept labeled anomalies), ``unlabeled`` is ``H``
        (n_h x d). ``n == 0`` returns an empty ``(0, d)`` array.
        """

    def params(self) -> dict:
        """Hyperparameters as a flat dict (for logging)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


def check_inputs(
    anomalies: np.ndarray, unlabeled: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate ``generate``'s arguments; return ``(A, H, n)`` as float64 arrays and an int.

    ``A`` and ``H`` may be views of the inputs (no copy when already float64): callers must
    never write into them.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be an integer, got {n!r}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    A = np.asarray(anomalies, dtype=np.float64)
    H = np.asarray(unlabeled, dtype=np.float64)
    for name, X in (("anomalies", A), ("unlabeled", H)):
        if X.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array (rows x features), got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    if A.shape[1] != H.shape[1]:
        raise ValueError(f"anomalies and unlabeled have different feature counts: {A.shape[1]} != {H.shape[1]}")
    if A.shape[1] == 0:
        raise ValueError("anomalies and unlabeled have no features (d == 0)")
    return A, H, int(n)


def require_rows(X: np.ndarray, minimum: int, what: str, generator: str) -> None:
    """Raise a ValueError when ``X`` has fewer than ``minimum`` rows."""
    if len(X) < minimum:
        raise ValueError(f"{generator} needs at least {minimum} {what} row(s) to make samples, got {len(X)}")


def empty(d: int) -> np.ndarray:
    """The ``(0, d)`` float64 array returned for ``n == 0``."""
    return np.empty((0, d), dtype=np.float64)
