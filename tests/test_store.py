"""The committed store is one truth: one result per config hash, every run from committed (or verified) code,
every run current (its components' fingerprints match today's code), and a sample reproduces exactly."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from adbench_repro import fingerprint, store
from adbench_repro.confighash import hash_of
from adbench_repro.experiment import experiment


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    runs = store.read()
    assert len(runs) > 10_000, f"the committed store {store.STORE_DIR} is missing or nearly empty"
    return runs


def test_one_result_per_config_hash_and_every_run_accounted_for(committed):
    """No config hash twice, every ``config`` hashes to its hash, no run from uncommitted code without a
    recorded verification, every run with fingerprints."""
    assert store.check(committed) == []


def test_verified_groups_are_recorded(committed):
    verified = set(committed["tags.verified_commit"].dropna())
    records = pd.read_csv(store.STORE_DIR / store.VERIFIED_FILE, dtype=str)
    assert verified <= set(records["verified_commit"].dropna())
    dirty = committed[committed["tags.git_commit"].str.endswith("-dirty")]
    assert set(dirty["tags.git_commit"]) <= set(records["group"])


def test_committed_runs_are_current(committed):
    """A change of a component's behaviour (detector, augmenter, split protocol) makes its committed runs stale:
    this fails until they are rerun (`make reproduce-<study>` reruns exactly the stale ones)."""
    stale = store.stale(committed)
    assert stale.empty, (f"{store.stale_summary(stale)} committed runs were made by code that behaves otherwise "
                         f"today, e.g. {stale[['tags.detector', 'tags.augmenter', 'stale']].drop_duplicates().head(5).to_dict('records')}; "
                         "rerun them (python -m adbench_repro.reproduce <study>) and commit results/store/")


def sample(committed: pd.DataFrame, per: list[str], k: int) -> pd.DataFrame:
    """``k`` runs of each group of ``per``, the cheapest first (fewest training rows), fixed."""
    runs = committed.assign(n=pd.to_numeric(committed["metrics.n_train"]))
    return runs.sort_values(["n", "tags.config_hash"]).groupby(per, sort=True).head(k)


def check_reproduce(rows: pd.DataFrame, adbench_root) -> None:
    """Each run again, from its ``config``, must give its AUCROC to the bit. A torch detector's result also
    depends on its thread count (the order of BLAS reductions), which is not part of the config: the run's
    own count where the store has it, else 1 (every sweep here: one thread per worker) or 2 (a single run on
    this 2-core machine)."""
    for row in rows.to_dict("records"):
        known = row.get("metrics.threads")
        tried = {}
        for threads in [int(known)] if known == known and known is not None else [1, 2]:
            tried[threads] = experiment(store.run_config(row["config"], str(adbench_root), threads=threads)).aucroc
            if tried[threads] == float(row["metrics.aucroc"]):
                break
        else:
            raise AssertionError(f"{row['tags.config_hash']} ({row['tags.dataset']} {row['tags.augmenter']} "
                                 f"{row['tags.detector']} seed {row['tags.seed']}): rerun {tried} (by threads) vs "
                                 f"committed {row['metrics.aucroc']!r}")


def test_a_sample_reproduces_exactly_at_head(committed, adbench_root):
    """One cheap run per detector and split protocol, recomposed from the store alone, gives the committed
    AUCROC to the bit."""
    check_reproduce(sample(committed, ["tags.detector", "tags.protocol.split"], 1), adbench_root)


@pytest.mark.slow
def test_a_larger_sample_reproduces_exactly_at_head(committed, adbench_root):
    """Three runs per detector, augmenter and split protocol."""
    check_reproduce(sample(committed, ["tags.detector", "tags.augmenter", "tags.protocol.split"], 3), adbench_root)


def test_fingerprints_follow_behaviour_not_code(monkeypatch):
    """The detector's fingerprint changes with its behaviour (a depth-1 CatBoost), not with its code text."""
    from adbench_repro.detectors.catboost import CatBoostDetector

    node = {"_target_": "adbench_repro.detectors.catboost.CatBoostDetector", "iterations": 50, "learning_rate": None,
            "depth": 6, "l2_leaf_reg": 3.0, "task_type": "CPU", "thread_count": -1}
    before = fingerprint._detector(json.dumps(node, sort_keys=True))
    fingerprint._detector.cache_clear()
    assert fingerprint._detector(json.dumps(node, sort_keys=True)) == before  # deterministic
    fit = CatBoostDetector.fit

    def shallow_fit(self, X, y):  # the same class, other behaviour
        self.depth = 1
        return fit(self, X, y)

    monkeypatch.setattr(CatBoostDetector, "fit", shallow_fit)
    fingerprint._detector.cache_clear()
    assert fingerprint._detector(json.dumps(node, sort_keys=True)) != before
    fingerprint._detector.cache_clear()


def test_a_stale_row_is_found_and_dropped(committed):
    """A stored fingerprint that is not today's marks the row stale, naming the component."""
    rows = committed.head(3).copy()
    rows.loc[rows.index[0], "tags.fp.detector"] = "000000000000"
    stale = store.stale(rows)
    assert list(stale.index) == [rows.index[0]] and stale["stale"].iloc[0] == "detector"
    assert len(store.current(rows)) == 2


