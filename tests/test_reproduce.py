"""The study runner: hashing as the runner does, counting done work by tags, one resumable sweep."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from adbench_repro import tracking
from adbench_repro.aggregate import REPO_ROOT
from adbench_repro.aggregate.expected import config_hashes


def test_baseline_hash_is_shared_across_multipliers_and_differs_by_parameter():
    base = {"dataset": "6_cardio", "label_ratio": "1pct", "detector": "mlp", "seed": 0}
    h = config_hashes([
        {**base, "augmenter": "none", "multiplier": 0},
        {**base, "augmenter": "none", "multiplier": 10},
        {**base, "augmenter": "nng_mix", "multiplier": 10},
        {**base, "augmenter": "nng_mix", "multiplier": 10, "augmenter.k": 5},
        {**base, "augmenter": "nng_mix", "multiplier": 10, "augmenter.k": 10},
    ])
    assert h[0] == h[1]
    assert len({h[1], h[2], h[3]}) == 3
    assert h[4] == h[2]  # k=10 is the default: the same configuration


def test_import_runs_keeps_tags_params_metrics_and_is_idempotent(tmp_path):
    from adbench_repro.aggregate.runs import export_runs, read_mlflow, read_run_files

    src = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/src.db")
    exp = tracking.ensure_experiment(src, "nng-mix")
    for i, status in enumerate(["FINISHED", "FINISHED", "FAILED"]):
        run = src.create_run(exp, tags={"config_hash": f"h{i}", "dataset": "6_cardio", "detector": "mlp"})
        src.log_batch(run.info.run_id, metrics=[Metric("aucroc", 0.5 + i / 10, 0, 0)],
                      params=[Param("augmenter.k", str(i))])
        src.set_terminated(run.info.run_id, status)
    exported = export_runs(read_mlflow(f"sqlite:///{tmp_path}/src.db", "nng-mix"), tmp_path / "runs.csv.gz")

    dst = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/dst.db")
    exp2 = tracking.ensure_experiment(dst, "nng-mix")
    runs = read_run_files([exported])
    assert tracking.import_runs(dst, exp2, runs, "runs.csv.gz") == 2  # FINISHED only
    assert tracking.import_runs(dst, exp2, runs, "runs.csv.gz") == 0  # twice adds nothing
    got = {r.data.tags["config_hash"]: r for r in dst.search_runs([exp2])}
    assert set(got) == {"h0", "h1"} == tracking.finished_hashes(dst, exp2)
    h1 = got["h1"]
    assert h1.info.status == "FINISHED" and h1.data.metrics["aucroc"] == 0.6
    assert h1.data.tags["dataset"] == "6_cardio" and h1.data.tags[tracking.IMPORTED_FROM] == "runs.csv.gz"
    assert h1.data.params["augmenter.k"] == "1"
    original = {r.data.tags["config_hash"]: r for r in src.search_runs([exp])}["h1"]
    assert h1.data.tags[tracking.IMPORTED_RUN_ID] == original.info.run_id
    assert (h1.info.start_time, h1.info.end_time) == (original.info.start_time, original.info.end_time)


def test_committed_runs_count_as_done_in_a_fresh_tracking_store(tmp_path, adbench_root):
    """A fresh clone has an empty tracking store: the committed store's runs of the study count as done (by
    config hash and fingerprint), nothing is imported, nothing is left to run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ADBENCH_"))}
    env["PYTHONPATH"] = str(REPO_ROOT)  # this checkout's code
    out = subprocess.run([sys.executable, "-m", "adbench_repro.reproduce", "table1", "--quick", "--datasets", "45_wine",
                          "--detectors", "mlp", "--seeds", "0", "--dry-run", f"data.root={adbench_root}",
                          f"mlflow.tracking_uri=sqlite:///{tmp_path}/fresh.db"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "8 runs: 8 in the committed store" in out.stdout and "0 to run" in out.stdout
    assert "stale" not in out.stdout


def test_a_stale_committed_run_is_planned_again_and_named_by_component(tmp_path, monkeypatch, adbench_root, capsys):
    """A committed run whose detector fingerprint is not today's is stale: the dry run counts it to run and
    says which component changed."""
    from adbench_repro import reproduce, store

    rows = store.read()
    configs = reproduce.studies.expand(reproduce.studies.load_study("table1"), quick=True, datasets=["45_wine"],
                                       detectors=["mlp"], seeds=[0])
    hashes = set(config_hashes(configs))
    mine = rows[rows["tags.config_hash"].isin(hashes)].drop(columns=["source"]).copy()
    assert len(mine) == 8
    mine.loc[mine.index[:3], "tags.fp.detector"] = "000000000000"
    store.write(mine, tmp_path / "store")
    monkeypatch.setattr(store, "STORE_DIR", tmp_path / "store")
    rc = reproduce.main(["table1", "--quick", "--datasets", "45_wine", "--detectors", "mlp", "--seeds", "0",
                         "--dry-run", f"data.root={adbench_root}", f"mlflow.tracking_uri=sqlite:///{tmp_path}/m.db"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "8 runs: 5 in the committed store" in printed and "3 to run" in printed
    assert "3 stale (detector: 3)" in printed


@pytest.mark.slow  # runs a real study twice, ~55 s
def test_reproduce_runs_the_study_as_one_sweep_and_a_rerun_does_nothing(tmp_path, adbench_root):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ADBENCH_"))}
    env["PYTHONPATH"] = str(REPO_ROOT)  # this checkout's code
    cmd = [sys.executable, "-m", "adbench_repro.reproduce", "table1", "--quick", "--datasets", "45_wine",
           "--detectors", "mlp", "--no-aggregate", "--no-committed", f"data.root={adbench_root}",
           f"mlflow.tracking_uri=sqlite:///{tmp_path}/mlflow.db", f"hydra.sweep.dir={tmp_path}/multirun"]
    first = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "8 runs: 0 in the committed store (results/store/), 0 FINISHED" in first.stdout
    assert first.stdout.count("[sweep] summary:") == 1  # the 8 columns of the study in ONE multirun
    assert "[sweep] summary: 8 jobs | finished 8 | skipped 0 | failed 0" in first.stdout
    assert (tmp_path / "multirun" / "jobs.yaml").is_file()
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "8 runs: 0 in the committed store (results/store/), 8 FINISHED" in again.stdout
    assert "[sweep]" not in again.stdout  # nothing left: no sweep at all
    runs = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db").search_runs(
        [tracking.ensure_experiment(MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db"), "nng-mix")])
    assert len(runs) == 8


def test_time_estimate_scales_measured_runs_by_dataset_size(tmp_path):
    from adbench_repro.reproduce import SECONDS_PER_RUN, seconds_per_run, size_factor

    assert size_factor("45_wine") == 0.1  # 129 rows, padded to 1,000 like ADBench does
    assert size_factor("22_magic.gamma") == 1.0  # 19,020 rows, capped at 10,000
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    exp = tracking.ensure_experiment(client, "nng-mix")
    for fit_s in (0.4, 0.5, 0.6):  # + 1 s of harness per run -> 1.5 s median on a 0.1 dataset
        run = client.create_run(exp, tags={"detector": "mlp", "dataset": "45_wine"})
        client.log_metric(run.info.run_id, "fit_s", fit_s)
        client.set_terminated(run.info.run_id, "FINISHED")
    est, measured = seconds_per_run(client, exp)
    assert measured == {"mlp"}
    assert abs(est["mlp"] - 15.0) < 1e-9
    assert est["xgbod"] == SECONDS_PER_RUN["xgbod"]


def test_experiments_carry_the_aucroc_runs_view_for_the_mlflow_ui(tmp_path):
    import json

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/m.db")
    exp = tracking.ensure_experiment(client, "nng-mix")
    view = json.loads(client.get_experiment(exp).tags["mlflow.sharedViewState.aucroc"])
    assert json.loads(view["state"])["selectedColumns"][0] == "metrics.`aucroc`"
    old = client.create_experiment("older")  # made without the view: saved on first use
    tracking.ensure_experiment(client, "older")
    assert "mlflow.sharedViewState.aucroc" in client.get_experiment(old).tags
    assert tracking.ui_url(exp).endswith(f"/#/experiments/{exp}/runs?workflowType=machine_learning&viewStateShareKey=aucroc")


def test_artifacts_of_a_sqlite_store_live_beside_it_not_in_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "store").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/store/m.db")
    exp = tracking.ensure_experiment(client, "nng-mix")
    run = client.create_run(exp)
    client.log_text(run.info.run_id, "x", "config.yaml")
    assert (tmp_path / "store" / "mlruns").is_dir()
    assert not (tmp_path / "cwd" / "mlruns").exists()


def test_an_unknown_detector_is_a_one_line_usage_error(capsys):
    """(A known detector the study does not use widens it: tests/test_studies.py.)"""
    from adbench_repro.reproduce import main

    with pytest.raises(SystemExit) as exc:
        main(["table7", "--dry-run", "--detectors", "deepsad,mpl"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "study 'table7': unknown detector 'mpl' (detector=mpl); did you mean mlp?" in err
    assert "Traceback" not in err


USER_SPEC = """
name: mine
title: "my generator vs NNG-Mix"
datasets: [45_wine, 42_WBC]
rows: detector
sweeps:
  - {label_ratio: [1pct], augmenter: [none, nng_mix], multiplier: [10], detector: [mlp, deepsad], seed: [0, 1]}
columns:
  - {label: Baseline, match: {augmenter: none}}
  - {label: NNG-Mix, match: {augmenter: nng_mix}}
"""


def test_reproduce_composes_each_configuration_once_and_a_user_study_writes_under_its_own_folder(
        tmp_path, monkeypatch, adbench_root):
    """One trip per configuration: the plan composes each once and the aggregator composes nothing; a spec
    without `kind` (a user's study) puts its table and runs export in results/studies/<name>/, and no paper
    pages (claims, compute)."""
    import hydra

    from adbench_repro import reproduce

    spec = tmp_path / "mine.yaml"
    spec.write_text(USER_SPEC)
    calls = {"plan": 0, "after": 0}
    phase = ["plan"]
    real = hydra.compose

    def counting(*a, **k):
        calls[phase[0]] += 1
        return real(*a, **k)

    def fake_sweep(argv):  # the sweep itself is tested elsewhere; here only what reproduce composes
        phase[0] = "after"
        assert any(a.startswith("hydra.sweeper.jobs_file=") for a in argv)
        return 0

    monkeypatch.setattr(hydra, "compose", counting)
    monkeypatch.setattr(reproduce, "compose", counting)
    monkeypatch.setattr(reproduce, "run_sweep", fake_sweep)
    monkeypatch.setattr(reproduce, "OUTPUT_ROOT", tmp_path)
    rc = reproduce.main([str(spec), "--no-committed", f"data.root={adbench_root}",
                         f"mlflow.tracking_uri=sqlite:///{tmp_path}/s.db"])
    assert rc == 0
    n_configs = 2 * 2 * 2 * 2  # datasets x augmenters x detectors x seeds
    groups = 2 * 2  # configurations differing only in dataset and seed share one composition
    assert calls["plan"] == 1 + groups <= n_configs  # the base config, then one per group
    assert calls["after"] == 0  # the aggregator reuses the planned hashes
    out = tmp_path / "results" / "studies" / "mine"
    assert (out / "mine.md").is_file() and (out / "runs" / "mine.csv.gz").is_file()
    assert not (out / "compute.md").exists() and not (out / "claims.md").exists()
    assert not (tmp_path / "results" / "mine.md").exists()
