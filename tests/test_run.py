"""The runner end to end: one real experiment logged to a temporary SQLite MLflow store."""

from __future__ import annotations

import pytest

from adbench_repro.confighash import config_hash
from adbench_repro.run import run_experiment
from helpers import compose_run_config, run_cli, runs_in_store


@pytest.fixture()
def store(tmp_path):
    return f"sqlite:///{tmp_path}/mlflow.db"


def test_cli_run_logs_one_finished_run(tmp_path, store, adbench_root):
    proc = run_cli(["dataset=6_cardio", "label_ratio=1pct", "seed=0", f"mlflow.tracking_uri={store}",
                    f"data.root={adbench_root}", f"hydra.run.dir={tmp_path}/out"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = runs_in_store(store)
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    m, p, t = run.data.metrics, run.data.params, run.data.tags
    for key in ("aucroc", "aucpr", "load_s", "generate_s", "fit_s", "score_s", "n_train", "n_test", "n_labeled",
                "n_generated"):
        assert key in m, key
    assert 0.5 < m["aucroc"] <= 1.0 and 0 < m["aucpr"] <= 1.0
    # 6_cardio: 1281 train rows, 13 labeled anomalies of which ceil(0.1*13)=2 kept, 11 dropped; baseline generates 0
    assert m["n_test"] == 550 and m["n_labeled"] == 2 and m["n_generated"] == 0 and m["n_train"] == 1281 - 11
    assert p["dataset.name"] == "6_cardio" and p["label_ratio.keep"] == "0.1" and p["seed"] == "0"
    assert p["augmenter._target_"].endswith("NoAugmenter") and "protocol.duplicate_small" in p
    assert t["dataset"] == "6_cardio" and t["family"] == "Classical" and t["augmenter"] == "none"
    assert t["detector"] == "mlp" and t["label_ratio"] == "1pct" and t["multiplier"] == "0"
    assert t["device"] == "cpu" and len(t["config_hash"]) == 16 and t["git_commit"] and t["package_version"]
    from mlflow.tracking import MlflowClient

    files = [f.path for f in MlflowClient(tracking_uri=store).list_artifacts(run.info.run_id)]
    assert "config.yaml" in files


def test_same_config_twice_gives_identical_aucroc_and_resume_skips(tmp_path, store, adbench_root):
    overrides = ["dataset=39_vertebral", "augmenter=nng_mix", "multiplier=5", "detector=mlp", "seed=3"]
    cfg = compose_run_config(overrides, store, adbench_root)
    first = run_experiment(cfg)
    assert first["status"] == "finished"
    again = run_experiment(cfg)  # same hash -> skipped, nothing new logged
    assert again == {"status": "skipped", "run_id": first["run_id"], "reason": "already FINISHED"}
    cfg.force = True
    forced = run_experiment(cfg)
    assert forced["status"] == "finished" and forced["aucroc"] == first["aucroc"]
    runs = runs_in_store(store)
    assert len(runs) == 2 and {r.data.tags["config_hash"] for r in runs} == {config_hash(cfg)}
    assert runs[0].data.metrics["n_generated"] == 5 * runs[0].data.metrics["n_labeled"]


def test_failed_run_is_marked_failed_never_finished(store, adbench_root, monkeypatch):
    # An error after the run is created (here: in the detector's fit) ends the run FAILED with the error tagged;
    # a data file that does not load leaves no run at all (test_validate).
    from adbench_repro.detectors import mlp

    def broken_fit(self, *args, **kwargs):
        raise RuntimeError("detector blew up")

    monkeypatch.setattr(mlp.MLPDetector, "fit", broken_fit)
    cfg = compose_run_config(["dataset=39_vertebral", "detector=mlp"], store, adbench_root)
    with pytest.raises(RuntimeError, match="blew up"):
        run_experiment(cfg)
    runs = runs_in_store(store)
    assert [r.info.status for r in runs] == ["FAILED"]
    assert "blew up" in runs[0].data.tags["error"]


def test_cuda_without_cuda_fails_before_any_work(tmp_path, store, adbench_root):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    proc = run_cli(["device=cuda", f"mlflow.tracking_uri={store}", f"data.root={adbench_root}",
                    f"hydra.run.dir={tmp_path}/out"], cwd=tmp_path)
    assert proc.returncode != 0 and "device=cuda" in proc.stderr
    assert runs_in_store(store) == []


def test_unknown_group_option_is_a_clear_error(tmp_path, store):
    proc = run_cli(["augmenter=nng_mixx", f"mlflow.tracking_uri={store}", f"hydra.run.dir={tmp_path}/out"],
                   cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown augmenter 'nng_mixx'" in proc.stderr and "did you mean nng_mix" in proc.stderr
    assert runs_in_store(store) == []


def test_unknown_dataset_suggests_names(tmp_path, store, adbench_root):
    cfg = compose_run_config(["dataset=6_cardio"], store, adbench_root)
    cfg.dataset.name = "cardio"
    with pytest.raises(ValueError, match="did you mean 6_cardio"):
        run_experiment(cfg)
    assert runs_in_store(store) == []
