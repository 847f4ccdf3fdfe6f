"""The fully grouped split (``protocol.split=grouped_identical``): every set of identical rows on one side of the
split, the resampling's copies and the files' natural duplicates alike, label-conflicting ones included."""

from __future__ import annotations

import numpy as np
import pytest

from adbench_repro.aggregate.expected import config_hashes
from adbench_repro.datasets import load_arrays, make_split
from adbench_repro.datasets.split import first_identical_row, grouped_split, identical_groups

SIZES = ("n_train_split", "n_test", "n_train_anomalies", "n_labeled_total", "n_labeled")


def _keys(X: np.ndarray) -> set[bytes]:
    return {np.ascontiguousarray(r, dtype=np.float64).tobytes() for r in X}


def _train_rows(s) -> np.ndarray:
    return np.vstack([s.X_unlabeled, s.X_labeled])


@pytest.mark.parametrize("name", ["4_breastw", "45_wine", "14_glass", "6_cardio", "23_mammography"])
@pytest.mark.parametrize("seed", [0, 3])
def test_no_test_row_has_an_identical_training_row(adbench_root, name, seed):
    X, y = load_arrays(name, adbench_root)
    # keep=1, drop_unkept=false: every row of the 70 % training split is in the detector's rows
    s = make_split(X, y, seed, keep=1.0, drop_unkept=False, split="grouped_identical")
    assert not _keys(s.X_test) & _keys(_train_rows(s))
    a = make_split(X, y, seed, keep=1.0, drop_unkept=False)
    if name in ("4_breastw", "45_wine", "14_glass"):  # resampled: ADBench's split shows most test rows in training
        assert len(_keys(a.X_test) & _keys(_train_rows(a))) > 0.3 * len(_keys(a.X_test))


