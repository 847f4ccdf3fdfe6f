"""docs/extending.md's worked examples, executed: its generator and detector modules and YAMLs, written into a copy
of the package and its config tree, are discovered by the registries and work as the page says; its study spec
parses as a user study; its commands run in that copy (slow)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from helpers import REPO_ROOT

DOC = (REPO_ROOT / "docs" / "extending.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def block(lang: str, marker: str) -> str:
    """The one ```lang block of the page that contains ``marker``."""
    (found,) = [b for b in blocks(lang) if marker in b]
    return found


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the package, hydra_plugins and conf/ with the page's generator and detector added, imported in
    place of this checkout's for the test (its modules are dropped afterwards)."""
    shutil.copytree(REPO_ROOT / "adbench_repro", tmp_path / "adbench_repro", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO_ROOT / "hydra_plugins", tmp_path / "hydra_plugins", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO_ROOT / "conf", tmp_path / "conf")
    (tmp_path / "adbench_repro" / "augmenters" / "smote.py").write_text(block("python", "class Smote("))
    (tmp_path / "conf" / "augmenter" / "smote.yaml").write_text(block("yaml", "augmenters.smote.Smote"))
    (tmp_path / "adbench_repro" / "detectors" / "rf.py").write_text(block("python", "class RandomForestDetector("))
    (tmp_path / "conf" / "detector" / "rf.yaml").write_text(block("yaml", "detectors.rf.RandomForestDetector"))
    ours = lambda name: name == "adbench_repro" or name.startswith("adbench_repro.")  # noqa: E731
    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if ours(n)]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_the_worked_generator_is_discovered_and_generates(package_copy):
    import adbench_repro.augmenters.base as base
    from adbench_repro.registry import discover

    registry = discover("augmenter", base.Augmenter, package_copy / "conf")
    assert "smote" in registry and "nng_mix" in registry
    A = np.random.default_rng(0).random((5, 3))
    X = registry["smote"]().generate(A, A[:0], 20, np.random.default_rng(1))
    assert X.shape == (20, 3) and (X >= A.min(0) - 1e-12).all() and (X <= A.max(0) + 1e-12).all()


def test_the_worked_detector_is_discovered_and_keeps_the_contract(package_copy, adbench_root):
    import hydra.utils
    from omegaconf import OmegaConf
    from sklearn.base import clone

    import adbench_repro.detectors.base as base
    from adbench_repro.datasets import load_split
    from adbench_repro.registry import discover

    assert "rf" in discover("detector", base.Detector, package_copy / "conf")
    cfg = OmegaConf.load(package_copy / "conf" / "detector" / "rf.yaml")
    det = hydra.utils.instantiate(cfg, seed=3, device="cpu")  # as the runner builds it
    assert det.get_params() == {"n_estimators": 100, "max_depth": None, "class_weight": "balanced", "seed": 3,
                                "device": "cpu"}
    assert clone(det).get_params() == det.get_params()
    split = load_split("45_wine", adbench_root, seed=0)
    X = np.vstack([split.X_unlabeled, split.X_labeled])
    y = np.r_[np.zeros(len(split.X_unlabeled)), np.ones(len(split.X_labeled))].astype(int)
    scores = det.fit(X, y).decision_function(split.X_test)
    assert scores.shape == (len(split.X_test),) and scores.dtype == np.float64 and 0 <= scores.min() <= scores.max() <= 1
    assert np.array_equal(scores, clone(det).fit(X, y).decision_function(split.X_test))  # seeded
    with pytest.raises(ValueError, match="rf: setting `class_weight` must be balanced"):
        det.set_params(class_weight="heavy").fit(X, y)
    with pytest.raises(ValueError, match="rf: setting `n_estimators` must be >= 1"):
        type(det)(n_estimators=0)
    with pytest.raises(ValueError, match="anomal"):
        type(det)().fit(X, np.zeros_like(y))  # requires_anomalies: fit refuses y without any


def test_the_worked_python_example_runs_and_misspellings_are_one_line(package_copy, adbench_root, monkeypatch):
    monkeypatch.setenv("ADBENCH_DATA", str(adbench_root))
    import adbench_repro
    from adbench_repro.validate import ConfigError

    assert adbench_repro.CONF_DIR == package_copy / "conf"
    namespace: dict = {}
    example = block("python", "adbench_repro.evaluate(")
    exec(compile(example.replace("print(r.aucroc)", ""), "docs/extending.md", "exec"), namespace)
    assert 0.5 < namespace["r"].aucroc <= 1.0 and namespace["r"].metrics["n_generated"] > 0
    with pytest.raises(ConfigError, match=r"^unknown detector 'rff' \(detector=rff\); did you mean rf\?"):
        adbench_repro.evaluate(detector="rff")
    with pytest.raises(ConfigError, match="1pct, 5pct, 10pct, 20pct, 50pct, 100pct"):
        adbench_repro.evaluate(label_ratio=2)
    with pytest.raises(ConfigError, match="did you mean detector.n_estimators.*rf has n_estimators, max_depth"):
        adbench_repro.evaluate(detector="rf", detector__n_estimator=5)


def test_the_worked_study_spec_parses_as_a_user_study(tmp_path):
    from adbench_repro.studies import parse_study

    spec = yaml.safe_load(block("yaml", "name: smote_vs_nng"))
    spec["sweeps"][0]["augmenter"] = ["none", "nng_mix"]  # smote is not in this checkout's conf/
    spec["columns"] = [c for c in spec["columns"] if c["label"] != "SMOTE"]
    study = parse_study(spec, tmp_path / "smote_vs_nng.yaml")
    assert study.kind == "user" and str(study.results_dir()) == "results/studies/smote_vs_nng"


@pytest.mark.slow
def test_the_pages_commands_run_in_the_copy(package_copy, adbench_root):
    """Every ```sh command of the page, in the copy with the page's files and study spec: the detector's runs for
    real (recorded in a store of the copy), the study widenings as dry runs."""
    (package_copy / "conf" / "study" / "smote_vs_nng.yaml").write_text(block("yaml", "name: smote_vs_nng"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ADBENCH_", "HYDRA_"))}
    env.update(ADBENCH_DATA=str(adbench_root), PYTHONPATH=str(package_copy), PYTHONUNBUFFERED="1")
    commands = [line.split("#")[0].strip() for b in blocks("sh") for line in b.splitlines() if line.strip()]
    assert len(commands) == 4
    for command in commands:
        argv = shlex.split(command)
        assert argv[:2] == ["python", "-m"]
        if argv[2] == "adbench_repro.reproduce":
            argv.append("--dry-run")
        res = subprocess.run([sys.executable, *argv[1:]], cwd=package_copy, env=env, capture_output=True, text=True,
                             timeout=600)
        out = res.stdout + res.stderr
        assert res.returncode == 0, f"{command}\n{out[-3000:]}"
        if argv[2] == "adbench_repro.run":
            assert "open it: make mlflow-ui" in out and " · rf · 1pct · seed 0" in out
        else:
            assert "widened beyond its spec" in out
    from helpers import runs_in_store

    runs = runs_in_store(f"sqlite:///{package_copy}/mlflow.db")
    assert sorted(r.info.run_name for r in runs) == ["45_wine · baseline · rf · 1pct · seed 0",
                                                      "45_wine · nng_mix 10x · rf · 1pct · seed 0"]
    assert all(r.info.status == "FINISHED" and 0 <= r.data.metrics["aucroc"] <= 1 for r in runs)
