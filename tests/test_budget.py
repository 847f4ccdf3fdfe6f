"""Pseudo-anomaly budgets as a share of the training rows (``budget.fraction_of_train``, adbench_repro/budget.py):
the count on real data, the config hashes (earlier configurations keep theirs; the budgets study reuses Table I's
and table1_uniform's runs) and the checks of the setting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adbench_repro import store
from adbench_repro.aggregate.expected import expected_configs
from adbench_repro.api import compose_config, evaluate
from adbench_repro.budget import count_from_fraction
from adbench_repro.confighash import config_hash, result_config
from adbench_repro.datasets import load_arrays, make_split
from adbench_repro.studies import expand, load_study
from adbench_repro.validate import ConfigError


@pytest.mark.parametrize("fraction", [0.1, 0.5])
def test_count_is_the_fraction_of_the_training_rows_on_real_data(adbench_root, fraction):
    # 45_wine: 129 rows resampled to 1000, 1 % labels (la 0.1, keep 0.1), 1 kept labeled anomaly
    X, y = load_arrays("45_wine", str(adbench_root))
    s = make_split(X, y, seed=1, la=0.1, keep=0.1)
    n_train = len(s.X_unlabeled) + len(s.X_labeled)  # the rows the detector trains on before augmentation
    want = math.floor(fraction * n_train + 0.5)
    res = evaluate("45_wine", "uniform", "rf", seed=1, overrides=[f"budget.fraction_of_train={fraction}"])
    assert res.metrics["n_generated"] == want
    assert res.metrics["n_train"] == n_train + want
    assert res.metrics["n_labeled"] == len(s.X_labeled) == 1  # 10x the labeled count would have been 10
    assert want > 10 * len(s.X_labeled)


def test_rounding_is_half_up():
    assert count_from_fraction(0.1, 705) == 71 and count_from_fraction(0.1, 704) == 70  # 70.5 -> 71, not 70
    assert count_from_fraction(0.5, 7) == 4 and count_from_fraction(0.5, 700) == 350


def test_earlier_configurations_keep_their_hash():
    cfg = compose_config("45_wine", "uniform", "catboost", seed=2)
    assert "budget" not in result_config(cfg)  # null budget: not in the hashed config
    row = store.read()
    row = row[row["tags.config_hash"] == config_hash(cfg)]
    assert len(row) == 1  # table1_uniform's committed run is found by the hash composed today


def test_budget_hashes():
    base = config_hash(compose_config("45_wine", "nng_mix", "mlp"))
    b10 = config_hash(compose_config("45_wine", "nng_mix", "mlp", overrides=["budget.fraction_of_train=0.1"]))
    b50 = config_hash(compose_config("45_wine", "nng_mix", "mlp", overrides=["budget.fraction_of_train=0.5"]))
    b10_m0 = config_hash(compose_config("45_wine", "nng_mix", "mlp", multiplier=0,
                                        overrides=["budget.fraction_of_train=0.1"]))
    assert len({base, b10, b50}) == 3
    assert b10 == b10_m0  # the multiplier is ignored (hashed as 0) under a training-row budget
    cfg = compose_config("45_wine", "nng_mix", "mlp", overrides=["budget.fraction_of_train=0.1"])
    assert result_config(cfg)["budget"] == {"fraction_of_train": 0.1} and result_config(cfg)["multiplier"] == 0
    # the Baseline generates nothing: the budget cannot matter and one run serves every budget
    none = config_hash(compose_config("45_wine", "none", "mlp"))
    assert none == config_hash(compose_config("45_wine", "none", "mlp", overrides=["budget.fraction_of_train=0.5"]))


def test_a_stored_budget_run_is_recomposed_with_its_budget():
    cfg = compose_config("45_wine", "uniform", "mlp", overrides=["budget.fraction_of_train=0.5"])
    config = result_config(cfg)
    assert config_hash(store.run_config(config, "data/adbench")) == config_hash(cfg)


@pytest.mark.parametrize("value", ["0", "1.5", "-0.1", "abc"])
def test_bad_fraction_is_one_line(value):
    with pytest.raises(ConfigError, match=r"budget\.fraction_of_train=.* must be null .* \(0, 1\]") as err:
        compose_config("45_wine", "uniform", "mlp", overrides=[f"budget.fraction_of_train={value}"])
    assert "\n" not in str(err.value)


def test_budgets_study_reuses_table1_uniform_and_fills_every_column():
    study = load_study("budgets")
    configs = expand(study)
    labels = [c.label for c in study.columns]
    assert len(configs) == len(study.datasets) * 4 * 3 * len(labels)  # 4 detectors, seeds 0-2, 7 columns
    assert all(len(study.column_for(c)) == 1 for c in configs)  # every configuration lands in one column
    keep = lambda c: c["dataset"] in ("45_wine", "6_cardio")  # noqa: E731
    mine = expected_configs(study, keep=keep)
    theirs = {**expected_configs(load_study("table1_uniform"), keep=keep),
              **expected_configs(load_study("table1"), keep=keep)}
    by_column: dict[str, set] = {}
    for h, cs in mine.items():
        for c in cs:
            label = study.column_for(c)[0].label
            by_column.setdefault(label, set()).add(h)
    assert sorted(by_column) == sorted(labels)
    assert all(len(hs) == 2 * 4 * 3 for hs in by_column.values())  # 2 datasets x 4 detectors x 3 seeds
    reused = by_column["Baseline"] | by_column["Uniform 10x"] | by_column["NNG-Mix 10x"]
    assert reused <= set(theirs)  # the 10x columns and the Baseline are table1_uniform's / Table I's hashes
    assert reused <= set(store.read()["tags.config_hash"])  # and their runs are committed
    new = set(mine) - reused
    assert len(new) == 4 * 2 * 4 * 3 and not new & set(theirs)  # 4 budget columns: new configurations


def test_budget_estimate_grows_with_the_training_rows():
    from adbench_repro.reproduce import budget_factor

    assert budget_factor({"augmenter": "uniform", "budget.fraction_of_train": 0.5}) == 1.5
    assert budget_factor({"augmenter": "uniform", "multiplier": 10}) == 1.0
    assert budget_factor({"augmenter": "none", "budget.fraction_of_train": 0.5}) == 1.0
    assert np.isclose(budget_factor({"augmenter": "nng_mix", "budget.fraction_of_train": 0.1}), 1.1)
