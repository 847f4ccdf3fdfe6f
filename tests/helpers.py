"""Helpers shared by the tests: compose configs, run the CLI, read an MLflow store, write synthetic study tables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

REPO_ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = str(REPO_ROOT / "conf")


def compose_run_config(overrides: list[str], tracking_uri: str, data_root: Path) -> DictConfig:
    """Compose conf/config.yaml as the CLI would (HydraConfig set, so group choices are known)."""
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("config", overrides=[*overrides, f"mlflow.tracking_uri={tracking_uri}",
                                            f"data.root={data_root}"], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def identity_tags(cfg) -> dict[str, str]:
    """The tags by which a run is found and judged current, as the runner logs them: config hash, result
    config and code fingerprints (for tests that make runs without running them)."""
    from adbench_repro.confighash import canonical_json, config_hash, result_config
    from adbench_repro.fingerprint import combined, fingerprints

    fps = fingerprints(result_config(cfg))
    return {"config_hash": config_hash(cfg), "config": canonical_json(result_config(cfg)),
            **{f"fp.{k}": v for k, v in fps.items()}, "fingerprint": combined(fps)}


def run_cli(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m adbench_repro.run ARGS`` in ``cwd``; returns the completed process (never raises)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    # this checkout's code, whatever the venv's editable install points at
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), full_env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "adbench_repro.run", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def runs_in_store(tracking_uri: str, experiment: str = "nng-mix"):
    """Every run of ``experiment`` in the store, as MLflow Run objects."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        return []
    return client.search_runs([exp.experiment_id], max_results=10000)


def synthetic_study(name: str, rows: list[str], shift: dict[str, float], out_dir: Path, n_datasets: int | None = None,
                    noise: float = 0.0, datasets: list[str] | None = None,
                    row_shift: dict[str, dict[str, float]] | None = None) -> None:
    """Write ``<out_dir>/<name>.csv`` as the aggregator would, from made-up runs: every column is a base value
    per dataset plus ``shift[column]`` (0 when absent; ``row_shift[row]`` replaces it for that row) plus
    optional noise. ``n_datasets``: the first n of the study's datasets (default: all of them)."""
    import numpy as np
    import pandas as pd

    from adbench_repro.aggregate.render import write_outputs
    from adbench_repro.aggregate.table import build_table
    from adbench_repro.studies import load_study

    study = load_study(name)
    rng = np.random.default_rng(1)
    recs = []
    for row in rows:
        base = rng.uniform(0.6, 0.85, len(datasets or study.datasets))
        for i, ds in enumerate((datasets or study.datasets)[:n_datasets or None]):
            for col in study.columns:
                value = (base[i] + (row_shift or {}).get(row, shift).get(col.label, 0.0)
                         + (rng.normal(0, noise) if noise else 0.0))
                recs.append({"row": row, "column": col.label, "dataset": ds, "seed": 0, "value": value,
                             "run_id": f"{row}{i}{col.label}", "config_hash": f"{row}{i}{col.label}"})
    write_outputs(build_table(study, pd.DataFrame(recs), None), out_dir)
