"""The ADBench loader and split protocol, on real data from the ADBench mirror."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from adbench_repro.datasets import DataError, get_dataset, load_arrays, load_split, make_split
from adbench_repro.datasets.__main__ import card_rows

LABEL_RATIOS = {"1pct": (0.1, 0.1), "5pct": (0.1, 0.5), "10pct": (0.1, 1.0), "100pct": (1.0, 1.0)}


def adbench_global_rng_reference(X, y, seed, la=0.1):
    """ADBench's DataGenerator order written against NumPy's *global* RNG, as ADBench does it."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        if len(y) < 1000:
            np.random.seed(seed)
            idx = np.random.choice(np.arange(len(y)), 1000, replace=True)
            X, y = X[idx], y[idx]
        if len(y) > 10000:
            np.random.seed(seed)
            idx = np.random.choice(np.arange(len(y)), 10000, replace=False)
            X, y = X[idx], y[idx]
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, shuffle=True, stratify=y)
        sc = MinMaxScaler().fit(X_tr)
        X_tr, X_te = sc.transform(X_tr), sc.transform(X_te)
        idx_anom = np.where(y_tr == 1)[0]
        idx_lab = np.random.choice(idx_anom, math.ceil(la * len(idx_anom)), replace=False)
        y_new = np.zeros_like(y_tr)
        y_new[idx_lab] = 1
        return X_tr, y_new, X_te, y_te
    finally:
        np.random.set_state(state)


@pytest.mark.parametrize("name", ["6_cardio", "39_vertebral", "22_magic.gamma", "4_breastw", "20news_3"])
@pytest.mark.parametrize("seed", [0, 3])
def test_split_equals_global_rng_adbench_order(adbench_root, name, seed):
    from adbench_repro.datasets import adbench_generate

    X, y = load_arrays(name, adbench_root)
    ours, _ = adbench_generate(X, y, seed)
    X_tr, y_tr, X_te, y_te = adbench_global_rng_reference(X, y, seed)
    np.testing.assert_array_equal(ours["X_train"], X_tr)
    np.testing.assert_array_equal(ours["y_train"], y_tr)
    np.testing.assert_array_equal(ours["X_test"], X_te)
    np.testing.assert_array_equal(ours["y_test"], y_te)


@pytest.mark.parametrize(
    "name, n_train, n_test, duplicated, subsampled",
    [("6_cardio", 1281, 550, False, False), ("39_vertebral", 700, 300, True, False),
     ("22_magic.gamma", 7000, 3000, False, True)],
)
def test_split_sizes_and_stratification(adbench_root, name, n_train, n_test, duplicated, subsampled):
    X, y = load_arrays(name, adbench_root)
    s = make_split(X, y, seed=0, keep=1.0)
    assert s.info["duplicated"] is duplicated and s.info["subsampled"] is subsampled
    assert s.info["n_train_split"] == n_train and len(s.y_test) == n_test
    n_total = n_train + n_test
    base_rate = s.info["n_train_anomalies"] + s.y_test.sum()
    # stratified: each side holds the anomaly rate of the whole, to within one row
    assert abs(s.y_test.sum() - base_rate * n_test / n_total) <= 1
    assert abs(s.info["n_train_anomalies"] - base_rate * n_train / n_total) <= 1
    assert len(s.X_unlabeled) + len(s.X_labeled) == n_train


def test_scaler_is_fit_on_train_only(adbench_root):
    s = load_split("6_cardio", adbench_root, seed=0, keep=1.0)
    X_train, _ = s.training_set()
    varying = X_train.max(0) > X_train.min(0)
    assert np.allclose(X_train.min(0)[varying], 0.0) and np.allclose(X_train.max(0)[varying], 1.0)
    # the test set is transformed with the train scaler, so it can leave [0, 1]
    assert (s.X_test.min() < 0) or (s.X_test.max() > 1) or not np.allclose(s.X_test.min(0)[varying], 0.0)


@pytest.mark.parametrize("name", ["6_cardio", "39_vertebral", "22_magic.gamma"])
@pytest.mark.parametrize("ratio", sorted(LABEL_RATIOS))
def test_label_counts_per_ratio(adbench_root, name, ratio):
    la, keep = LABEL_RATIOS[ratio]
    X, y = load_arrays(name, adbench_root)
    s = make_split(X, y, seed=1, la=la, keep=keep)
    n_anom = s.info["n_train_anomalies"]
    n_lab = math.ceil(la * n_anom)
    assert s.info["n_labeled_total"] == n_lab
    assert len(s.X_labeled) == math.ceil(keep * n_lab) >= 1
    # unkept labeled anomalies leave the training set (drop_unkept default)
    assert s.info["n_dropped"] == n_lab - len(s.X_labeled)
    # every unlabeled anomaly stays as contamination
    assert s.y_unlabeled_true.sum() == n_anom - n_lab


def test_drop_unkept_false_keeps_rows_unlabeled(adbench_root):
    X, y = load_arrays("6_cardio", adbench_root)
    a = make_split(X, y, seed=0, keep=0.1)
    b = make_split(X, y, seed=0, keep=0.1, drop_unkept=False)
    np.testing.assert_array_equal(a.X_labeled, b.X_labeled)
    assert len(b.X_unlabeled) == len(a.X_unlabeled) + a.info["n_dropped"]
    assert b.info["n_dropped"] == 0


