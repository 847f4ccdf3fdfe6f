"""Label-free validation signals (adbench_repro/signals.py) and the selectors built on them
(adbench_repro/aggregate/selection.py): no test label is read, on real ADBench data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from adbench_repro import experiment as experiment_module
from adbench_repro.aggregate.selection import select
from adbench_repro.confighash import config_hash
from adbench_repro.datasets import load_arrays, make_split
from adbench_repro.signals import XGEN_GENERATORS, median_gamma, mmd_mixture, mmd_signal
from adbench_repro.studies import load_study

from helpers import compose_run_config

DATASET = "14_glass"
CANDIDATES = {"Baseline": "none", "NPOS": "npos", "RoSAS": "rosas", "Mixup": "mixup", "Cutout": "cutout",
              "CutMix": "cutmix", "GN": "gaussian_noise", "NNG-Mix": "nng_mix"}
SIGNALS = ["val_mmd", *(f"val_xgen_{g}" for g in XGEN_GENERATORS)]


def _cfg(tmp_path, adbench_root, augmenter: str, detector: str = "mlp", extra: tuple[str, ...] = ()):
    return compose_run_config([f"dataset={DATASET}", f"augmenter={augmenter}", f"detector={detector}", "seed=1",
                               "threads=1", *extra], f"sqlite:///{tmp_path}/mlflow.db", adbench_root)


def _permuting_split(monkeypatch):
    """Make every run's split carry its test labels in a fixed random order (the rows stay as they are)."""
    def make(*args, **kwargs):
        split = make_split(*args, **kwargs)
        perm = np.random.default_rng(7).permutation(len(split.y_test))
        return dataclasses.replace(split, y_test=split.y_test[perm])
    monkeypatch.setattr(experiment_module, "make_split", make)


@pytest.fixture(scope="module")
def candidate_runs(tmp_path_factory, adbench_root):
    """Every Table I candidate on one real dataset with MLP, with the true and with permuted test labels."""
    tmp = tmp_path_factory.mktemp("signals")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        for permuted in (False, True):
            if permuted:
                _permuting_split(mp)
            out[permuted] = {label: experiment_module.experiment(_cfg(tmp, adbench_root, aug)).metrics
                             for label, aug in CANDIDATES.items()}
    return out


def test_permuted_test_labels_leave_every_signal_identical(candidate_runs):
    true, perm = candidate_runs[False], candidate_runs[True]
    assert any(abs(true[c]["aucroc"] - perm[c]["aucroc"]) > 0.05 for c in CANDIDATES)  # the labels did move
    for c in CANDIDATES:
        assert [true[c][s] for s in SIGNALS] == [perm[c][s] for s in SIGNALS], c


def test_permuted_test_labels_leave_every_label_free_selection_identical(candidate_runs):
    study = load_study("selection")

    def picks(metrics):
        runs = pd.DataFrame([{"run_id": c, "metrics.aucroc": m["aucroc"], **{f"metrics.{s}": m[s] for s in SIGNALS}}
                             for c, m in metrics.items()])
        records = pd.DataFrame([{"row": "mlp", "column": c, "dataset": DATASET, "seed": 1, "value": m["aucroc"],
                                 "run_id": c, "config_hash": c} for c, m in metrics.items()])
        sel = select(study, records, runs)
        return dict(zip(sel["column"], sel["pick"])), dict(zip(sel["column"], sel["value"]))

    (p_true, v_true), (p_perm, v_perm) = picks(candidate_runs[False]), picks(candidate_runs[True])
    selectors = study.selection["selectors"]
    held_out = {s["label"] for s in selectors if any(g.startswith("val_ho_") for g in s["signals"])}
    assert held_out and held_out.isdisjoint(p_true)  # runs without held-out signals: those selectors are not shown
    honest = [s["label"] for s in selectors if s["label"] not in held_out] + ["Baseline", "Default"]
    assert {k: p_true[k] for k in honest} == {k: p_perm[k] for k in honest}
    assert p_true["Oracle"] == max(CANDIDATES, key=lambda c: candidate_runs[False][c]["aucroc"])
    assert v_true["Oracle"] >= max(v_true[k] for k in honest)  # the oracle bounds every honest pick


def test_signals_are_outputs_and_can_be_switched_off(tmp_path, adbench_root):
    on = _cfg(tmp_path, adbench_root, "nng_mix")
    off = _cfg(tmp_path, adbench_root, "nng_mix", extra=("validation.signals=false",))
    assert config_hash(on) == config_hash(off)
    m_off = experiment_module.experiment(off).metrics
    m_on = experiment_module.experiment(on).metrics
    assert not any(k.startswith("val_") for k in m_off)
    assert m_on["aucroc"] == m_off["aucroc"]  # computing them changes nothing the run measures
    assert 0.0 <= m_on["val_xgen_uniform"] <= 1.0 and m_on["val_mmd"] >= 0.0


def test_mmd_is_small_between_train_and_test_and_grows_with_off_distribution_points(adbench_root):
    X, y = load_arrays("6_cardio", str(adbench_root))
    split = make_split(X, y, seed=0, la=0.01, keep=1.0, test_size=0.3, duplicate_small=True, drop_unkept=True,
                       pollution=1.0)
    rng = np.random.default_rng(0)
    none = mmd_signal(split.X_unlabeled, split.X_labeled, np.empty((0, X.shape[1])), split.X_test, seed=0)
    near = split.X_unlabeled[rng.choice(len(split.X_unlabeled), 300)]
    far = rng.random((300, X.shape[1]))  # uniform in the unit box: nothing like the rows
    assert none < mmd_signal(split.X_unlabeled, split.X_labeled, near, split.X_test, seed=0) + 1e-3
    assert mmd_signal(split.X_unlabeled, split.X_labeled, far, split.X_test, seed=0) > 5 * max(none, 1e-4)
    base = split.X_unlabeled[:200]
    g = median_gamma(base)
    assert mmd_mixture(base, far[:50], 0.0, base, g) == pytest.approx(0.0, abs=1e-12)


