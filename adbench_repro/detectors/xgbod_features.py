"""pyod 3.6.7's default XGBOD representation (41 unsupervised detectors' scores), computed with shared work.

pyod's ``XGBOD`` fits, on the same rows, KNN and LOF for k in {1, 3, 5, 10, 20, 30, 40, 50} (z-scored),
HBOS with {5, ..., 50} bins, OCSVM with 11 values of nu (z-scored, RBF, gamma = 1 / n_features) and
IForest with {10, ..., 200} trees (``random_state``). Each detector repeats the same work. Here:

* **OCSVM**: one kernel matrix serves the 11 one-class SVMs (``OneClassSVM(kernel="precomputed")``).
  The entries are computed exactly as sklearn's libsvm computes them, so the SVMs are the same to the
  bit: training uses ``exp(-gamma (|x_i|^2 + |x_j|^2 - 2 x_i.x_j))``, scoring ``exp(-gamma |x - sv|^2)``,
  every dot product by the same BLAS ``ddot`` (scipy's ``cython_blas``, which sklearn's libsvm calls)
  and ``exp`` from the C math library.
* **KNN and LOF**: one neighbour query at the largest k (same algorithm as pyod's: sklearn's ``auto``
  rule decides per k). A KNN score is the k-th distance, a value that ties cannot change. LOF also uses
  the neighbours' identities and order (tied neighbours may come in another order, or another one may
  be k-th), so rows whose first k + 1 distances hold a tie are queried again at exactly k, as pyod's LOF
  queries (with brute force, the whole query: see ``_neighbours_at``); the rest are the same to the bit.
* **IForest**: the forests differ only in length: with the same ``random_state`` bagging draws the same
  tree seeds, so the 10-tree forest is the first 10 trees of the 200-tree one. One 200-tree forest is
  fitted and scored tree by tree; each forest's scores are sklearn's formula on the running sum.
* **HBOS**: pyod's own (cheap).

``XGBODRepresentation`` fits them; ``tests/test_xgbod.py`` checks its scores against pyod's ``XGBOD``
bit for bit.
"""

from __future__ import annotations

import ctypes
import math

import numba
import numpy as np
from numba.extending import get_cython_function_address
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

K_RANGE = (1, 3, 5, 10, 20, 30, 40, 50)
N_BINS_RANGE = (5, 10, 15, 20, 25, 30, 50)
NU_RANGE = (0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99)
N_TREES_RANGE = (10, 20, 50, 70, 100, 150, 200)
CONTAMINATION = 0.1  # pyod's default, which enters IForest's offset

_ddot_t = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                           ctypes.c_void_p, ctypes.c_void_p)
_ddot = _ddot_t(get_cython_function_address("scipy.linalg.cython_blas", "ddot"))


@numba.njit(nogil=True)  # not cached: numba cannot cache calls through a ctypes pointer
def _fit_kernel(X, gamma):
    """libsvm's training RBF kernel (``Kernel::kernel_rbf``) for every pair of rows of ``X``."""
    n, d = X.shape
    nd = np.array([d], dtype=np.int32)
    one = np.array([1], dtype=np.int32)
    sq = np.empty(n)
    for i in range(n):
        row = X[i]
        sq[i] = _ddot(nd.ctypes, row.ctypes, one.ctypes, row.ctypes, one.ctypes)
    K = np.empty((n, n))
    for i in range(n):
        xi = X[i]
        for j in range(i + 1):
            xj = X[j]
            dot = _ddot(nd.ctypes, xi.ctypes, one.ctypes, xj.ctypes, one.ctypes)
            v = math.exp(-gamma * (sq[i] + sq[j] - 2.0 * dot))
            K[i, j] = v
            K[j, i] = v
    return K


@numba.njit(nogil=True)
def _score_kernel(A, B, gamma, symmetric):
    """libsvm's scoring RBF kernel (``Kernel::k_function``) between the rows of ``A`` and ``B``."""
    n, d = A.shape
    m = B.shape[0]
    nd = np.array([d], dtype=np.int32)
    one = np.array([1], dtype=np.int32)
    diff = np.empty(d)
    K = np.empty((n, m))
    for i in range(n):
        ai = A[i]
        stop = i + 1 if symmetric else m
        for j in range(stop):
            bj = B[j]
            for t in range(d):
                diff[t] = ai[t] - bj[t]
            s = _ddot(nd.ctypes, diff.ctypes, one.ctypes, diff.ctypes, one.ctypes)
            v = math.exp(-gamma * s)
            K[i, j] = v
            if symmetric:
                K[j, i] = v
    return K


