"""Settings are checked before any work, and errors are one line naming the setting (issue: a newcomer's hour)."""

from __future__ import annotations

import os

import pytest

from adbench_repro.validate import check_overrides, check_value
from helpers import run_cli


def clean_env(adbench_root) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "ADBENCH_", "HYDRA_")) or k == "ADBENCH_HOME"}  # (conftest's)
    env["ADBENCH_DATA"] = str(adbench_root)
    return env


@pytest.mark.parametrize("args,setting", [
    (["dataset=99_nope"], "dataset"),
    (["multiplier=2.5"], "multiplier"),
    (["multiplier=-5"], "multiplier"),
    (["multiplier=abc"], "multiplier"),
    (["seed=-1"], "seed"),
    (["protocol.pollution=1.5"], "protocol.pollution"),
    (["device=gpu"], "device"),
    (["label_ratio=2"], "label_ratio"),
    (["-m", "dataset=6_cardio,99_nope", "detector=mlp"], "dataset"),
])
def test_bad_settings_exit_2_in_one_line_before_any_work(args, setting, tmp_path, adbench_root):
    res = run_cli(args, cwd=tmp_path, env={**clean_env(adbench_root), "ADBENCH_HOME": str(tmp_path)})
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    lines = res.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 3 and lines[0].startswith("error: ") and setting in lines[0]
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "multirun").exists()  # nothing ran


def test_unknown_names_suggest_close_ones_and_the_listing_command():
    msg = check_value("dataset", "cardio")
    assert "6_cardio" in msg and "python -m adbench_repro.datasets" in msg
    assert "nng_mix" in check_value("augmenter", "nngmix")
    assert check_value("dataset", "classical") is None  # a family is fine (multirun expands it)
    assert "a dataset id or a family (classical, cv, nlp)" in check_value("dataset", "99_nope")


def test_a_small_group_lists_every_valid_name_in_natural_order():
    assert check_value("label_ratio", 2) == ("unknown label_ratio '2' (label_ratio=2); did you mean one of "
                                             "1pct, 5pct, 10pct, 20pct, 50pct, 100pct?")
    msg = check_value("detector", "mpl")
    assert "did you mean mlp? (the others: catboost, deepsad," in msg and "xgbod, xgboost)" in msg
    assert "detector=pyod detector.name=IForest" in check_value("detector", "iforest")


def test_the_cli_lists_the_label_ratios(tmp_path, adbench_root):
    res = run_cli(["label_ratio=2"], cwd=tmp_path, env=clean_env(adbench_root))
    assert res.returncode == 2 and "1pct, 5pct, 10pct, 20pct, 50pct, 100pct" in res.stderr
    assert "ls conf/label_ratio" not in res.stderr


def test_every_job_of_a_sweep_is_checked_and_all_problems_are_listed():
    problems = check_overrides(["-m", "dataset=6_cardio,99_nope,98_nope", "seed=range(0,3)", "multiplier=1,-2"])
    assert len(problems) == 3
    assert check_overrides(["dataset=6_cardio", "seed=4294967295", "multiplier=0", "augmenter.k=5"]) == []


@pytest.mark.parametrize("argv", [["--cfg", "job"], ["-c", "job", "seed=1"], ["--config-name", "config", "seed=1"],
                                  ["-cn", "config"], ["--info", "config"], ["-m", "-c", "job", "seed=0,1"]])
def test_hydra_flags_with_a_separate_value_are_not_overrides(argv):
    assert check_overrides(argv) == []


def test_bad_values_after_hydra_flags_are_still_found():
    assert len(check_overrides(["-c", "job", "seed=-1", "multiplier=-2"])) == 2


@pytest.mark.parametrize("flag", [["--cfg", "job"], ["-c", "job"]])
def test_cfg_job_prints_the_config_and_exits_0(flag, tmp_path, adbench_root):
    res = run_cli([*flag, "seed=3"], cwd=tmp_path, env={**clean_env(adbench_root), "ADBENCH_HOME": str(tmp_path)})
    assert res.returncode == 0, res.stderr[-2000:]
    assert "seed: 3" in res.stdout and "augmenter:" in res.stdout
    assert not (tmp_path / "mlflow.db").exists()  # printing the config runs nothing


def test_a_data_error_leaves_no_run_in_the_store(tmp_path, adbench_root):
    root = tmp_path / "data"
    (root / "Classical").mkdir(parents=True)
    (root / "Classical" / "45_wine.npz").write_bytes(b"PK\x03\x04 truncated")
    env = clean_env(adbench_root)
    env["ADBENCH_DATA"] = str(root)
    env["ADBENCH_HOME"] = str(tmp_path)  # the project's store: <home>/mlflow.db
    res = run_cli(["dataset=45_wine"], cwd=tmp_path, env=env)
    assert res.returncode == 2 and "45_wine.npz" in res.stderr and "make data" in res.stderr
    from helpers import runs_in_store

    assert runs_in_store(f"sqlite:///{tmp_path}/mlflow.db") == []  # no FAILED run to clutter the UI
