"""Held-out validation signals (adbench_repro/holdout.py, ``validation.holdout``): rows the second detector never
saw, the main fit untouched, an output switch outside the config hash; on real ADBench data."""

from __future__ import annotations

import numpy as np
import pytest

from adbench_repro import holdout
from adbench_repro.confighash import config_hash
from adbench_repro.experiment import experiment
from adbench_repro.validate import ConfigError, check_config, check_value

from helpers import compose_run_config

HELD_OUT = ["val_ho_mmd", "val_ho_xgen_uniform", "val_ho_xgen_cutmix_gn"]


def _cfg(tmp_path, adbench_root, *extra, dataset="14_glass", detector="rf", label_ratio="10pct"):
    return compose_run_config([f"dataset={dataset}", "augmenter=nng_mix", f"detector={detector}", "seed=1",
                               f"label_ratio={label_ratio}", "threads=1", "detector.n_estimators=20", *extra],
                              f"sqlite:///{tmp_path}/mlflow.db", adbench_root)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, adbench_root):
    """One configuration (14_glass, 10 % labels, NNG-Mix, a small random forest) without, and twice with, a 0.2
    holdout; the second fit's training set of the holdout runs is recorded."""
    from adbench_repro.detectors.random_forest import RandomForestDetector

    tmp = tmp_path_factory.mktemp("holdout")
    fits = []
    original = RandomForestDetector.fit

    def recording_fit(self, X, y):
        fits.append((np.array(X, copy=True), np.array(y, copy=True)))
        return original(self, X, y)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(RandomForestDetector, "fit", recording_fit)
        off = experiment(_cfg(tmp, adbench_root)).metrics
        n_off = len(fits)
        on = experiment(_cfg(tmp, adbench_root, "validation.holdout=0.2")).metrics
        on_fits = fits[n_off:]
        again = experiment(_cfg(tmp, adbench_root, "validation.holdout=0.2")).metrics
    return {"off": off, "on": on, "again": again, "n_off_fits": n_off, "on_fits": on_fits}


def test_the_holdout_is_an_output_switch_outside_the_config_hash(tmp_path, adbench_root):
    off = _cfg(tmp_path, adbench_root)
    on = _cfg(tmp_path, adbench_root, "validation.holdout=0.2")
    assert config_hash(on) == config_hash(off)
    assert config_hash(_cfg(tmp_path, adbench_root, "validation.holdout=0.5")) == config_hash(off)


def test_held_out_signals_are_logged_only_with_a_holdout_and_the_main_fit_is_bit_identical(runs):
    off, on = runs["off"], runs["on"]
    assert not any(k.startswith(("val_ho_", "holdout_")) for k in off)
    assert set(HELD_OUT) <= set(on) and on["holdout_fraction"] == 0.2
    for k, v in off.items():  # every metric of the run without holdout, to the bit (timings aside)
        if not k.endswith("_s"):
            assert on[k] == v, k
    assert 0.0 <= on["val_ho_xgen_uniform"] <= 1.0 and on["val_ho_mmd"] >= 0.0
    # the held-out signals are other numbers than the in-sample ones (other negatives, another fit)
    assert on["val_ho_xgen_cutmix_gn"] != on["val_xgen_cutmix_gn"] or on["val_ho_mmd"] != on["val_mmd"]
    assert runs["n_off_fits"] == 1 and len(runs["on_fits"]) == 2  # one more fit per run


def test_the_same_seed_gives_the_same_held_out_signals(runs):
    on, again = runs["on"], runs["again"]
    assert {k: on[k] for k in on if not k.endswith("_s")} == {k: again[k] for k in again if not k.endswith("_s")}