@numba.njit(cache=True, nogil=True)
def _svm_decision(K, support, coef, rho):
    """libsvm's one-class ``predict_values`` on a precomputed kernel: sum of coef * K over the support
    vectors in their order, minus rho (what ``OneClassSVM.decision_function`` returns)."""
    out = np.empty(K.shape[0])
    for r in range(K.shape[0]):
        s = 0.0
        for i in range(support.shape[0]):
            s += coef[i] * K[r, support[i]]
        out[r] = s - rho
    return out


def _decisions(models, K: np.ndarray) -> np.ndarray:
    """pyod's OCSVM scores (negated decision function) of each model, one column each."""
    return np.column_stack([-_svm_decision(K, m.support_.astype(np.int64), m.dual_coef_[0], -m.intercept_[0])
                            for m in models])


def _uses_brute(n_train: int, n_features: int, k: int) -> bool:
    """sklearn's ``algorithm='auto'`` choice for euclidean neighbours: brute force or a KD-tree."""
    return n_features > 15 or k >= n_train // 2


def _tied_rows(dist: np.ndarray, k: int) -> np.ndarray:
    """Rows whose first ``k + 1`` (or all) distances hold a tie: their k-NN order is then not unique."""
    head = dist[:, : k + 1]
    return np.flatnonzero(np.any(head[:, 1:] == head[:, :-1], axis=1))


def _neighbours_at(nn: NearestNeighbors, brute: bool, D, I, k: int, Z: np.ndarray | None, Z_fit: np.ndarray):
    """The k-NN lists pyod's own query at ``k`` gives (``Z=None``: the training query, self removed), from
    the shared query's ``D, I`` at the largest k; rows with ties are queried again at exactly k.

    A KD-tree answers each row on its own, so only the tied rows are re-queried; brute force computes
    distances in blocks of rows (and picks its strategy from their number), so then the whole query is.
    """
    dist, ind = D[:, :k], I[:, :k]
    rows = _tied_rows(D, k) if k < D.shape[1] else np.empty(0, dtype=np.intp)
    if not len(rows):
        return dist, ind
    if brute:
        return nn.kneighbors(Z, n_neighbors=k)
    dist, ind = dist.copy(), ind.copy()
    if Z is not None:
        dist[rows], ind[rows] = nn.kneighbors(Z[rows], n_neighbors=k)
    else:  # sklearn's training query: k + 1 neighbours, then the row itself (or a first duplicate) removed
        d, i = nn.kneighbors(Z_fit[rows], n_neighbors=k + 1)
        mask = i != rows[:, None]
        mask[:, 0][np.all(mask, axis=1)] = False
        dist[rows], ind[rows] = d[mask].reshape(len(rows), k), i[mask].reshape(len(rows), k)
    return dist, ind


def _lrd(dist_fit_k: np.ndarray, dist: np.ndarray, ind: np.ndarray) -> np.ndarray:
    """sklearn's LOF local reachability density (``_local_reachability_density``)."""
    return 1.0 / (np.mean(np.maximum(dist, dist_fit_k[ind]), axis=1) + 1e-10)


def _lof(lrd_fit: np.ndarray, lrd: np.ndarray, ind: np.ndarray) -> np.ndarray:
    """pyod's LOF score: minus sklearn's ``negative_outlier_factor_`` / ``score_samples``."""
    return -(-np.mean(lrd_fit[ind] / lrd[:, np.newaxis], axis=1))


def _iforest_score(n_trees: int, max_samples: int, depths: np.ndarray) -> np.ndarray:
    """``IsolationForest.score_samples`` of an ``n_trees`` forest from its accumulated depths (sklearn's formula)."""
    denominator = n_trees * _average_path_length([max_samples])
    scores = 2 ** (-np.divide(depths, denominator, out=np.ones_like(depths), where=denominator != 0))
    return -scores


def _cumulative_depths(forest: IsolationForest, X: np.ndarray) -> np.ndarray:
    """Row t: sklearn's ``depths`` accumulator after trees 0..t (added in the same order)."""
    X = np.asarray(X, dtype=np.float32)  # sklearn's trees apply on float32 input
    subsample = forest._max_features != X.shape[1]
    out = np.empty((len(forest.estimators_), X.shape[0]))
    depths = np.zeros(X.shape[0], order="f")
    for t, (tree, features) in enumerate(zip(forest.estimators_, forest.estimators_features_)):
        leaves = tree.apply(X[:, features] if subsample else X, check_input=False)
        depths += forest._decision_path_lengths[t][leaves] + forest._average_path_length_per_tree[t][leaves] - 1.0
        out[t] = depths
    return out