@pytest.mark.parametrize("name", ["4_breastw", "45_wine", "29_Pima", "23_mammography", "6_cardio"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sizes_and_labeled_counts_equal_adbench(adbench_root, name, seed):
    """Train/test sizes, test anomalies and labeled counts are ADBench's (on these files the identical rows allow
    it; 23_mammography has one value of 3,329 rows labeled both ways, which stays whole in training)."""
    X, y = load_arrays(name, adbench_root)
    a = make_split(X, y, seed, keep=0.1)
    g = make_split(X, y, seed, keep=0.1, split="grouped_identical")
    assert {k: g.info[k] for k in SIZES} == {k: a.info[k] for k in SIZES}
    assert g.y_test.sum() == a.y_test.sum()


def test_http_cannot_keep_its_test_anomalies(adbench_root):
    """16_http: 49 of the 50 anomalies of its 10,000-row subsample (seed 0) are one value; that group goes to one
    side whole, so the test side gets the nearest reachable anomaly count. The test size stays ADBench's."""
    X, y = load_arrays("16_http", adbench_root)
    a = make_split(X, y, 0, keep=0.1)
    g = make_split(X, y, 0, keep=0.1, split="grouped_identical")
    assert g.info["n_test"] == a.info["n_test"] == 3000
    assert a.y_test.sum() == 15 and g.y_test.sum() == 1
    assert not _keys(g.X_test) & _keys(_train_rows(g))


def test_a_test_split_without_anomalies_fails_the_run(adbench_root):
    """16_http at seed 3: the grouping leaves no anomaly on the test side, so AUCROC is undefined; the run fails
    with a sentence naming the dataset, seed and split before any fit, never a FINISHED run without aucroc."""
    from adbench_repro.api import evaluate

    X, y = load_arrays("16_http", adbench_root)
    assert make_split(X, y, 3, keep=0.1, split="grouped_identical").y_test.sum() == 0
    with pytest.raises(Exception, match=r"16_http, seed 3, protocol.split=grouped_identical: the test split holds "
                                        r"only normal rows \(3000 rows\), so AUCROC is undefined"):
        evaluate("16_http", "none", "rf", seed=3, overrides=["protocol.split=grouped_identical"])


def test_equals_adbench_or_grouped_when_the_file_repeats_no_row(adbench_root):
    X, y = load_arrays("12_fault", adbench_root)  # 1,941 rows, none repeated, not resampled: ADBench's split
    assert identical_groups(first_identical_row(X), y)["n_identical_groups"] == 0
    a, g = make_split(X, y, 2, keep=0.5), make_split(X, y, 2, keep=0.5, split="grouped_identical")
    for part in ("X_test", "X_unlabeled", "X_labeled", "y_test"):
        np.testing.assert_array_equal(getattr(a, part), getattr(g, part))
    X, y = load_arrays("45_wine", adbench_root)  # resampled, no repeated row in the file: the grouped split
    a, g = make_split(X, y, 1, split="grouped"), make_split(X, y, 1, split="grouped_identical")
    for part in ("X_test", "X_unlabeled", "X_labeled", "y_test"):
        np.testing.assert_array_equal(getattr(a, part), getattr(g, part))


def test_label_conflicting_groups_go_to_one_side_and_are_counted():
    rng = np.random.default_rng(4)
    X = np.round(rng.uniform(size=(2000, 2)), 1)  # 121 values: every value repeated many times
    y = (rng.uniform(size=2000) < 0.1).astype(np.int64)
    first = first_identical_row(X)
    # expected counts, computed here by brute force
    values = {}
    for i, row in enumerate(map(tuple, X)):
        values.setdefault(row, []).append(i)
    repeated = [ix for ix in values.values() if len(ix) > 1]
    mixed = [ix for ix in repeated if len(set(y[ix])) == 2]
    assert identical_groups(first, y) == {"n_identical_groups": len(repeated),
                                          "n_identical_rows": sum(map(len, repeated)),
                                          "n_conflict_groups": len(mixed), "n_conflict_rows": sum(map(len, mixed))}
    assert mixed  # the fixture has label conflicts
    train, test = grouped_split(first, y, 0.3, np.random.RandomState(0))
    assert not set(first[train]) & set(first[test])
    assert len(test) == 600 and sorted(np.r_[train, test]) == list(range(2000))
    s = make_split(X, y, 0, split="grouped_identical")
    assert s.info["n_conflict_groups"] == len(mixed) and s.info["n_test"] == 600
    assert not _keys(s.X_test) & _keys(_train_rows(s))


def test_grouped_split_behaves_as_committed():
    """The placement of label-conflicting groups draws nothing when there are none (always so under
    ``grouped``: copies share their source's label), so the grouped split's fingerprint is still the one its
    committed runs carry."""
    import json

    from adbench_repro import store
    from adbench_repro.fingerprint import fingerprints

    runs = store.read()
    grouped = runs[runs["tags.protocol.split"] == "grouped"].head(3)
    assert len(grouped)
    for cfg, fp in zip(grouped["config"], grouped["tags.fp.split"]):
        assert fingerprints(json.loads(cfg))["split"] == fp


def test_logged_counts_and_fingerprint(adbench_root):
    from adbench_repro.api import compose_config, evaluate
    from adbench_repro.confighash import result_config
    from adbench_repro.fingerprint import fingerprints

    res = evaluate("23_mammography", "none", "rf", overrides=["protocol.split=grouped_identical"])
    X, y = load_arrays("23_mammography", adbench_root)
    s = make_split(X, y, 0, la=0.1, keep=0.1, split="grouped_identical")
    assert res.metrics["split_conflict_groups"] == s.info["n_conflict_groups"] >= 1
    assert res.metrics["split_conflict_rows"] == s.info["n_conflict_rows"]
    fp = lambda split: fingerprints(result_config(compose_config("45_wine", "none", "mlp", overrides=[  # noqa: E731
        f"protocol.split={split}"])))["split"]
    assert len({fp("adbench"), fp("grouped"), fp("grouped_identical")}) == 3


def test_hashes_of_earlier_splits_do_not_move():
    from adbench_repro import store
    from adbench_repro.studies import expand, load_study

    committed = set(store.read()["tags.config_hash"])
    assert all(h in committed for h in config_hashes(expand(load_study("table1_grouped"))[:20]))  # found as before
    configs = [c for c in expand(load_study("table1")) if c["detector"] == "deepsad" and c["dataset"] == "6_cardio"][:20]
    adbench = config_hashes(configs)
    assert all(h in committed for h in adbench)
    full = config_hashes(configs, extra_overrides=["protocol.split=grouped_identical"])
    assert len(set(full)) == 20 and not set(full) & set(adbench)  # the fully grouped split: other configurations
