"""The Python API for notebooks: one experiment (:func:`evaluate`) or a small study (:func:`run_study`).

Works from any folder: the config tree is the package's ``conf/`` and the data root is ``$ADBENCH_DATA`` or
the project's ``data/adbench`` (not the current directory).
"""

from __future__ import annotations

import os
from pathlib import Path

from . import CONF_DIR

#: the project's default data folder (``make data`` fills it)
PROJECT_DATA = CONF_DIR.parent / "data" / "adbench"


def data_root() -> Path:
    """``$ADBENCH_DATA`` or the project's ``data/adbench``, as an absolute path."""
    return Path(os.environ.get("ADBENCH_DATA") or PROJECT_DATA).resolve()


def _overrides(extra: dict) -> list[str]:
    """``augmenter__k=5`` -> ``augmenter.k=5`` (a keyword cannot hold a dot)."""
    def fmt(v):
        return str(v).lower() if isinstance(v, bool) else "null" if v is None else str(v)
    return [f"{k.replace('__', '.')}={fmt(v)}" for k, v in extra.items()]


def compose_config(dataset: str = "6_cardio", augmenter: str = "none", detector: str = "mlp", seed: int = 0,
                   label_ratio: str = "1pct", multiplier: int = 10, overrides: list[str] = (), **params):
    """The run configuration the CLI would compose, with ``data.root`` from :func:`data_root`."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    args = [f"dataset={dataset}", f"augmenter={augmenter}", f"detector={detector}", f"seed={seed}",
            f"label_ratio={label_ratio}", f"multiplier={multiplier}", f"data.root={data_root()}",
            *_overrides(params), *overrides]
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=args)


def evaluate(dataset: str = "6_cardio", augmenter: str = "none", detector: str = "mlp", seed: int = 0,
             label_ratio: str = "1pct", multiplier: int = 10, overrides: list[str] = (), **params):
    """Run one experiment (no tracking store) and return its :class:`~adbench_repro.experiment.Result`
    (``.aucroc``, ``.aucpr``, ``.metrics``). Any config key as ``augmenter__k=5`` or in ``overrides``."""
    from .devices import resolve_device
    from .experiment import experiment
    from .validate import check_config

    cfg = compose_config(dataset, augmenter, detector, seed, label_ratio, multiplier, overrides, **params)
    check_config(cfg)
    return experiment(cfg, resolve_device(str(cfg.device)))


def run_study(study, **options):
    """Run a study (a name or a spec path), resuming, and aggregate it; returns the aggregator's result
    (``.table.long``, ``.table.records`` and ``.table.stats.pairwise`` are DataFrames). Options as
    :func:`adbench_repro.reproduce.run_study` (``quick``, ``detectors``, ``datasets``, ``seeds``, ``out``,
    ``overrides``); ``data.root`` defaults to :func:`data_root`."""
    from .reproduce import run_study as reproduce_study

    overrides = list(options.pop("overrides", ()))
    if not any(o.startswith("data.root=") for o in overrides):
        overrides.append(f"data.root={data_root()}")
    outcome = reproduce_study(study, overrides=overrides, **options)
    if outcome.rc != 0:
        raise RuntimeError(f"study {study}: the sweep or the aggregation failed (exit code {outcome.rc})")
    return outcome.result
