"""Vectorised sampling blocks shared by several generators (mixing weights, partners, blocks, k-NN)."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

LAMBDA_KINDS = ("beta", "uniform")
# k-NN tables are built with brute force: the queries are the few anomalies (n_a rows), for which
# one blocked distance computation beats building a tree (4x faster than "auto" on 1_ALOI).


def mixing_weights(rng: np.random.Generator, n: int, kind: str, alpha: float) -> np.ndarray:
    """``n`` mixing weights: ``Beta(alpha, alpha)`` (``kind="beta"``) or ``U(0, 1)`` (``"uniform"``)."""
    if kind == "beta":
        return rng.beta(alpha, alpha, size=n)
    return rng.random(n)


def other_index(rng: np.random.Generator, first: np.ndarray, pool_size: int) -> np.ndarray:
    """For each index in ``first`` (all ``< pool_size``), a uniform index of the pool other than itself.

    Needs ``pool_size >= 2``.
    """
    return (first + rng.integers(1, pool_size, size=len(first))) % pool_size


def block_lengths(rng: np.random.Generator, n: int, d: int, r_low: float, r_high: float) -> np.ndarray:
    """Block lengths ``max(1, int(r * d))`` with ``r ~ U(r_low, r_high)`` (the cutout/cutmix rule)."""
    r = rng.uniform(r_low, r_high, size=n)
    return np.maximum(1, (r * d).astype(np.int64))


def block_mask(start: np.ndarray, stop: np.ndarray, d: int) -> np.ndarray:
    """Boolean ``(n, d)`` mask, True on columns ``start[i] <= j < stop[i]`` of row ``i``."""
    cols = np.arange(d)
    return (cols >= start[:, None]) & (cols < stop[:, None])


def neighbours_within(X: np.ndarray, k: int) -> np.ndarray:
    """Indices ``(len(X), k)`` of each row's ``k`` nearest other rows of ``X`` (one query, self excluded).

    Needs ``1 <= k <= len(X) - 1``. With duplicate rows the query may list a twin before the row
    itself; the row's own index is removed wherever it appears (else the farthest column is dropped).
    """
    idx = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(X).kneighbors(X, return_distance=False)
    keep = idx != np.arange(len(X))[:, None]
    keep[keep.all(axis=1), -1] = False
    return idx[keep].reshape(len(X), k)


def neighbours_in(queries: np.ndarray, pool: np.ndarray, k: int) -> np.ndarray:
    """Indices ``(len(queries), k)`` of each query's ``k`` nearest rows of ``pool`` (one query)."""
    return NearestNeighbors(n_neighbors=k, algorithm="brute").fit(pool).kneighbors(queries, return_distance=False)
