"""The grouped split (``protocol.split=grouped``): ADBench's resampling, but no source row on both sides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adbench_repro.aggregate.expected import config_hashes
from adbench_repro.datasets import adbench_generate, load_arrays, make_split
from adbench_repro.datasets.audit import share_seen_in_training
from adbench_repro.datasets.split import grouped_split

from conftest import REPO_ROOT

SMALL = ["4_breastw", "14_glass", "15_Hepatitis", "18_Ionosphere", "29_Pima", "37_Stamps", "39_vertebral",
         "42_WBC", "43_WDBC", "45_wine", "46_WPBC"]
COUNTS = ("n_train_split", "n_test", "n_train_anomalies", "n_labeled_total", "n_labeled")


@pytest.mark.parametrize("name", SMALL + ["21_Lymphography"])
@pytest.mark.parametrize("seed", [0, 1, 4])
def test_no_source_row_on_both_sides(adbench_root, name, seed):
    _, y = load_arrays(name, adbench_root)
    source = np.random.RandomState(seed).choice(np.arange(len(y)), 1000, replace=True)  # ADBench's resampling
    train, test = grouped_split(source, y[source], 0.3, np.random.RandomState(seed))
    assert not set(source[train]) & set(source[test])
    assert sorted(np.r_[train, test]) == list(range(1000))
    assert len(test) == 300


@pytest.mark.parametrize("name", SMALL)
@pytest.mark.parametrize("seed", [0, 2])
@pytest.mark.parametrize("keep", [0.1, 0.5, 1.0])
def test_sizes_and_labeled_counts_equal_adbench(adbench_root, name, seed, keep):
    X, y = load_arrays(name, adbench_root)
    a = make_split(X, y, seed, keep=keep)
    g = make_split(X, y, seed, keep=keep, split="grouped")
    assert {k: g.info[k] for k in COUNTS} == {k: a.info[k] for k in COUNTS}
    assert g.y_test.sum() == a.y_test.sum()
    assert g.info["duplicated"]


def test_lymphography_keeps_sizes_and_labeled_counts(adbench_root):
    """6 source anomalies with ~6 copies each cannot make up ADBench's anomaly test count exactly: the test
    size stays ADBench's, the anomaly count moves by the least possible, the labeled counts stay."""
    X, y = load_arrays("21_Lymphography", adbench_root)
    for seed in range(5):
        a, g = make_split(X, y, seed, keep=0.1), make_split(X, y, seed, keep=0.1, split="grouped")
        assert (g.info["n_train_split"], g.info["n_test"]) == (a.info["n_train_split"], a.info["n_test"])
        assert (g.info["n_labeled_total"], g.info["n_labeled"]) == (a.info["n_labeled_total"], a.info["n_labeled"])
        assert abs(g.info["n_train_anomalies"] - a.info["n_train_anomalies"]) <= 3


def test_grouped_removes_the_resampling_copies(adbench_root):
    """ADBench's split shows most test rows in training; the grouped split only the file's natural duplicates."""
    X, y = load_arrays("39_vertebral", adbench_root)  # no repeated row in the file
    a, g = make_split(X, y, 0, keep=1.0), make_split(X, y, 0, keep=1.0, split="grouped")
    seen = lambda s: share_seen_in_training(np.vstack([s.X_unlabeled, s.X_labeled]), s.X_test)  # noqa: E731
    assert seen(a) > 0.5
    assert seen(g) == 0.0


def test_grouped_equals_adbench_without_resampling(adbench_root):
    """Large datasets (and duplicate_small=false): every group is one row, the split is ADBench's."""
    X, y = load_arrays("6_cardio", adbench_root)
    a, g = make_split(X, y, 3, keep=0.5), make_split(X, y, 3, keep=0.5, split="grouped")
    np.testing.assert_array_equal(a.X_test, g.X_test)
    np.testing.assert_array_equal(a.X_unlabeled, g.X_unlabeled)
    np.testing.assert_array_equal(a.X_labeled, g.X_labeled)


def test_grouped_split_is_deterministic_and_seeded():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(900, int), np.ones(100, int)]
    source = np.r_[rng.integers(0, 300, 900), rng.integers(300, 340, 100)]
    one = grouped_split(source, y, 0.3, np.random.RandomState(5))
    two = grouped_split(source, y, 0.3, np.random.RandomState(5))
    other = grouped_split(source, y, 0.3, np.random.RandomState(6))
    np.testing.assert_array_equal(one[1], two[1])
    assert not np.array_equal(np.sort(one[1]), np.sort(other[1]))
    train, test = one
    assert len(test) == 300 and y[test].sum() == 30
    assert not set(source[train]) & set(source[test])


def test_unknown_split_is_refused(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="protocol.split"):
        make_split(X, y, 0, split="random")


def test_existing_configurations_keep_their_hash():
    """protocol.split=adbench (the default) is left out of the hash: committed runs are found as before."""
    from adbench_repro import store
    from adbench_repro.studies import expand, load_study

    for study, n in (("table1", 30), ("fig4", 10), ("table1_dedup", 10)):
        configs = expand(load_study(study))[:n]
        committed = set(store.read()["tags.config_hash"])
        hashes = config_hashes(configs)
        assert sum(h in committed for h in hashes) >= 0.8 * n  # fig4 shares some baselines with table1
        explicit = config_hashes(configs, extra_overrides=["protocol.split=adbench"])
        assert explicit == hashes
        grouped = config_hashes(configs, extra_overrides=["protocol.split=grouped"])
        assert not set(grouped) & set(hashes)
