"""``nng_mix``: Nearest Neighbor Gaussian Mixup (paper Sec. III-C, Eq. 5, Algorithm 1).

For each sample: ``a1`` uniform from ``A``. With probability ``p_anomaly_pool`` (0.5) the partner
``a2`` is drawn uniformly among the ``k`` nearest neighbours of ``a1`` in ``A`` (``a1`` itself
excluded), otherwise among its ``k`` nearest neighbours in ``H``. Then
``d = lam * (a1 + e1) + (1 - lam) * (a2 + e2)`` with independent ``e1, e2 ~ N(0, sigma^2 I)`` and
``lam ~ Beta(alpha, alpha)``. Defaults (paper): ``alpha = 0.2``, ``k = 10`` for both pools,
``sigma = 0.01``, ``p_anomaly_pool = 0.5``.

Ablation switches (paper Tab. VI and Fig. 5): ``use_nn=false`` draws the partner uniformly from
the chosen pool (any other anomaly, or any row of ``H``) instead of from the ``k`` nearest;
``use_noise=false`` drops ``e1, e2`` (same as ``sigma=0``); ``lam="uniform"`` draws ``lam ~ U(0, 1)``.

The two k-NN tables (``A`` within ``A``, ``A`` in ``H``) are computed with one
``sklearn.neighbors.NearestNeighbors`` query each per call; every sample then picks a column.

Edge cases: ``n == 0`` -> ``(0, d)``; ``n_a == 0`` with ``n > 0`` -> ValueError. ``k`` is capped at
the pool size (``n_a - 1`` for ``A``, ``n_h`` for ``H``). When one pool is empty (``n_a == 1``: no
other anomaly; ``n_h == 0``) every partner comes from the other pool; when both are empty
(``n_a == 1`` and ``n_h == 0``) -> ValueError. ``d == 1`` needs nothing special.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from ._sampling import LAMBDA_KINDS, mixing_weights, neighbours_in, neighbours_within, other_index
from .base import Augmenter


class NNGMix(Augmenter):
    """NNG-Mix: mixup of an anomaly with one of its nearest anomalies or unlabeled rows, plus noise."""

    name = "nng_mix"

    def __init__(
        self,
        alpha: float = 0.2,
        k: int = 10,
        sigma: float = 0.01,
        p_anomaly_pool: float = 0.5,
        use_nn: bool = True,
        use_noise: bool = True,
        lam: str = "beta",
    ) -> None:
        self.alpha = alpha
        self.k = k
        self.sigma = sigma
        self.p_anomaly_pool = p_anomaly_pool
        self.use_nn = use_nn
        self.use_noise = use_noise
        self.lam = lam
        self._check_params()

    def _check_params(self) -> None:
        _checks.real("alpha", self.alpha, low=0.0, low_open=True)
        _checks.integer("k", self.k, minimum=1)
        _checks.real("sigma", self.sigma, low=0.0)
        _checks.real("p_anomaly_pool", self.p_anomaly_pool, low=0.0, high=1.0)
        _checks.boolean("use_nn", self.use_nn)
        _checks.boolean("use_noise", self.use_noise)
        _checks.choice("lam", self.lam, LAMBDA_KINDS)

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` NNG-Mix samples (see the module docstring)."""
        n_a, n_h = len(A), len(H)
        k_a, k_h = min(int(self.k), n_a - 1), min(int(self.k), n_h)
        if k_a == 0 and k_h == 0:
            raise ValueError("nng_mix needs a mixing partner: at least 2 labeled anomalies or 1 unlabeled row")

        first = rng.integers(n_a, size=n)
        if k_a == 0:
            from_anomalies = np.zeros(n, dtype=bool)
        elif k_h == 0:
            from_anomalies = np.ones(n, dtype=bool)
        else:
            from_anomalies = rng.random(n) < float(self.p_anomaly_pool)

        partner = np.empty_like(A, shape=(n, A.shape[1]))
        rows = np.flatnonzero(from_anomalies)
        if rows.size:
            if self.use_nn:
                table = neighbours_within(A, k_a)
                idx = table[first[rows], rng.integers(k_a, size=rows.size)]
            else:
                idx = other_index(rng, first[rows], n_a)
            partner[rows] = A[idx]
        rows = np.flatnonzero(~from_anomalies)
        if rows.size:
            if self.use_nn:
                table = neighbours_in(A, H, k_h)
                idx = table[first[rows], rng.integers(k_h, size=rows.size)]
            else:
                idx = rng.integers(n_h, size=rows.size)
            partner[rows] = H[idx]

        lam = mixing_weights(rng, n, self.lam, float(self.alpha))[:, None]
        base = A[first]
        if self.use_noise:
            sigma = float(self.sigma)
            base += rng.normal(0.0, sigma, size=base.shape)
            partner += rng.normal(0.0, sigma, size=partner.shape)
        return lam * base + (1.0 - lam) * partner
