"""One store, wherever the user stands (issue 33 item 1): the CLI's config, the Python API and `make mlflow-ui`
resolve the tracking store, Hydra's folders and the tables the same way (adbench_repro/paths.py); and a user
study's table says per column which runs were reused and which made here (issue 33 item 4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir

from adbench_repro import paths
from helpers import REPO_ROOT, runs_in_store


def _compose(overrides=()):
    with initialize_config_dir(config_dir=str(REPO_ROOT / "conf"), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


def _paths_cli(cwd: Path, env: dict) -> str:
    """What `make mlflow-ui` serves: `python -m adbench_repro.paths`, run from ``cwd``."""
    env = {**env, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "adbench_repro.paths"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=True).stdout.strip()


def test_without_settings_the_store_and_folders_are_the_checkouts_whatever_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("ADBENCH_HOME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    project = f"sqlite:///{REPO_ROOT}/mlflow.db"
    assert paths.tracking_uri() == paths.project_store_uri() == project and paths.is_project_store(project)
    cfg = _compose()  # the CLI's configuration
    assert cfg.mlflow.tracking_uri == project
    assert cfg.hydra.run.dir.startswith(f"{REPO_ROOT}/outputs/") and cfg.hydra.sweep.dir.startswith(f"{REPO_ROOT}/multirun/")
    assert paths.results_root() == REPO_ROOT
    env = {k: v for k, v in os.environ.items() if k not in ("ADBENCH_HOME", "MLFLOW_TRACKING_URI")}
    assert _paths_cli(tmp_path, env) == project  # `make mlflow-ui`
    assert "-m adbench_repro.paths" in subprocess.run(["make", "-n", "mlflow-ui"], cwd=REPO_ROOT, capture_output=True,
                                                      text=True, check=True).stdout
    assert not list(tmp_path.iterdir())


def test_a_configured_uri_wins_and_adbench_home_moves_the_project_store(tmp_path, monkeypatch):
    monkeypatch.setenv("ADBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    mine = f"sqlite:///{tmp_path}/home/mlflow.db"
    assert paths.tracking_uri() == mine and _compose().mlflow.tracking_uri == mine
    assert _compose().hydra.sweep.dir.startswith(f"{tmp_path}/home/multirun/")
    assert _compose(["mlflow.tracking_uri=sqlite:////x/given.db"]).mlflow.tracking_uri == "sqlite:////x/given.db"
    assert paths.tracking_uri("sqlite:////x/given.db") == "sqlite:////x/given.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking-host:5000")
    assert paths.tracking_uri() == _compose().mlflow.tracking_uri == "http://tracking-host:5000"
    assert not paths.is_project_store("http://tracking-host:5000")
    assert _paths_cli(tmp_path, dict(os.environ)) == "http://tracking-host:5000"


def test_a_read_only_checkout_writes_under_the_users_home(tmp_path, monkeypatch):
    monkeypatch.delenv("ADBENCH_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    real = os.access
    monkeypatch.setattr(paths.os, "access", lambda p, mode: False if Path(p) == REPO_ROOT else real(p, mode))
    assert paths.project_home() == tmp_path / ".adbench_repro"
    assert paths.project_store_uri() == f"sqlite:///{tmp_path}/.adbench_repro/mlflow.db"
    assert paths.project_data() == REPO_ROOT / "data" / "adbench"  # the checkout's data are still read


def test_run_origins_count_each_columns_runs_by_where_they_come_from():
    from adbench_repro.aggregate.origin import origin_lines, run_origins

    uri = "sqlite:////home/me/proj/mlflow.db"
    runs = pd.DataFrame({"run_id": ["a", "b", "c", "d", "e"],
                         "source": ["results/store", "results/store", uri, uri, uri],
                         "tags.config_hash": ["h1", "h2", "h3", "h4", "h5"],
                         "tags.git_commit": ["9f2fd59757a3", "38cb33c0fdd5-dirty", "0f7c8370aaaa", "0f7c8370aaaa-dirty",
                                             "0f7c8370aaaa-dirty"]})
    records = pd.DataFrame({"column": ["Baseline", "Baseline", "Baseline", "NNG-Mix", "NNG-Mix"],
                            "run_id": ["a", "c", "d", "b", "e"]})
    got = run_origins(records, runs, made_here={"h4", "h5"}).set_index("column")
    assert got.loc["Baseline", ["runs", "committed", "tracking", "new"]].tolist() == [3, 1, 1, 1]
    assert got.loc["NNG-Mix", ["runs", "committed", "tracking", "new"]].tolist() == [2, 1, 0, 1]
    assert got.loc["NNG-Mix", "commits"] == "0f7c837 (dirty) x1, 38cb33c (dirty) x1"
    text = "\n".join(origin_lines(got.reset_index(), known_new=True))
    assert "| Baseline | 3 | 1 | 1 | 1 | 0f7c837 x1, 0f7c837 (dirty) x1, 9f2fd59 x1 |" in text
    unknown = run_origins(records, runs).set_index("column")  # (python -m adbench_repro.aggregate: not told apart)
    assert unknown.loc["Baseline", ["tracking", "new"]].tolist() == [2, 0]


SPEC = {"name": "mine", "title": "RF vs MLP, with and without NNG-Mix", "datasets": ["45_wine", "14_glass"],
        "rows": "detector",
        "sweeps": [{"label_ratio": ["1pct"], "augmenter": ["none", "nng_mix"], "multiplier": [10],
                    "detector": ["mlp", "rf"], "seed": [0]}],
        "columns": [{"label": "Baseline", "match": {"augmenter": "none"}},
                    {"label": "NNG-Mix", "match": {"augmenter": "nng_mix"}}]}


@pytest.mark.slow
def test_run_study_from_a_notebook_folder_writes_to_the_project_store(tmp_path, monkeypatch, adbench_root):
    """Issue 33's acceptance: run_study(<a user study>) from a folder outside the repository leaves nothing there;
    its runs are in the store that `make mlflow-ui` serves, its table under the project's results/studies/; the
    table says which runs were reused (the MLP rows: Table I's committed runs) and which made here (RF)."""
    import adbench_repro

    home, notebook, specs = tmp_path / "home", tmp_path / "notebook", tmp_path / "specs"
    for d in (home, notebook, specs):
        d.mkdir()
    (specs / "mine.yaml").write_text(yaml.safe_dump(SPEC))
    monkeypatch.setenv("ADBENCH_HOME", str(home))  # the project's store, redirected as paths.py resolves it
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("ADBENCH_DATA", str(adbench_root))
    monkeypatch.chdir(notebook)
    result = adbench_repro.run_study(str(specs / "mine.yaml"), jobs=1)
    assert not list(notebook.iterdir())  # no mlflow.db, mlruns/, outputs/, multirun/ or results/ here
    served = _paths_cli(notebook, dict(os.environ))
    assert served == f"sqlite:///{home}/mlflow.db"
    runs = runs_in_store(served)
    assert sorted(r.data.tags["detector"] for r in runs) == ["rf"] * 4 and {r.info.status for r in runs} == {"FINISHED"}
    assert result.table.runs_used == 8
    folder = home / "results" / "studies" / "mine"
    assert (folder / "runs" / "mine.csv.gz").is_file()
    assert not (folder / "claims.md").exists() and not (folder / "compute.md").exists()
    table = (folder / "mine.md").read_text()
    header = ("| column | runs | reused from the committed store (results/store/) | reused from the tracking store | "
              "made by this command |")
    assert header in table
    rows = [line.split(" | ")[:5] for line in table.splitlines() if line.startswith(("| Baseline |", "| NNG-Mix |"))]
    assert rows[-2:] == [["| Baseline", "4", "2", "0", "2"], ["| NNG-Mix", "4", "2", "0", "2"]]
    again = adbench_repro.run_study(str(specs / "mine.yaml"), jobs=1)  # nothing left to run: all reused
    assert again.table.runs_used == 8 and len(runs_in_store(served)) == 4
    rows = [line.split(" | ")[:5] for line in (folder / "mine.md").read_text().splitlines()
            if line.startswith(("| Baseline |", "| NNG-Mix |"))]
    assert rows[-2:] == [["| Baseline", "4", "2", "2", "0"], ["| NNG-Mix", "4", "2", "2", "0"]]
    assert not list(notebook.iterdir())