def test_add_refuses_a_second_result_and_replaces_a_stale_one(committed, tmp_path):
    rows = committed.head(2).drop(columns=["source"]).copy()
    store.write(rows, tmp_path)
    other = rows.head(1).copy()
    other["metrics.aucroc"] = float(other["metrics.aucroc"].iloc[0]) / 2
    with pytest.raises(store.StoreError, match="differs from the committed"):
        store.add(other, tmp_path)
    other["tags.fingerprint"] = "000000000000"  # made by other code: the stored run is replaced
    assert store.add(other, tmp_path) == {"added": 0, "replaced": 1, "kept": 0}
    assert len(store.read(tmp_path)) == 2
    with pytest.raises(store.StoreError, match="without an aucroc metric"):
        store.add(other.assign(**{"metrics.aucroc": float("nan")}), tmp_path)
    dirty = other.assign(**{"tags.git_commit": "abc-dirty"})
    with pytest.raises(store.StoreError, match="commit first, then run"):
        store.add(dirty, tmp_path)


def test_add_from_mlflow_takes_committed_code_runs_only(committed, tmp_path, capsys):
    """An MLflow store's runs (here: two committed runs imported into a fresh store, one marked as made from an
    uncommitted tree) join an empty committed store: the clean one is added, the dirty one named and left out."""
    from adbench_repro import tracking

    rows = committed.drop_duplicates("tags.detector").head(2).copy()
    rows.loc[rows.index[1], "tags.git_commit"] = "0123456789ab-dirty"
    uri = f"sqlite:///{tmp_path}/m.db"
    client = tracking.client_for(uri)
    exp = tracking.ensure_experiment(client, "nng-mix")
    tracking.import_runs(client, exp, rows.rename(columns={"config": "tags.config"}), "results/store")
    target = tmp_path / "store"
    store.write(rows.head(0).drop(columns=["source"], errors="ignore"), target)
    counts = store.add_from_mlflow(uri, "nng-mix", directory=target)
    assert counts["added"] == 1
    assert "1 run(s) made from uncommitted code (0123456789ab-dirty)" in capsys.readouterr().out
    added = store.read(target)
    assert list(added["tags.config_hash"]) == [rows["tags.config_hash"].iloc[0]]
    assert store.add_from_mlflow(uri, "nng-mix", directory=target)["added"] == 0  # nothing new the second time


def test_add_from_mlflow_brings_in_a_rerun_with_held_out_signals(committed, tmp_path, capsys):
    """A rerun of a stored configuration with ``validation.holdout`` (made in another checkout) has the same
    AUCROC and the held-out signals: the default import replaces the stored run with it; a second import keeps it."""
    from adbench_repro import tracking

    rows = committed.drop_duplicates("tags.detector").head(1).copy()
    target = tmp_path / "store"
    store.write(rows.drop(columns=["source"]), target)
    rerun = rows.assign(**{"metrics.val_ho_mmd": 0.25, "metrics.holdout_unlabeled": 40.0})
    uri = f"sqlite:///{tmp_path}/m.db"
    client = tracking.client_for(uri)
    tracking.import_runs(client, tracking.ensure_experiment(client, "nng-mix"),
                         rerun.rename(columns={"config": "tags.config"}), "results/store")
    assert store.add_from_mlflow(uri, "nng-mix", directory=target) == {"added": 0, "replaced": 1, "kept": 0}
    assert "1 run(s) replaced" in capsys.readouterr().out
    assert float(store.read(target)["metrics.val_ho_mmd"].iloc[0]) == 0.25
    assert store.add_from_mlflow(uri, "nng-mix", directory=target)["replaced"] == 0


def test_config_column_is_what_is_hashed(committed):
    row = committed.iloc[0]
    assert hash_of(json.loads(row["config"])) == row["tags.config_hash"]


def test_a_finished_run_of_code_that_behaves_otherwise_is_not_done(tmp_path, monkeypatch):
    """The lease's "done?" (what reproduce and the sweeper plan with) counts a FINISHED run only while its
    fingerprint is today's: after a behaviour change of the detector it is to run again."""
    from mlflow.tracking import MlflowClient

    from adbench_repro import lease, plan, tracking
    from helpers import compose_run_config, identity_tags

    cfg = compose_run_config(["dataset=45_wine", "detector=mlp", "augmenter=nng_mix", "seed=0"],
                             f"sqlite:///{tmp_path}/m.db", tmp_path)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/m.db")
    exp = tracking.ensure_experiment(client, "nng-mix")
    run = client.create_run(exp, tags=identity_tags(cfg))
    client.set_terminated(run.info.run_id, "FINISHED")
    planned = plan.compose([{"dataset": "45_wine", "label_ratio": "1pct", "augmenter": "nng_mix", "multiplier": 10,
                             "detector": "mlp", "seed": 0}])
    assert lease.done(client, exp, planned) == {planned[0].config_hash}
    monkeypatch.setattr(fingerprint, "_detector", lambda node_json: "changed00000")
    assert lease.done(client, exp, planned) == set()


def test_the_fingerprint_probe_fit_logs_nothing(caplog):
    """The detector's probe fit (150 rows) says nothing at INFO: a run's log shows only its own fit."""
    import logging

    node = {"_target_": "adbench_repro.detectors.deepsad.DeepSAD"}
    fingerprint._detector.cache_clear()
    with caplog.at_level(logging.INFO):
        fingerprint._detector(json.dumps(node, sort_keys=True))
    fingerprint._detector.cache_clear()
    assert not [r for r in caplog.records if r.name.startswith("adbench_repro.detectors")]
    assert logging.getLogger("adbench_repro.detectors").level == logging.NOTSET
