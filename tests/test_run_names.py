"""Runs have readable names, the same for a run made here and one imported from an export, and a single run says
where it went and how to open it (issue 33 item 7)."""

from __future__ import annotations

import os

from adbench_repro import tracking
from helpers import run_cli, runs_in_store


def test_run_name_reads_as_the_configuration():
    tags = {"dataset": "6_cardio", "augmenter": "nng_mix", "multiplier": "10", "detector": "mlp",
            "label_ratio": "1pct", "seed": "0", "protocol.split": "adbench", "config_hash": "abc"}
    assert tracking.run_name(tags) == "6_cardio · nng_mix 10x · mlp · 1pct · seed 0"
    assert tracking.run_name({**tags, "augmenter": "none", "multiplier": "0"}) == "6_cardio · baseline · mlp · 1pct · seed 0"
    assert tracking.run_name({**tags, "protocol.split": "grouped"}).endswith("seed 0 · grouped split")
    assert tracking.run_name({"dataset": "6_cardio"}) == "6_cardio · ? ?x · ? · ? · seed ?"


def test_a_single_run_says_where_it_went_and_imported_runs_keep_its_name(tmp_path, adbench_root):
    from adbench_repro.aggregate.runs import export_runs, read_mlflow, read_run_files

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADBENCH_", "HYDRA_"))}
    env["ADBENCH_DATA"] = str(adbench_root)
    uri = f"sqlite:///{tmp_path.resolve()}/mlflow.db"  # explicit: run_cli passes this process's MLFLOW_* on
    res = run_cli(["dataset=45_wine", "augmenter=nng_mix", "multiplier=5", f"mlflow.tracking_uri={uri}"],
                  cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    (run,) = runs_in_store(uri)
    assert run.info.run_name == "45_wine · nng_mix 5x · mlp · 1pct · seed 0"
    out = res.stdout + res.stderr
    assert f"run {run.info.run_id} recorded in {uri}, experiment nng-mix" in out
    assert f"open it: mlflow ui --backend-store-uri {uri}" in out
    assert f"http://127.0.0.1:5000/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}" in out

    export = export_runs(read_mlflow(uri, "nng-mix"), tmp_path / "runs.csv.gz")
    other = f"sqlite:///{tmp_path}/other.db"
    client = tracking.client_for(other)
    assert tracking.import_runs(client, tracking.ensure_experiment(client, "nng-mix"), read_run_files([export]),
                                "runs.csv.gz") == 1
    (imported,) = runs_in_store(other)
    assert imported.info.run_name == run.info.run_name
    assert imported.data.tags[tracking.IMPORTED_FROM] == "runs.csv.gz"


def test_the_project_store_is_opened_with_make_mlflow_ui():
    from adbench_repro import paths

    text = tracking.where_to_open(paths.project_store_uri(), "nng-mix", "1", "r1")  # ADBENCH_HOME's (conftest)
    assert "open it: make mlflow-ui (serves http://127.0.0.1:5000), then " in text
    other = tracking.where_to_open("sqlite:////elsewhere/m.db", "nng-mix", "1", "r1")
    assert "open it: mlflow ui --backend-store-uri sqlite:////elsewhere/m.db" in other
    server = tracking.where_to_open("http://tracking:5000", "nng-mix", "3", "r2")
    assert server.splitlines()[1] == "open it: http://tracking:5000/#/experiments/3/runs/r2"