def test_a_tie_goes_to_the_first_candidate_and_a_missing_signal_abstains():
    study = load_study("selection")
    cols = [c.label for c in study.columns]
    records = pd.DataFrame([{"row": "mlp", "column": c, "dataset": "d", "seed": 0, "value": 0.5 + i / 100,
                             "run_id": c, "config_hash": c} for i, c in enumerate(cols)])
    runs = pd.DataFrame([{"run_id": c, "metrics.val_mmd": 0.1, "metrics.val_xgen_uniform": 0.9,
                          "metrics.val_xgen_cutmix_gn": np.nan if c == "GN" else 0.8} for c in cols])
    sel = select(study, records, runs).set_index("column")
    assert sel.at["MMD", "pick"] == "Baseline" and sel.at["XGen-uniform", "pick"] == "Baseline"
    assert "XGen-CutMixGN" not in sel.index and "XGen-both" not in sel.index
    assert sel.at["Oracle", "pick"] == cols[-1]
    assert sel.at["MMD", "n_tied"] == len(cols) and sel.at["Default", "n_tied"] == 1  # the tie is counted
    assert select(study, records[records["column"] != "GN"], runs).empty  # incomplete candidate set: no picks


def test_the_oracle_picks_on_seed_means_and_the_per_seed_maximum_is_labelled_noise_inflated():
    """Two candidates, two seeds: A is best on average (0.80, 0.80), B wins seed 1 by noise (0.65, 0.90). The
    Oracle picks A on both seeds (0.80); the per-seed maximum (0.80, 0.90) is reported apart, noise-inflated."""
    from adbench_repro.aggregate.selection import ORACLE_PER_SEED, oracle_picks

    study = load_study("selection")
    cols = [c.label for c in study.columns]
    vals = {0: {c: 0.5 for c in cols}, 1: {c: 0.5 for c in cols}}
    vals[0]["NNG-Mix"], vals[1]["NNG-Mix"] = 0.80, 0.80
    vals[0]["CutMix"], vals[1]["CutMix"] = 0.65, 0.90
    records = pd.DataFrame([{"row": "mlp", "column": c, "dataset": "d", "seed": s, "value": v, "run_id": f"{s}{c}",
                             "config_hash": f"{s}{c}"} for s, row in vals.items() for c, v in row.items()])
    assert oracle_picks(records, cols) == {("mlp", "d"): "NNG-Mix"}
    sel = select(study, records, pd.DataFrame({"run_id": records["run_id"]}))
    oracle = sel[sel["column"] == "Oracle"].set_index("seed")
    assert list(oracle["pick"]) == ["NNG-Mix", "NNG-Mix"] and list(oracle["value"]) == [0.80, 0.80]
    inflated = sel[sel["column"] == ORACLE_PER_SEED].set_index("seed")
    assert list(inflated["value"]) == [0.80, 0.90] and inflated["value"].mean() > oracle["value"].mean()


def test_lodo_picks_the_best_candidate_of_the_other_datasets_and_never_reads_its_own():
    study = load_study("selection")
    cols = [c.label for c in study.columns]
    rng = np.random.default_rng(3)
    base = {(d, s): rng.uniform(0.4, 0.6, len(cols)) for d in ("a", "b", "c") for s in (0, 1)}
    base[("b", 0)][cols.index("CutMix")] += 0.3  # CutMix is best on b and c, NNG-Mix on a
    base[("b", 1)][cols.index("CutMix")] += 0.3
    base[("c", 0)][cols.index("CutMix")] += 0.3
    base[("c", 1)][cols.index("CutMix")] += 0.3
    base[("a", 0)][cols.index("NNG-Mix")] += 0.5
    base[("a", 1)][cols.index("NNG-Mix")] += 0.5

    def lodo(values):
        records = pd.DataFrame([{"row": "mlp", "column": c, "dataset": d, "seed": s, "value": v[i],
                                 "run_id": f"{d}{s}{c}", "config_hash": f"{d}{s}{c}"}
                                for (d, s), v in values.items() for i, c in enumerate(cols)])
        runs = pd.DataFrame({"run_id": records["run_id"]})
        sel = select(study, records, runs)
        sel = sel[sel["column"] == "LODO"]
        return {(d, s): p for d, s, p in zip(sel["dataset"], sel["seed"], sel["pick"])}

    picks = lodo(base)
    assert picks[("a", 0)] == picks[("a", 1)] == "CutMix"  # a's own NNG-Mix lead is not read
    # b's pick: the best mean over its other datasets a and c, recomputed here
    scores = {c: np.mean([base[(d, s)][cols.index(c)] for d in ("a", "c") for s in (0, 1)]) for c in cols}
    assert picks[("b", 0)] == max(cols, key=lambda c: (scores[c], -cols.index(c)))
    # changing a's values cannot move a's pick; changing the others' can
    moved = {k: v.copy() for k, v in base.items()}
    moved[("a", 0)][:] = moved[("a", 1)][:] = 0.0
    assert lodo(moved)[("a", 0)] == "CutMix"
    for k in [("b", 0), ("b", 1), ("c", 0), ("c", 1)]:
        moved[k][cols.index("RoSAS")] = 2.0
    assert lodo(moved)[("a", 0)] == "RoSAS"
