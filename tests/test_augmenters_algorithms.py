"""Each generator's defining property, checked against an independent numpy reading of its rule."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from adbench_repro.augmenters import NPOS, CutMix, CutMixGN, Cutout, CutoutGN, GaussianNoise, Mixup, NNGMix, RoSAS
from adbench_repro.augmenters import NNGMixUniform, Uniform

KS_P = 1e-3  # generous: a correct sampler fails a single KS test at this level 1 time in 1000


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def clustered(seed: int = 0, d: int = 5):
    """Anomalies near 0.8, unlabeled near 0.35 plus a far group near 0.0 (never a nearest neighbour)."""
    g = np.random.default_rng(seed)
    A = g.normal(0.8, 0.06, size=(20, d))
    near = g.normal(0.35, 0.08, size=(200, d))
    far = g.normal(0.0, 0.03, size=(60, d))
    return A, np.concatenate([near, far])


def knn_indices(Q: np.ndarray, P: np.ndarray, k: int, exclude_self: bool) -> np.ndarray:
    """Brute-force k nearest rows of P for each row of Q (the test's own k-NN)."""
    D = np.linalg.norm(Q[:, None, :] - P[None, :, :], axis=2)
    if exclude_self:
        np.fill_diagonal(D, np.inf)
    return np.argsort(D, axis=1, kind="stable")[:, :k]


def segment_fit(X: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """For each row of X: best segment (index into starts/ends), its residual and position t in [0, 1]."""
    v = ends - starts  # (m, d)
    w = X[:, None, :] - starts[None, :, :]  # (n, m, d)
    t = np.clip((w * v).sum(-1) / np.maximum((v * v).sum(-1), 1e-300), 0.0, 1.0)
    res = np.linalg.norm(w - t[..., None] * v[None], axis=2)
    best = res.argmin(axis=1)
    rows = np.arange(len(X))
    return best, res[rows, best], t[rows, best]


# ---------------------------------------------------------------- nng_mix


def nng_pairs(A, H, k):
    """Every (anomaly, partner) pair NNG-Mix may mix, with the partner's pool (True = A)."""
    kA = knn_indices(A, A, min(k, len(A) - 1), exclude_self=True)
    kH = knn_indices(A, H, min(k, len(H)), exclude_self=False)
    starts, ends, from_a = [], [], []
    for i in range(len(A)):
        for j in kA[i]:
            starts.append(A[i]), ends.append(A[j]), from_a.append(True)
        for j in kH[i]:
            starts.append(A[i]), ends.append(H[j]), from_a.append(False)
    return np.array(starts), np.array(ends), np.array(from_a)


def test_nng_mix_samples_lie_on_segments_to_nearest_neighbours_with_half_from_each_pool():
    A, H = clustered()
    X = NNGMix(sigma=0.0, k=10).generate(A, H, 3000, rng(1))
    starts, ends, from_a = nng_pairs(A, H, 10)
    best, res, t = segment_fit(X, starts, ends)
    assert res.max() < 1e-9  # every sample is on a segment anomaly -> one of its k nearest neighbours
    far = H[200:]
    assert np.min(np.linalg.norm(X[:, None] - far[None], axis=2)) > 0.15  # never mixed toward the far rows
    clear = (t > 0.05) & (t < 0.95)  # away from the endpoints the segment (hence the pool) is identified
    assert clear.sum() > 1000
    share_a = from_a[best[clear]].mean()
    assert abs(share_a - 0.5) < 0.05, share_a


def test_anomaly_neighbours_exclude_the_row_itself_even_with_duplicates():
    from adbench_repro.augmenters._sampling import neighbours_within

    g = np.random.default_rng(3)
    A = g.random((12, 3))
    A = np.concatenate([A, A[:4]])  # rows 12..15 duplicate rows 0..3
    table = neighbours_within(A, 5)
    assert table.shape == (16, 5)
    assert not np.any(table == np.arange(16)[:, None])
    for i, twin in zip(range(4), range(12, 16)):
        assert twin in table[i] and i in table[twin]  # the twin (distance 0) is the nearest other row


def test_nng_mix_without_nn_mixes_with_any_row():
    A, H = clustered()
    X = NNGMix(sigma=0.0, use_nn=False, p_anomaly_pool=0.0, lam="uniform").generate(A, H, 2000, rng(1))
    starts, ends, _ = nng_pairs(A, H, 10)
    _, res_nn, _ = segment_fit(X, starts, ends)
    # with uniform partners most samples are NOT on a nearest-neighbour segment...
    assert (res_nn > 1e-6).mean() > 0.5
    # ...but every sample is on a segment from an anomaly to some row of H
    all_starts = np.repeat(A, len(H), axis=0)
    all_ends = np.tile(H, (len(A), 1))
    _, res_all, _ = segment_fit(X[:300], all_starts, all_ends)
    assert res_all.max() < 1e-9


def test_nng_mix_partner_pool_probability_switch():
    A, H = clustered()
    X = NNGMix(sigma=0.0, p_anomaly_pool=1.0, lam="uniform").generate(A, H, 500, rng(2))
    starts, ends, from_a = nng_pairs(A, H, 10)
    best, res, _ = segment_fit(X, starts, ends)
    assert res.max() < 1e-9 and from_a[best].all()
    # all partners from A: samples stay in the anomaly cluster
    assert np.linalg.norm(X - 0.8, axis=1).max() < 0.5


@pytest.mark.parametrize("cls", [NNGMix, Mixup])
def test_lambda_follows_beta_alpha_alpha(cls):
    # two anomalies at 0 and 1 in d=1 and no unlabeled row: sample = lam or 1 - lam, and Beta(a, a) is symmetric
    A, H = np.array([[0.0], [1.0]]), np.empty((0, 1))
    kwargs = {"sigma": 0.0} if cls is NNGMix else {}
    for alpha in (0.2, 2.0):
        x = cls(alpha=alpha, **kwargs).generate(A, H, 4000, rng(3))[:, 0]
        assert stats.kstest(x, stats.beta(alpha, alpha).cdf).pvalue > KS_P
        other = 2.0 if alpha == 0.2 else 0.2
        assert stats.kstest(x, stats.beta(other, other).cdf).pvalue < 1e-6  # the test has power
    x = cls(lam="uniform", **kwargs).generate(A, H, 4000, rng(3))[:, 0]
    assert stats.kstest(x, "uniform").pvalue > KS_P


def test_nng_mix_noise_switch_and_scale():
    A, H = clustered()
    quiet = NNGMix(sigma=0.01, use_noise=False).generate(A, H, 500, rng(4))
    np.testing.assert_array_equal(quiet, NNGMix(sigma=0.0).generate(A, H, 500, rng(4)))
    assert not np.array_equal(quiet, NNGMix(sigma=0.01).generate(A, H, 500, rng(4)))
    # one anomaly and one unlabeled row, both at the origin: the sample is pure noise
    # lam*e1 + (1-lam)*e2, whose per-sample std is sigma * sqrt(lam^2 + (1-lam)^2) in [sigma/sqrt2, sigma]
    d, sigma = 400, 0.05
    X = NNGMix(sigma=sigma).generate(np.zeros((1, d)), np.zeros((1, d)), 300, rng(5))
    s = X.std(axis=1)
    assert np.all(s > 0.85 * sigma / np.sqrt(2)) and np.all(s < 1.15 * sigma)


# ---------------------------------------------------------------- mixup


def test_mixup_mixes_two_distinct_anomalies():
    A, H = clustered()
    X = Mixup(lam="uniform").generate(A, H, 2000, rng(6))
    pairs = [(i, j) for i in range(len(A)) for j in range(len(A)) if i != j]
    starts = np.array([A[i] for i, _ in pairs])
    ends = np.array([A[j] for _, j in pairs])
    _, res, _ = segment_fit(X, starts, ends)
    assert res.max() < 1e-9
    # a1 != a2: no sample coincides with an anomaly (it would if a row were mixed with itself)
    assert np.min(np.linalg.norm(X[:, None] - A[None], axis=2)) > 1e-9


def test_mixup_pool_all_uses_unlabeled_rows_too():
    A, H = clustered()
    X = Mixup(pool="all", lam="uniform").generate(A, H, 2000, rng(7))
    # every sample starts at an anomaly; many move toward H (even the far rows: no NN constraint)
    d_anom = np.min(np.linalg.norm(X[:, None] - A[None], axis=2), axis=1)
    assert (d_anom > 0.3).mean() > 0.5
    assert np.min(np.linalg.norm(X[:, None] - H[200:][None], axis=2)) < 0.1
    starts = np.repeat(A, len(A) + len(H), axis=0)
    ends = np.tile(np.concatenate([A, H]), (len(A), 1))
    _, res, _ = segment_fit(X[:300], starts, ends)
    assert res.max() < 1e-9


# ---------------------------------------------------------------- cutout / cutmix


def positive_anomalies(n_a=15, d=20, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 1.0, size=(n_a, d))


def runs(mask_row: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous True runs of a boolean row as (start, stop)."""
    padded = np.r_[False, mask_row, False].astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2]))


def test_cutout_zeroes_one_block_of_the_stated_length():
    A = positive_anomalies()
    d = A.shape[1]
    X = Cutout().generate(A, np.empty((0, d)), 3000, rng(8))
    interior = []
    for x in X:
        zero = x == 0.0
        blocks = runs(zero)
        assert len(blocks) == 1  # exactly one contiguous zero block
        (start, stop), = blocks
        assert np.any(np.all(A[:, ~zero] == x[~zero], axis=1))  # the rest is an untouched anomaly
        length = stop - start
        assert 1 <= length <= max(1, int(0.3 * d))
        if start > 0 and stop < d:
            interior.append(length)
    # unclipped blocks: L = int(r * 20), r ~ U(0.1, 0.3) -> 2, 3, 4, 5 equally often
    values, counts = np.unique(interior, return_counts=True)
    assert list(values) == [2, 3, 4, 5]
    assert np.all(np.abs(counts / counts.sum() - 0.25) < 0.04)
    # the centre is uniform: every feature gets zeroed sometimes
    assert np.all((X == 0).any(axis=0))


def test_cutout_single_feature_zeroes_it():
    X = Cutout().generate(np.array([[0.7], [0.4]]), np.empty((0, 1)), 20, rng(0))
    assert np.all(X == 0.0)


@pytest.mark.parametrize("block_source", ["same", "random"])
def test_cutmix_replaces_one_block_with_a_block_of_another_anomaly(block_source):
    A = positive_anomalies()
    d = A.shape[1]
    X = CutMix(block_source=block_source).generate(A, np.empty((0, d)), 1500, rng(9))
    lengths = []
    for x in X:
        matches = (A == x).sum(axis=1)
        i = matches.argmax()  # a1: the anomaly x agrees with outside the block
        diff = A[i] != x
        blocks = runs(diff)
        assert len(blocks) == 1  # x differs from a1 in exactly one contiguous block
        (start, stop), = blocks
        length = stop - start
        lengths.append(length)
        block = x[start:stop]
        others = np.delete(A, i, axis=0)
        if block_source == "same":
            assert np.any(np.all(others[:, start:stop] == block, axis=1))
        else:
            windows = np.lib.stride_tricks.sliding_window_view(others, length, axis=1)  # (n-1, d-L+1, L)
            assert np.any(np.all(windows == block, axis=2))
    assert set(lengths) == {2, 3, 4, 5}  # never clipped: L = int(r * 20)


@pytest.mark.parametrize(("cls", "base"), [(CutoutGN, Cutout), (CutMixGN, CutMix)])
def test_noisy_variants_add_gaussian_noise_to_the_base_sample(cls, base):
    A = positive_anomalies(d=60)
    d = A.shape[1]
    clean = base().generate(A, np.empty((0, d)), 400, rng(10))
    noisy = cls(sigma=0.05).generate(A, np.empty((0, d)), 400, rng(10))
    resid = (noisy - clean).ravel()  # same draws first, then the noise
    assert abs(resid.std() - 0.05) < 0.003
    assert stats.kstest(resid / 0.05, "norm").pvalue > KS_P
    np.testing.assert_array_equal(cls(sigma=0.0).generate(A, np.empty((0, d)), 50, rng(1)),
                                  base().generate(A, np.empty((0, d)), 50, rng(1)))


# ---------------------------------------------------------------- gaussian noise


def test_gaussian_noise_is_anomaly_plus_sigma_noise():
    A, H = clustered()
    X = GaussianNoise().generate(A, H, 2000, rng(11))
    nearest = np.argmin(np.linalg.norm(X[:, None] - A[None], axis=2), axis=1)
    resid = (X - A[nearest]).ravel()
    assert abs(resid.mean()) < 0.001 and abs(resid.std() - 0.01) < 0.0005
    assert stats.kstest(resid / 0.01, "norm").pvalue > KS_P
    assert len(np.unique(nearest)) == len(A)  # a1 uniform over A


# ---------------------------------------------------------------- rosas


def test_rosas_interpolates_anomaly_and_unlabeled_row_with_beta_half():
    A, H = clustered()
    X = RoSAS().generate(A, H, 1000, rng(12))
    starts = np.repeat(A, len(H), axis=0)
    ends = np.tile(H, (len(A), 1))
    _, res, _ = segment_fit(X[:200], starts, ends)
    assert res.max() < 1e-9
    # d = 1, a = 1, h = 0: the sample is lam itself
    lam = RoSAS().generate(np.ones((1, 1)), np.zeros((1, 1)), 4000, rng(13))[:, 0]
    assert stats.kstest(lam, stats.beta(0.5, 0.5).cdf).pvalue > KS_P
    assert stats.kstest(lam, stats.beta(0.2, 0.2).cdf).pvalue < 1e-6


def test_rosas_min_degree_truncates_lambda():
    lam = RoSAS(min_degree=0.7).generate(np.ones((1, 1)), np.zeros((1, 1)), 3000, rng(14))[:, 0]
    assert lam.min() >= 0.7 and len(lam) == 3000
    b = stats.beta(0.5, 0.5)
    truncated_cdf = lambda x: (b.cdf(x) - b.cdf(0.7)) / b.sf(0.7)  # noqa: E731
    assert stats.kstest(lam, truncated_cdf).pvalue > KS_P


# ---------------------------------------------------------------- npos


def kth_distance(Q, P, k, exclude_self=False):
    D = np.linalg.norm(Q[:, None, :] - P[None, :, :], axis=2)
    if exclude_self:
        np.fill_diagonal(D, np.inf)
    return np.sort(D, axis=1)[:, k - 1]


def test_npos_boundary_and_samples_are_farther_from_h():
    _, H = clustered()
    H = H[:200]
    K, select = 10, 20
    aug = NPOS(K=K, select=select, sample_from=100, sigma=0.1)
    own = kth_distance(H, H, K, exclude_self=True)
    idx, dist, k = aug.boundary(H)
    assert k == K
    np.testing.assert_allclose(dist, np.sort(own)[::-1][:select])
    np.testing.assert_array_equal(np.sort(idx), np.sort(np.argsort(-own, kind="stable")[:select]))
    X = aug.generate(np.empty((0, H.shape[1])), H, 400, rng(15))
    sample_dist = kth_distance(X, H, K)
    assert sample_dist.mean() > dist.mean() > own.mean()
    # every sample is a perturbation of a boundary point
    near_b = np.min(np.linalg.norm(X[:, None] - H[idx][None], axis=2), axis=1)
    assert near_b.max() < 0.1 * (np.sqrt(H.shape[1]) + 5)


def test_npos_keeps_the_farthest_candidates_of_each_boundary_point():
    _, H = clustered()
    H = H[:200]
    K, m = 10, 100
    aug = NPOS(K=K, select=1, sample_from=m, sigma=0.1, keep_per_point=1)
    (b,), _, _ = aug.boundary(H)
    X = aug.generate(np.empty((0, H.shape[1])), H, 200, rng(16))
    fresh = H[b] + 0.1 * np.random.default_rng(99).normal(size=(20000, H.shape[1]))
    q90 = np.quantile(kth_distance(fresh, H, K), 0.9)
    # the best of 100 candidates beats the 90th percentile with probability 1 - 0.9^100
    assert (kth_distance(X, H, K) > q90).mean() > 0.97


def test_npos_selects_per_boundary_point_not_across_points():
    # NPOS's own code ranks the candidates of several boundary points together; the intended
    # per-point rule keeps keep_per_point samples around every drawn point, so each boundary
    # point gets its share of samples whatever its distance to H.
    _, H = clustered()
    H = H[:200]
    aug = NPOS(K=10, select=5, sample_from=50, sigma=0.01, keep_per_point=1)
    idx, _, _ = aug.boundary(H)
    X = aug.generate(np.empty((0, H.shape[1])), H, 1000, rng(19))
    owner = np.argmin(np.linalg.norm(X[:, None] - H[idx][None], axis=2), axis=1)
    counts = np.bincount(owner, minlength=len(idx))
    assert np.all(np.abs(counts - 200) < 60), counts  # 1000 uniform draws over 5 points: sd 12.6


def test_npos_keep_per_point_and_k_capped_at_pool():
    _, H = clustered()
    H = H[:30]
    aug = NPOS(K=300, select=200, sample_from=50, keep_per_point=5)
    idx, _, k = aug.boundary(H)
    assert k == 29 and len(idx) == 30
    X = aug.generate(np.empty((0, H.shape[1])), H, 23, rng(17))
    assert X.shape == (23, H.shape[1])


# ---------------------------------------------------------------- uniform


def test_uniform_fills_the_widened_box():
    A, H = clustered()
    rows = np.concatenate([A, H])
    lo, hi = rows.min(0), rows.max(0)
    margin = 0.1
    X = Uniform(margin=margin).generate(A, H, 4000, rng(18))
    wlo, whi = lo - margin * (hi - lo), hi + margin * (hi - lo)
    assert np.all(X >= wlo) and np.all(X <= whi)
    assert np.any(X < lo) and np.any(X > hi)  # the margin is used
    for j in range(X.shape[1]):
        assert stats.kstest((X[:, j] - wlo[j]) / (whi[j] - wlo[j]), "uniform").pvalue > KS_P
    tight = Uniform().generate(A, H, 500, rng(18))
    assert np.all(tight >= lo) and np.all(tight <= hi)


# ---------------------------------------------------------------- nng_mix_uniform


def test_nng_mix_uniform_is_an_nng_mix_block_then_a_uniform_block():
    A, H = clustered()
    n, share = 1000, 0.3
    X = NNGMixUniform(uniform_share=share, sigma=0.0).generate(A, H, n, rng(19))
    n_u = round(share * n)
    mixed, boxed = X[: n - n_u], X[n - n_u:]
    # the NNG-Mix block lies on anomaly-to-nearest-neighbour segments (sigma 0), as NNG-Mix's own samples do
    starts, ends, _ = nng_pairs(A, H, 10)
    _, res, _ = segment_fit(mixed, starts, ends)
    assert res.max() < 1e-9
    # the uniform block fills the bounding box of A u H, and mostly lies off those segments
    rows = np.concatenate([A, H])
    lo, hi = rows.min(0), rows.max(0)
    assert np.all(boxed >= lo) and np.all(boxed <= hi)
    for j in range(X.shape[1]):
        assert stats.kstest((boxed[:, j] - lo[j]) / (hi[j] - lo[j]), "uniform").pvalue > KS_P
    _, res_u, _ = segment_fit(boxed, starts, ends)
    assert np.mean(res_u > 1e-3) > 0.9
    # the two parts are the parts' own draws from the one generator, NNG-Mix first
    g = rng(19)
    first = NNGMix(sigma=0.0).generate(A, H, n - n_u, g)
    np.testing.assert_array_equal(mixed, first)
    np.testing.assert_array_equal(boxed, Uniform().generate(A, H, n_u, g))


@pytest.mark.parametrize("share, expected", [(0.0, (9, 0)), (0.5, (5, 4)), (1.0, (0, 9))])
def test_nng_mix_uniform_split(share, expected):
    # round half to even: 4.5 -> 4 uniform points of 9
    assert NNGMixUniform(uniform_share=share).split(9) == expected