def test_keep_subset_is_drawn_from_the_labeled_set(adbench_root):
    X, y = load_arrays("22_magic.gamma", adbench_root)
    full = make_split(X, y, seed=0, keep=1.0)
    part = make_split(X, y, seed=0, keep=0.1)
    full_rows = {r.tobytes() for r in full.X_labeled}
    assert all(r.tobytes() in full_rows for r in part.X_labeled)
    np.testing.assert_array_equal(full.X_test, part.X_test)


def test_pollution_removes_unlabeled_anomalies_only(adbench_root):
    X, y = load_arrays("6_cardio", adbench_root)
    base = make_split(X, y, seed=0)
    for p in (0.0, 0.5):
        s = make_split(X, y, seed=0, pollution=p)
        assert s.y_unlabeled_true.sum() == round(p * base.y_unlabeled_true.sum())
        assert (len(s.y_unlabeled_true) - s.y_unlabeled_true.sum()) == (len(base.y_unlabeled_true) - base.y_unlabeled_true.sum())
        np.testing.assert_array_equal(s.X_labeled, base.X_labeled)
        np.testing.assert_array_equal(s.X_test, base.X_test)


def test_duplicate_small_off(adbench_root):
    X, y = load_arrays("39_vertebral", adbench_root)
    s = make_split(X, y, seed=0, duplicate_small=False)
    assert not s.info["duplicated"] and s.info["n_train_split"] + len(s.y_test) == len(y)


def test_same_seed_same_split_other_seed_differs(adbench_root):
    a = load_split("6_cardio", adbench_root, seed=5, keep=0.5)
    b = load_split("6_cardio", adbench_root, seed=5, keep=0.5)
    c = load_split("6_cardio", adbench_root, seed=6, keep=0.5)
    for f in ("X_unlabeled", "X_labeled", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(a.X_test, c.X_test)


def test_training_set_order_and_labels(adbench_root):
    s = load_split("6_cardio", adbench_root, seed=0)
    gen = np.full((7, s.X_unlabeled.shape[1]), 0.5)
    X, y = s.training_set(gen)
    nu, nl = len(s.X_unlabeled), len(s.X_labeled)
    np.testing.assert_array_equal(X[:nu], s.X_unlabeled)
    np.testing.assert_array_equal(X[nu:nu + nl], s.X_labeled)
    np.testing.assert_array_equal(X[nu + nl:], gen)
    assert y[:nu].sum() == 0 and y[nu:].all()
    with pytest.raises(ValueError, match="shape"):
        s.training_set(np.zeros((3, 2)))


# ---------------------------------------------------------------- bad input

def _write(tmp_path, name, **arrays):
    info = get_dataset(name)
    path = tmp_path / info.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def test_missing_root_says_where_and_how(tmp_path):
    with pytest.raises(DataError, match=r"does not exist.*make data"):
        load_arrays("6_cardio", tmp_path / "nowhere")


def test_missing_file_names_the_path(tmp_path):
    (tmp_path / "Classical").mkdir()
    with pytest.raises(DataError, match=r"Classical/6_cardio\.npz.*not found"):
        load_arrays("6_cardio", tmp_path)


def test_unknown_dataset_suggests_close_names():
    with pytest.raises(ValueError, match="6_cardio"):
        get_dataset("cardio")
    with pytest.raises(ValueError, match="22_magic.gamma"):
        get_dataset("22_magic_gamma")


def test_corrupt_npz(tmp_path):
    path = tmp_path / "Classical" / "6_cardio.npz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(DataError, match="6_cardio.npz"):
        load_arrays("6_cardio", tmp_path)


def test_pickled_npz_is_refused(tmp_path):
    _write(tmp_path, "6_cardio", X=np.array([[1, "a"]], dtype=object), y=np.array([0, 1]))
    with pytest.raises(DataError, match="pickle"):
        load_arrays("6_cardio", tmp_path)


@pytest.mark.parametrize(
    "X, y, msg",
    [
        (np.zeros((5, 2)), np.array([0, 1, 0, 0]), "5 rows but y has 4"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), np.array([0, 1]), "NaN or inf"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), np.array([0, 1]), "NaN or inf"),
        (np.zeros((3, 2)), np.array([0, 2, 1]), r"only 0 \(normal\) and 1"),
        (np.zeros((3, 2)), np.array([0, 0, 0]), "no anomalies"),
        (np.zeros(3), np.array([0, 1, 0]), "2-D"),
    ],
)
def test_malformed_arrays(tmp_path, X, y, msg):
    _write(tmp_path, "6_cardio", X=X, y=y)
    with pytest.raises(DataError, match=msg) as err:
        load_arrays("6_cardio", tmp_path)
    assert "6_cardio.npz" in str(err.value)


def test_missing_key(tmp_path):
    _write(tmp_path, "6_cardio", features=np.zeros((3, 2)), y=np.array([0, 1, 0]))
    with pytest.raises(DataError, match=r"missing array\(s\) \['X'\]"):
        load_arrays("6_cardio", tmp_path)


def test_dataset_card_reports_local_files_and_protocol(adbench_root):
    rows = {r["name"]: r for r in card_rows(adbench_root)}
    assert rows["6_cardio"]["present"] and rows["6_cardio"]["rows"] == 1831
    assert rows["39_vertebral"]["protocol"] == "duplicated to 1000"
    assert rows["22_magic.gamma"]["protocol"] == "subsampled to 10000"
    assert not rows["3_backdoor"]["present"] and rows["3_backdoor"]["source"] == "published"