class XGBODRepresentation:
    """pyod XGBOD's 41 default detectors, fitted once: ``fit(X)`` gives the training rows' scores
    (pyod's ``X_train_add_``), ``transform(X)`` any other rows' (pyod's ``_generate_new_features``).

    Columns in pyod's order: KNN(k), LOF(k) for each k < n (z-scored), HBOS per bin count, OCSVM per nu
    (z-scored), IForest per size (``random_state``).
    """

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def fit(self, X: np.ndarray) -> np.ndarray:
        """Fit every detector on ``X``; returns their training scores, shape (n, 41)."""
        from pyod.models.hbos import HBOS

        X = np.ascontiguousarray(X, dtype=np.float64)
        self.scaler_ = StandardScaler().fit(X)
        Z = self.Z_ = np.ascontiguousarray(self.scaler_.transform(X))
        n, d = Z.shape
        self.ks_ = [k for k in K_RANGE if k < n]
        cols = {}
        # KNN and LOF: one query per neighbour algorithm at the largest k
        self.neighbours_ = {}
        groups: dict[bool, list[int]] = {}
        for k in self.ks_:
            groups.setdefault(_uses_brute(n, d, k), []).append(k)
        for brute, group in groups.items():
            kmax = max(group)
            nn = NearestNeighbors(n_neighbors=kmax, algorithm="brute" if brute else "kd_tree").fit(Z)
            D, I = nn.kneighbors(n_neighbors=kmax)
            for k in group:
                dist, ind = _neighbours_at(nn, brute, D, I, k, None, Z)
                lrd = _lrd(dist[:, k - 1], dist, ind)
                self.neighbours_[k] = (nn, brute, kmax, dist[:, k - 1].copy(), lrd)
                cols[("knn", k)] = dist[:, k - 1]
                cols[("lof", k)] = _lof(lrd, lrd, ind)
        # HBOS: pyod's
        self.hbos_ = [HBOS(n_bins=b).fit(X) for b in N_BINS_RANGE]
        # OCSVM: one kernel matrix
        self.gamma_ = 1.0 / d  # sklearn's gamma='auto'
        K = _fit_kernel(Z, self.gamma_)
        self.svms_ = [OneClassSVM(kernel="precomputed", nu=nu, tol=1e-3, shrinking=True, cache_size=200).fit(K)
                      for nu in NU_RANGE]
        del K
        svm = _decisions(self.svms_, _score_kernel(Z, Z, self.gamma_, True))
        # IForest: one forest, read at each length
        # contamination="auto" skips sklearn's scoring pass for offset_ (the trees do not depend on it);
        # each length's offset (pyod's contamination 0.1) is computed below from the same scores
        self.forest_ = IsolationForest(n_estimators=max(N_TREES_RANGE), contamination="auto",
                                       random_state=self.random_state, n_jobs=1).fit(X)
        depths = _cumulative_depths(self.forest_, X)
        self.offsets_ = []
        forest = []
        for size in N_TREES_RANGE:
            score = _iforest_score(size, self.forest_._max_samples, depths[size - 1])
            offset = np.percentile(score, 100.0 * CONTAMINATION)  # sklearn's offset_ for that forest
            self.offsets_.append(offset)
            forest.append(-(score - offset))
        return self._assemble(cols, [m.decision_scores_ for m in self.hbos_], svm, forest)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The fitted detectors' scores for other rows ``X``, shape (m, 41)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        Z = np.ascontiguousarray(self.scaler_.transform(X))
        cols = {}
        queries = {}
        for k in self.ks_:
            nn, brute, kmax, dist_fit_k, lrd_fit = self.neighbours_[k]
            if id(nn) not in queries:
                queries[id(nn)] = nn.kneighbors(Z, n_neighbors=kmax)
            dist, ind = _neighbours_at(nn, brute, *queries[id(nn)], k, Z, self.Z_)
            cols[("knn", k)] = dist[:, k - 1]
            cols[("lof", k)] = _lof(lrd_fit, _lrd(dist_fit_k, dist, ind), ind)
        svm = _decisions(self.svms_, _score_kernel(Z, self.Z_, self.gamma_, False))
        depths = _cumulative_depths(self.forest_, X)
        forest = [-(_iforest_score(size, self.forest_._max_samples, depths[size - 1]) - offset)
                  for size, offset in zip(N_TREES_RANGE, self.offsets_)]
        return self._assemble(cols, [m.decision_function(X) for m in self.hbos_], svm, forest)

    def _assemble(self, cols, hbos, svm, forest) -> np.ndarray:
        neighbours = [cols[(kind, k)] for k in self.ks_ for kind in ("knn", "lof")]
        return np.hstack([np.column_stack(neighbours + list(hbos)), svm, np.column_stack(forest)])
