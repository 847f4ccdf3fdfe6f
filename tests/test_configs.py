"""Every config composes and instantiates; the dataset configs agree with the catalogue."""

from __future__ import annotations

from pathlib import Path

import hydra
import pytest
from omegaconf import OmegaConf

from adbench_repro.datasets.catalog import all_datasets
from helpers import CONF_DIR, compose_run_config

CONF = Path(CONF_DIR)


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("augmenter", _options("augmenter"))
def test_every_augmenter_config_composes_and_instantiates(augmenter, tmp_path):
    cfg = compose_run_config([f"augmenter={augmenter}"], f"sqlite:///{tmp_path}/x.db", tmp_path)
    obj = hydra.utils.instantiate(cfg.augmenter)
    assert hasattr(obj, "generate")


@pytest.mark.parametrize("detector", _options("detector"))
def test_every_detector_config_composes_and_instantiates(detector, tmp_path):
    cfg = compose_run_config([f"detector={detector}"], f"sqlite:///{tmp_path}/x.db", tmp_path)
    obj = hydra.utils.instantiate(cfg.detector, seed=0, device="cpu")
    assert hasattr(obj, "fit") and hasattr(obj, "decision_function")


@pytest.mark.parametrize("ratio", _options("label_ratio"))
def test_label_ratio_configs(ratio):
    cfg = OmegaConf.load(CONF / "label_ratio" / f"{ratio}.yaml")
    assert 0 < cfg.la <= 1 and 0 < cfg.keep <= 1
    pct = int(ratio.removesuffix("pct"))
    assert round(100 * cfg.la * cfg.keep) == pct


def test_dataset_configs_match_the_catalogue():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_dataset_configs", CONF.parent / "scripts" / "make_dataset_configs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    render = module.render

    expected = {i.name: render(i.name, i.family) for i in all_datasets()}
    found = {p.stem: p.read_text() for p in (CONF / "dataset").glob("*.yaml")}
    assert found == expected, "run `python scripts/make_dataset_configs.py`"


def test_paper_default_run_config(tmp_path):
    cfg = compose_run_config([], f"sqlite:///{tmp_path}/x.db", tmp_path)
    assert cfg.protocol.test_size == 0.3 and cfg.protocol.duplicate_small and cfg.protocol.drop_unkept
    assert cfg.mlflow.experiment_name == "nng-mix"
