"""``npos``: NPOS-style boundary outlier synthesis (our adaptation; uses no anomaly labels).

NPOS (Tao et al., "Non-parametric outlier synthesis", ICLR 2023) treats the training data as
in-distribution (ID), finds ID points on the boundary by their k-NN distance and samples
outliers around them. Our adaptation, on the min-max-scaled input space (NPOS works on
L2-normalised embeddings; we do not normalise):

1. ``H`` is the ID set. Each row's ``K``-th nearest-neighbour distance within ``H`` (itself
   excluded) is computed; ``K = 300`` (NPOS), capped at ``n_h - 1``.
2. The ``select = 200`` rows (capped at ``n_h``) with the largest such distance are the
   boundary set (ties broken by row order).
3. To make ``n`` samples, ``ceil(n / keep_per_point)`` boundary points ``b`` are drawn uniformly
   with replacement; around each, ``sample_from = 600`` candidates ``b + sigma * z``,
   ``z ~ N(0, I)``, ``sigma = 0.1`` (NPOS ``cov_mat``), are scored by their ``K``-th
   nearest-neighbour distance to ``H`` and the ``keep_per_point = 2`` (NPOS ``ID_points_num``)
   farthest candidates *of that boundary point* are kept; the first ``n`` kept points are returned.
   NPOS's code ranks the candidates of several boundary points together through a reshape that
   mixes them up; we implement the intended per-point selection.

Candidates are drawn and scored in chunks of whole boundary points (about
``_CANDIDATES_PER_CHUNK`` candidates, distance blocks of about ``_DISTANCE_ENTRIES`` entries), so
memory stays bounded. Cost grows as ``ceil(n / keep_per_point) * sample_from`` candidate-to-``H``
distance rows: about 0.8 s per 12,000 candidates against 6,800 rows (d = 27) on one core.

``A`` is not used (NPOS assumes no labeled anomalies). Edge cases: ``n == 0`` -> ``(0, d)``;
``n_h < 2`` with ``n > 0`` -> ValueError; ``n_a`` and ``d == 1`` need nothing special.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances

from . import _checks
from .base import Augmenter, require_rows

_DISTANCE_ENTRIES = 2_000_000  # distance-matrix entries (query rows x n_h) held at once
_CANDIDATES_PER_CHUNK = 60_000  # candidate rows drawn and scored at once (whole boundary points)


def kth_neighbour_distance(X: np.ndarray, H: np.ndarray, k: int) -> np.ndarray:
    """Euclidean distance from each row of ``X`` to its ``k``-th nearest row of ``H`` (``1 <= k <= len(H)``).

    Computed in row chunks with sklearn's ``euclidean_distances`` and ``np.partition``: only the
    k-th value is needed, and for NPOS's large ``K`` this is 2-3x faster single-threaded than a
    sorted ``NearestNeighbors.kneighbors`` query (same values to ~1e-15).
    """
    h_sq = np.einsum("ij,ij->i", H, H)[None, :]
    step = max(1, _DISTANCE_ENTRIES // len(H))
    out = np.empty(len(X))
    for lo in range(0, len(X), step):
        sq = euclidean_distances(X[lo : lo + step], H, Y_norm_squared=h_sq, squared=True)
        out[lo : lo + step] = np.partition(sq, k - 1, axis=1)[:, k - 1]
    return np.sqrt(np.maximum(out, 0.0))


class NPOS(Augmenter):
    """Samples around the boundary of the unlabeled data, kept where farthest from it."""

    name = "npos"
    min_anomalies = 0
    min_unlabeled = 2

    def __init__(
        self, K: int = 300, select: int = 200, sample_from: int = 600, sigma: float = 0.1, keep_per_point: int = 2
    ) -> None:
        self.K = K
        self.select = select
        self.sample_from = sample_from
        self.sigma = sigma
        self.keep_per_point = keep_per_point
        self._check_params()

    def _check_params(self) -> None:
        _checks.integer("K", self.K, minimum=1)
        _checks.integer("select", self.select, minimum=1)
        sample_from = _checks.integer("sample_from", self.sample_from, minimum=1)
        _checks.real("sigma", self.sigma, low=0.0)
        if _checks.integer("keep_per_point", self.keep_per_point, minimum=1) > sample_from:
            raise ValueError(
                f"keep_per_point must be <= sample_from, got keep_per_point={self.keep_per_point}, "
                f"sample_from={self.sample_from}"
            )

    def boundary(self, unlabeled: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Boundary rows of ``H``: ``(indices, their K-th NN distances, effective K)``."""
        H = np.asarray(unlabeled, dtype=np.float64)
        require_rows(len(H), self.min_unlabeled, "unlabeled", self.name)
        k = min(int(self.K), len(H) - 1)
        # the (k + 1)-th nearest row of H to a row of H is its k-th nearest *other* row (itself is at 0)
        dist = kth_neighbour_distance(H, H, k + 1)
        order = np.argsort(-dist, kind="stable")[: min(int(self.select), len(H))]
        return order, dist[order], k

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` NPOS samples (see the module docstring)."""
        d = A.shape[1]
        sample_from, keep_per_point, sigma = int(self.sample_from), int(self.keep_per_point), float(self.sigma)
        points, _, k = self.boundary(H)
        m = -(-n // keep_per_point)
        drawn = points[rng.integers(len(points), size=m)]
        per_chunk = max(1, _CANDIDATES_PER_CHUNK // sample_from)
        kept = []
        for lo in range(0, m, per_chunk):
            centres = H[drawn[lo : lo + per_chunk]]
            z = rng.normal(size=(len(centres), sample_from, d))
            cand = centres[:, None, :] + sigma * z
            score = kth_neighbour_distance(cand.reshape(-1, d), H, k).reshape(len(centres), sample_from)
            best = np.argsort(-score, axis=1, kind="stable")[:, :keep_per_point]
            kept.append(np.take_along_axis(cand, best[:, :, None], axis=1).reshape(-1, d))
        return np.concatenate(kept)[:n]