def test_the_second_fit_never_sees_a_held_out_row(runs, adbench_root):
    """The second fit's training set is the rows left, their labels and their pseudo-anomalies; no held-out row,
    nor a copy of one (14_glass is resampled to 1000 rows: copies of a row abound), is among them."""
    from adbench_repro.datasets import load_arrays, make_split

    X, y = load_arrays("14_glass", str(adbench_root))
    split = make_split(X, y, seed=1, la=0.1, keep=1.0, test_size=0.3, duplicate_small=True, drop_unkept=True,
                       pollution=1.0)
    held_u, held_a = holdout.draw(split.X_unlabeled, split.X_labeled, 0.2, 1)
    (X_main, _), (X_second, y_second) = runs["on_fits"]
    n_u, n_a = int((~held_u).sum()), int((~held_a).sum())
    assert runs["on"]["holdout_unlabeled"] == held_u.sum() and runs["on"]["holdout_anomalies"] == held_a.sum()
    assert np.array_equal(X_second[:n_u], split.X_unlabeled[~held_u])
    assert np.array_equal(X_second[n_u:n_u + n_a], split.X_labeled[~held_a])
    assert (y_second[:n_u] == 0).all() and (y_second[n_u:] == 1).all()
    assert len(X_second) - n_u - n_a == 10 * n_a  # the generator on the labeled anomalies left (multiplier 10)
    held = np.vstack([split.X_unlabeled[held_u], split.X_labeled[held_a]])
    fitted = {r.tobytes() for r in np.vstack([split.X_unlabeled[~held_u], split.X_labeled[~held_a]])}
    assert not any(r.tobytes() in fitted for r in held)
    assert len(X_main) > len(X_second)


def test_the_draw_is_stratified_grouped_and_seeded():
    rng = np.random.default_rng(0)
    unlabeled = rng.random((400, 3))
    unlabeled[200:300] = unlabeled[100:200]  # 100 rows present twice
    labeled = rng.random((5, 3))
    held_u, held_a = holdout.draw(unlabeled, labeled, 0.2, seed=3)
    assert held_a.sum() == 1  # nearest(0.2 x 5)
    assert 80 <= held_u.sum() <= 81  # nearest(0.2 x 400), a pair of copies may tip it over by one
    assert np.array_equal(held_u[100:200], held_u[200:300])  # copies go to one side together
    again = holdout.draw(unlabeled, labeled, 0.2, seed=3)
    other = holdout.draw(unlabeled, labeled, 0.2, seed=4)
    assert np.array_equal(again[0], held_u) and not np.array_equal(other[0], held_u)
    # one labeled anomaly: it stays in the fit (the generator and the detector need one)
    assert holdout.draw(unlabeled, labeled[:1], 0.2, seed=3)[1].sum() == 0
    # a labeled anomaly with an unlabeled copy: the copy is held out only with it
    unlabeled[0] = labeled[0]
    for seed in range(20):
        hu, ha = holdout.draw(unlabeled, labeled, 0.2, seed=seed)
        assert hu[0] == ha[0]


def test_a_bad_holdout_is_refused_in_one_line(tmp_path, adbench_root):
    for bad in (1.0, -0.1, "x", True):
        assert "validation.holdout" in check_value("validation.holdout", bad)
    assert check_value("validation.holdout", 0) is None and check_value("validation.holdout", 0.2) is None
    with pytest.raises(ConfigError, match=r"validation.holdout=1.5 must be a number in \[0, 1\)"):
        check_config(_cfg(tmp_path, adbench_root, "validation.holdout=1.5"))


