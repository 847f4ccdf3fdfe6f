"""docs/extending.md's worked example, executed: its generator module and YAML, written into a copy of the
package's config tree, are discovered by the registry and generate what the docstring says."""

from __future__ import annotations

import re
import shutil
import sys

import numpy as np

from helpers import REPO_ROOT

DOC = (REPO_ROOT / "docs" / "extending.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def test_the_worked_generator_is_discovered_and_generates(tmp_path, monkeypatch):
    from adbench_repro.augmenters.base import Augmenter
    from adbench_repro.registry import discover

    module = blocks("python")[0]
    pkg = tmp_path / "adbench_repro" / "augmenters"
    shutil.copytree(REPO_ROOT / "adbench_repro", tmp_path / "adbench_repro",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "smote.py").write_text(module)
    conf = tmp_path / "conf"
    shutil.copytree(REPO_ROOT / "conf", conf)
    (conf / "augmenter" / "smote.yaml").write_text(blocks("yaml")[0])
    for name in [m for m in sys.modules if m == "adbench_repro" or m.startswith("adbench_repro.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(tmp_path))
    import adbench_repro.augmenters.base as base

    registry = discover("augmenter", base.Augmenter, conf)
    assert "smote" in registry and "nng_mix" in registry
    A = np.random.default_rng(0).random((5, 3))
    X = registry["smote"]().generate(A, A[:0], 20, np.random.default_rng(1))
    assert X.shape == (20, 3) and (X >= A.min(0) - 1e-12).all() and (X <= A.max(0) + 1e-12).all()
    assert Augmenter is not None


def test_the_worked_study_spec_parses_as_a_user_study(tmp_path):
    import yaml

    from adbench_repro.studies import parse_study

    spec = yaml.safe_load(blocks("yaml")[1])
    spec["sweeps"][0]["augmenter"] = ["none", "nng_mix"]  # smote is not in this checkout's conf/
    spec["columns"] = [c for c in spec["columns"] if c["label"] != "SMOTE"]
    study = parse_study(spec, tmp_path / "smote_vs_nng.yaml")
    assert study.kind == "user" and str(study.results_dir()) == "results/studies/smote_vs_nng"
