"""The study runner: hashing as the runner does, counting done work by tags, one resumable sweep."""

from __future__ import annotations

import os
import subprocess
import sys

from mlflow.tracking import MlflowClient

from adbench_repro import tracking
from adbench_repro.reproduce import TAG_KEYS, compose_hashes, unfinished_by_tags


def test_baseline_hash_is_shared_across_multipliers_and_differs_by_parameter():
    base = {"dataset": "6_cardio", "label_ratio": "1pct", "detector": "mlp", "seed": 0}
    h = compose_hashes([
        {**base, "augmenter": "none", "multiplier": 0},
        {**base, "augmenter": "none", "multiplier": 10},
        {**base, "augmenter": "nng_mix", "multiplier": 10},
        {**base, "augmenter": "nng_mix", "multiplier": 10, "augmenter.k": 5},
        {**base, "augmenter": "nng_mix", "multiplier": 10, "augmenter.k": 10},
    ], [])
    assert h[0] == h[1]
    assert len({h[1], h[2], h[3]}) == 3
    assert h[4] == h[2]  # k=10 is the default: the same configuration


def test_unfinished_by_tags(tmp_path):
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    exp = tracking.ensure_experiment(client, "nng-mix")
    done = {"dataset": "6_cardio", "label_ratio": "1pct", "augmenter": "nng_mix", "multiplier": 10, "detector": "mlp",
            "seed": 0}
    for status, seed in (("FINISHED", 0), ("FAILED", 1)):
        run = client.create_run(exp, tags={k: str(v) for k, v in {**done, "seed": seed}.items()})
        client.set_terminated(run.info.run_id, status)
    failed = {**done, "seed": 1}
    other = {**done, "detector": "deepsad"}
    ablation = {**done, "augmenter.k": 5}  # an extra key is not in the tags: never assumed done
    configs = [done, failed, other, ablation]
    assert set(TAG_KEYS) == set(done)
    assert unfinished_by_tags(configs, client, exp, []) == [failed, other, ablation]
    # overrides that cannot change a result keep the match; one of a hashed key makes every config "to run"
    assert unfinished_by_tags(configs, client, exp, ["device=cpu", "data.root=/x", "mlflow.experiment_name=e"]) == [
        failed, other, ablation]
    assert unfinished_by_tags(configs, client, exp, ["protocol.pollution=0.5"]) == configs


def test_reproduce_runs_the_study_as_one_sweep_and_a_rerun_does_nothing(tmp_path, adbench_root):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ADBENCH_"))}
    cmd = [sys.executable, "-m", "adbench_repro.reproduce", "table1", "--quick", "--datasets", "45_wine",
           "--detectors", "mlp", "--no-aggregate", f"data.root={adbench_root}",
           f"mlflow.tracking_uri=sqlite:///{tmp_path}/mlflow.db", f"hydra.sweep.dir={tmp_path}/multirun"]
    first = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "8 runs, 0 already FINISHED" in first.stdout
    assert first.stdout.count("[sweep] summary:") == 1  # the 8 columns of the study in ONE multirun
    assert "[sweep] summary: 8 jobs | finished 8 | skipped 0 | failed 0" in first.stdout
    assert (tmp_path / "multirun" / "jobs.yaml").is_file()
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "8 runs, 8 already FINISHED" in again.stdout
    assert "[sweep] summary: 8 jobs | finished 0 | skipped 8 | failed 0" in again.stdout
    runs = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db").search_runs(
        [tracking.ensure_experiment(MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db"), "nng-mix")])
    assert len(runs) == 8


def test_time_estimate_scales_measured_runs_by_dataset_size(tmp_path):
    from adbench_repro.reproduce import DEFAULT_SECONDS_PER_RUN, seconds_per_run, size_factor

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
    assert est["xgbod"] == DEFAULT_SECONDS_PER_RUN["xgbod"]