def test_a_request_for_held_out_signals_reruns_a_finished_run_without_them_once(tmp_path, adbench_root):
    """The lease: a FINISHED run without held-out signals does not hold a configuration for a request with
    ``validation.holdout=0.2`` (same config hash); the rerun does, for that request and for a plain one."""
    from adbench_repro import lease, plan, tracking
    from adbench_repro.run import run_experiment

    store = f"sqlite:///{tmp_path}/mlflow.db"
    plain = compose_run_config(["dataset=14_glass", "augmenter=nng_mix", "detector=rf", "detector.n_estimators=20",
                                "seed=0", "threads=1"], store, adbench_root)
    first = run_experiment(plain)
    held = compose_run_config(["dataset=14_glass", "augmenter=nng_mix", "detector=rf", "detector.n_estimators=20",
                               "seed=0", "threads=1", "validation.holdout=0.2"], store, adbench_root)
    client, exp = tracking.open_experiment(held.mlflow)
    planned = plan.compose([["dataset=14_glass", "augmenter=nng_mix", "detector=rf", "detector.n_estimators=20",
                             "seed=0", "threads=1"]])
    need = {"validation.holdout": "0.2"}
    assert lease.done(client, exp, planned) == {planned[0].config_hash}
    assert lease.done(client, exp, planned, need) == set()
    rerun = run_experiment(held)
    assert rerun["status"] == "finished" and rerun["aucroc"] == first["aucroc"]  # the same result, to the bit
    run = client.get_run(rerun["run_id"])
    assert run.data.tags["validation.holdout"] == "0.2" and "val_ho_mmd" in run.data.metrics
    assert lease.done(client, exp, planned, need) == {planned[0].config_hash}
    assert run_experiment(held)["status"] == "skipped" and run_experiment(plain)["status"] == "skipped"


def test_the_dry_run_plans_the_runs_that_lack_held_out_signals(tmp_path, monkeypatch, adbench_root, capsys):
    """Committed runs without held-out signals are done for a plain request and to run for one with
    ``validation.holdout=0.2``; a committed run with them (metric holdout_fraction 0.2) is done for both."""
    from adbench_repro import reproduce, store
    from adbench_repro.aggregate.expected import config_hashes

    rows = store.read()
    configs = reproduce.studies.expand(reproduce.studies.load_study("table1"), quick=True, datasets=["45_wine"],
                                       detectors=["mlp"], seeds=[0])
    mine = rows[rows["tags.config_hash"].isin(set(config_hashes(configs)))].drop(columns=["source"]).copy()
    assert len(mine) == 8
    mine["metrics.holdout_fraction"] = float("nan")
    mine.loc[mine.index[:3], "metrics.holdout_fraction"] = 0.2
    store.write(mine, tmp_path / "store")
    monkeypatch.setattr(store, "STORE_DIR", tmp_path / "store")
    args = ["table1", "--quick", "--datasets", "45_wine", "--detectors", "mlp", "--seeds", "0", "--dry-run",
            f"data.root={adbench_root}", f"mlflow.tracking_uri=sqlite:///{tmp_path}/m.db"]
    assert reproduce.main(args) == 0
    plain = capsys.readouterr().out
    assert "8 runs: 8 in the committed store" in plain and "0 to run" in plain and "held-out" not in plain
    assert reproduce.main([*args, "validation.holdout=0.2"]) == 0
    held = capsys.readouterr().out
    assert "8 runs: 3 in the committed store" in held and "5 to run" in held
    assert "5 done run(s) without them are rerun" in held
    assert reproduce.main([*args, "validation.holdout=0.1"]) == 0  # another fraction: none has it
    assert "8 runs: 0 in the committed store" in capsys.readouterr().out


def test_the_store_takes_a_rerun_with_more_validation_outputs_and_keeps_one_with_fewer(tmp_path):
    from adbench_repro import store

    rows = store.read()
    one = rows[rows["tags.detector"] == "mlp"].drop(columns=["source"]).head(2).copy()
    store.write(one, tmp_path)
    rerun = one.copy()
    rerun["run_id"] = ["new0", "new1"]
    rerun["metrics.val_ho_mmd"] = [0.01, 0.02]
    rerun["metrics.holdout_fraction"] = [0.2, 0.2]
    assert store.add(rerun, tmp_path) == {"added": 0, "replaced": 2, "kept": 0}
    assert set(store.read(tmp_path)["run_id"]) == {"new0", "new1"}
    assert store.add(one, tmp_path) == {"added": 0, "replaced": 0, "kept": 2}  # fewer outputs: the stored one stays
    assert set(store.read(tmp_path)["run_id"]) == {"new0", "new1"}
