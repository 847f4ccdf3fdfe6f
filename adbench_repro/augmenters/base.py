"""The contract every pseudo-anomaly generator follows."""

from __future__ import annotations

import abc
import numbers

import numpy as np
from sklearn.base import BaseEstimator


class Augmenter(BaseEstimator, abc.ABC):
    """Generates pseudo-anomalies (label 1) from labeled anomalies and unlabeled rows.

    An augmenter is a scikit-learn estimator: its constructor stores every argument unchanged as
    the attribute of the same name (so ``sklearn.base.clone``, ``get_params`` and ``set_params``
    work) and validates them through :meth:`_check_params`, which :meth:`generate` calls again
    (values given by ``set_params`` are checked too). ``generate`` is a pure function of its
    inputs and of ``rng``: it never touches global RNG state and never mutates ``anomalies`` or
    ``unlabeled``.

    ``generate`` is a template method: it validates the inputs, returns the empty ``(0, d)``
    array when nothing is asked (``n == 0``, or always when ``uses_n`` is false), enforces the
    minimum row counts below, calls the subclass's :meth:`_generate` on float64 arrays and checks
    that the result is a finite float64 ``(n, d)`` array. A subclass sets:

    - ``name``: its config name (``conf/augmenter/<name>.yaml``), used in error messages;
    - ``min_anomalies`` / ``min_unlabeled`` / ``min_rows``: how many labeled-anomaly rows,
      unlabeled rows, and rows of both together it needs to make samples (``n > 0``);
    - ``uses_n``: ``False`` for a generator that ignores the requested count ``n`` and makes no
      samples at all (the ``none`` baseline); its runs do not depend on the multiplier, which
      ``confighash.effective_multiplier`` reads from here.
    """

    name = "augmenter"
    #: labeled-anomaly rows needed to make samples
    min_anomalies: int = 1
    #: unlabeled rows needed to make samples
    min_unlabeled: int = 0
    #: rows of anomalies and unlabeled together needed to make samples
    min_rows: int = 0
    #: whether the generator makes the ``n`` samples asked for (False: always ``(0, d)``, n ignored)
    uses_n: bool = True

    def generate(
        self,
        anomalies: np.ndarray,
        unlabeled: np.ndarray,
        n: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Return an ``(n, d)`` float64 array of pseudo-anomalies.

        ``anomalies`` is ``A`` (n_a x d, the kept labeled anomalies), ``unlabeled`` is ``H``
        (n_h x d). ``n == 0`` (and any ``n`` when ``uses_n`` is false) returns an empty ``(0, d)``
        array; the inputs are validated in every case.
        """
        A, H, n = check_inputs(anomalies, unlabeled, n, rng)
        self._check_params()
        if n == 0 or not self.uses_n:
            return empty(A.shape[1])
        require_rows(len(A), self.min_anomalies, "labeled anomaly", self.name)
        require_rows(len(H), self.min_unlabeled, "unlabeled", self.name)
        require_rows(len(A) + len(H), self.min_rows, "training (anomaly or unlabeled)", self.name)
        return self._check_output(self._generate(A, H, n, rng), n, A.shape[1])

    @abc.abstractmethod
    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n >= 1`` samples from checked inputs: ``A`` and ``H`` are finite 2-D float64 arrays with
        the same ``d >= 1`` columns and at least the minimum rows. They may be views of the caller's
        arrays: never write into them."""

    def _check_params(self) -> None:
        """Validate the hyperparameters (errors name the key); the constructor and ``generate`` call it.

        Must not change any attribute (``clone`` requires the constructor to store its arguments
        unchanged); code that needs a converted value converts where it uses it.
        """

    def _check_output(self, X: np.ndarray, n: int, d: int) -> np.ndarray:
        """``X`` when it is a finite float64 ``(n, d)`` array, else a RuntimeError naming the generator."""
        where = f"{type(self).__name__} ({self.name})"
        if not isinstance(X, np.ndarray) or X.dtype != np.float64:
            raise RuntimeError(f"{where} returned {type(X).__name__} of dtype {getattr(X, 'dtype', None)}, "
                               "expected a float64 numpy array")
        if X.shape != (n, d):
            raise RuntimeError(f"{where} returned an array of shape {X.shape}, expected {(n, d)}")
        if not np.isfinite(X).all():
            raise RuntimeError(f"{where} returned NaN or infinite values in "
                               f"{int((~np.isfinite(X)).any(axis=1).sum())} of {n} row(s)")
        return X


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


def require_rows(have: int, minimum: int, what: str, generator: str) -> None:
    """Raise a ValueError naming ``generator`` when ``have`` (a row count) is below ``minimum``."""
    if have < minimum:
        raise ValueError(f"{generator} needs at least {minimum} {what} row(s) to make samples, got {have}")


def empty(d: int) -> np.ndarray:
    """The ``(0, d)`` float64 array returned for ``n == 0``."""
    return np.empty((0, d), dtype=np.float64)
