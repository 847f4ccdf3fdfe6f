"""Shared fixtures: where the real ADBench files are, and small synthetic data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _find_adbench_root() -> Path | None:
    candidates = [os.environ.get("ADBENCH_DATA"), REPO_ROOT / "data" / "adbench", REPO_ROOT.parent / "shared" / "adbench"]
    for c in candidates:
        if c and (Path(c) / "Classical").is_dir():
            return Path(c).resolve()
    return None


@pytest.fixture(scope="session", autouse=True)
def project_home(tmp_path_factory):
    """The project home (``ADBENCH_HOME``: the default tracking store, Hydra's folders, the tables) of every test
    is a temporary folder, so that no test writes the checkout's ``mlflow.db``, ``outputs/`` or ``results/``;
    a test of the default itself sets or removes it (tests/test_paths.py)."""
    home = tmp_path_factory.mktemp("adbench_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADBENCH_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def adbench_root() -> Path:
    """Folder holding ``Classical/``, ``CV_by_ResNet18/``, ``NLP_by_BERT/`` (real ADBench files)."""
    root = _find_adbench_root()
    if root is None:
        pytest.fail("ADBench data not found: set ADBENCH_DATA or run `make data`")
    return root


@pytest.fixture()
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """An easy, separable dataset: 400 normal rows near 0.3, 40 anomalies near 0.8 (d=5)."""
    rng = np.random.default_rng(123)
    normal = rng.normal(0.3, 0.05, size=(400, 5))
    anomalies = rng.normal(0.8, 0.05, size=(40, 5))
    X = np.vstack([normal, anomalies])
    y = np.r_[np.zeros(400, dtype=int), np.ones(40, dtype=int)]
    return X, y
