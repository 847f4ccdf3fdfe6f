"""The Python API for notebooks: one experiment (:func:`evaluate`) or a small study (:func:`run_study`).

Works from any folder: the config tree is the package's ``conf/`` and the data root is ``$ADBENCH_DATA`` or
the project's ``data/adbench`` (not the current directory). Arguments are checked as the command line's are,
before any work: a bad one raises :class:`~adbench_repro.validate.ConfigError` (a ``ValueError``) in one line.
The checks (and numpy, sklearn behind them) are imported on first use, so ``import adbench_repro`` stays instant.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
import re
from pathlib import Path

from . import CONF_DIR

def data_root() -> Path:
    """``$ADBENCH_DATA`` or the project's ``data/adbench`` (:func:`adbench_repro.paths.project_data`), absolute."""
    from .paths import project_data

    return Path(os.environ.get("ADBENCH_DATA") or project_data()).resolve()


def _value(v) -> str:
    """A Python value as Hydra override text: bools lower-case, None as null, lists and dicts in Hydra's
    syntax, strings quoted where a comma or bracket would otherwise read as a sweep or a list."""
    if isinstance(v, bool):
        return str(v).lower()
    if v is None:
        return "null"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{_value(x)}" for k, x in v.items()) + "}"
    text = str(v)
    if isinstance(v, str) and re.search(r"[\s,\[\]{}()=:'\"\\]", text):
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return text


def _overrides(extra: dict) -> list[str]:
    """``augmenter__k=5`` -> ``augmenter.k=5`` (a keyword cannot hold a dot)."""
    return [f"{k.replace('__', '.')}={_value(v)}" for k, v in extra.items()]


def _fractions() -> dict[str, float]:
    """Each ``conf/label_ratio`` name and the fraction of the training anomalies it labels and keeps
    (``la * keep``: ``1pct`` -> 0.01)."""
    import yaml

    from .validate import choices

    out = {}
    for name in choices("label_ratio"):
        raw = yaml.safe_load((CONF_DIR / "label_ratio" / f"{name}.yaml").read_text()) or {}
        out[name] = float(raw.get("la", 1.0)) * float(raw.get("keep", 1.0))
    return out


def _label_ratio(value) -> str:
    """``"1pct"``, ``"1%"`` or the fraction ``0.01`` -> ``"1pct"``; anything else raises :class:`ConfigError`
    listing the valid names and fractions."""
    from .validate import ConfigError, unknown_name

    fractions = _fractions()
    valid = (f"label_ratio is a name ({', '.join(fractions)}) or the labeled fraction "
             f"({', '.join(f'{f:g}' for f in fractions.values())})")
    if isinstance(value, str):
        text = value.strip()
        if text == "1":
            value = 1  # as ambiguous as the number
        elif text in fractions:
            return text
        elif text.endswith("%") and f"{text[:-1].strip()}pct" in fractions:
            return f"{text[:-1].strip()}pct"
        else:
            try:
                value = float(text)
            except ValueError:
                raise ConfigError(f"{unknown_name('label_ratio', text)}; or the labeled fraction "
                                  f"({', '.join(f'{f:g}' for f in fractions.values())})") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"label_ratio={value!r}: {valid}")
    if isinstance(value, numbers.Integral) and value == 1:
        raise ConfigError("label_ratio=1 is ambiguous: write label_ratio='1pct' (1 %) or label_ratio=1.0 (100 %)")
    for name, fraction in fractions.items():
        if math.isclose(float(value), fraction, rel_tol=1e-9, abs_tol=1e-12):
            return name
    raise ConfigError(f"label_ratio={value!r} is not a label ratio of conf/label_ratio: {valid}")


def _whole(key: str, value) -> int:
    """A seed or multiplier as an int (``0``, ``"0"``, ``0.0``); else :class:`ConfigError` with the valid form."""
    from .validate import ConfigError, check_value

    v = value
    if isinstance(v, str) and re.fullmatch(r"\s*[+-]?\d+\s*", v):
        v = int(v)
    elif isinstance(v, numbers.Integral) and not isinstance(v, bool):
        v = int(v)
    elif isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, int) or isinstance(v, bool):  # "abc", 2.5, True: the command line's message
        raise ConfigError(check_value(key, value) or f"{key}={value!r} must be a whole number")
    problem = check_value(key, v)
    if problem:
        raise ConfigError(problem)
    return v


def _name(group: str, value) -> str:
    """A dataset, augmenter or detector name, checked like the command line's (one line, "did you mean")."""
    from .datasets.catalog import FAMILIES
    from .validate import ConfigError, check_value

    if not isinstance(value, str):
        example = {"dataset": "6_cardio", "augmenter": "nng_mix", "detector": "mlp"}[group]
        raise ConfigError(f"{group}={value!r} must be a name (str), e.g. {group}={example!r}")
    problem = check_value(group, value)
    if problem:
        raise ConfigError(problem)
    if group == "dataset" and value in FAMILIES:
        raise ConfigError(f"dataset={value!r} names a dataset family; evaluate runs one dataset: loop over "
                          f"adbench_repro.datasets.dataset_names({value!r}), or run_study a spec with datasets: {value}")
    return value


def _settings(group_choices: list[str]) -> list[str]:
    """Every dotted key of the configuration composed with these group choices (for "did you mean")."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=group_choices)
    keys: list[str] = []

    def walk(node, prefix):
        for k, v in node.items():
            if k == "_target_":
                continue
            keys.append(f"{prefix}{k}")
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.")
    walk(OmegaConf.to_container(cfg, resolve=False), "")
    return keys


def _composition_error(exc: Exception, group_choices: list[str]):
    """Hydra's multi-line composition error as one :class:`ConfigError` line; an unknown key gets "did you mean"
    and its group's keys."""
    from .validate import ConfigError

    text = str(exc)
    m = re.search(r"Could not override '([^']+)'", text)
    if m:
        key = m.group(1)
        keys = _settings(group_choices)
        close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
        group = key.split(".", 1)[0]
        chosen = next((c.split("=", 1)[1] for c in group_choices if c.startswith(f"{group}=")), None)
        own = [k.split(".", 1)[1] for k in keys if k.startswith(f"{group}.") and k.count(".") == 1]
        hint = f"did you mean {', '.join(close)}? " if close else ""
        has = f"{group}={chosen} has {', '.join(own)}; " if chosen and own else ""
        return ConfigError(f"unknown setting {key} (keyword {key.replace('.', '__')}=..., or '{key}=...' in "
                           f"overrides); {hint}{has}'+{key}=...' in overrides adds a new key")
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return ConfigError(f"cannot compose the configuration: {first}")


def compose_config(dataset: str = "6_cardio", augmenter: str = "none", detector: str = "mlp", seed: int = 0,
                   label_ratio: str | float = "1pct", multiplier: int = 10, overrides: list[str] = (), **params):
    """The run configuration the CLI would compose, with ``data.root`` from :func:`data_root`.

    Checked as the command line is (:func:`adbench_repro.validate.check_overrides`): a bad name or value raises
    :class:`~adbench_repro.validate.ConfigError` (a ``ValueError``) in one line, with "did you mean" and the
    valid choices. ``label_ratio`` is a name (``"1pct"``) or the labeled fraction (``0.01``); ``seed`` and
    ``multiplier`` are whole numbers (``0``, ``"0"``)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from .validate import ConfigError, check_overrides

    groups = [f"dataset={_name('dataset', dataset)}", f"augmenter={_name('augmenter', augmenter)}",
              f"detector={_name('detector', detector)}", f"label_ratio={_label_ratio(label_ratio)}"]
    overrides = [overrides] if isinstance(overrides, str) else list(overrides)
    args = [*groups, f"seed={_whole('seed', seed)}", f"multiplier={_whole('multiplier', multiplier)}",
            f"data.root={data_root()}", *_overrides(params), *overrides]
    problems = check_overrides(args)
    if problems:
        raise ConfigError("; ".join(problems))
    sweeps = [a for a in _overrides(params) + overrides if _is_sweep(a)]
    if sweeps:
        raise ConfigError(f"{sweeps[0]} is a sweep; evaluate runs one configuration: call it once per value, or "
                          "sweep with run_study or `python -m adbench_repro.run -m`")
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose("config", overrides=args)
    except (HydraException, OmegaConfBaseException) as exc:
        raise _composition_error(exc, groups) from None


def _is_sweep(override: str) -> bool:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return OverridesParser.create().parse_overrides([override])[0].is_sweep_override()
    except Exception:  # noqa: BLE001 - a parse error is reported by compose
        return False


def evaluate(dataset: str = "6_cardio", augmenter: str = "none", detector: str = "mlp", seed: int = 0,
             label_ratio: str | float = "1pct", multiplier: int = 10, overrides: list[str] = (), **params):
    """Run one experiment (no tracking store) and return its :class:`~adbench_repro.experiment.Result`
    (``.aucroc``, ``.aucpr``, ``.metrics``). Any config key as ``augmenter__k=5`` or in ``overrides``.

    ``label_ratio`` is a name (``"1pct"`` ... ``"100pct"``) or the labeled fraction (``0.01``). Every setting
    is checked before any work as the command line checks it: a bad one raises
    :class:`~adbench_repro.validate.ConfigError` (a ``ValueError``) with a one-line message."""
    from .devices import resolve_device
    from .experiment import experiment
    from .validate import check_components, check_config

    cfg = compose_config(dataset, augmenter, detector, seed, label_ratio, multiplier, overrides, **params)
    check_config(cfg)
    check_components(cfg, {"augmenter": augmenter, "detector": detector})  # a bad augmenter or detector setting: one line, before the data is loaded
    return experiment(cfg, resolve_device(str(cfg.device)))


def run_study(study, **options):
    """Run a study (a name or a spec path), resuming, and aggregate it; returns the aggregator's result
    (``.table.long``, ``.table.records`` and ``.table.stats.pairwise`` are DataFrames). Options as
    :func:`adbench_repro.reproduce.run_study` (``quick``, ``detectors``, ``datasets``, ``seeds``, ``out``,
    ``overrides``); ``data.root`` defaults to :func:`data_root`. ``seeds`` may be ``"0-4"`` or ``range(5)``,
    ``detectors`` and ``datasets`` a list or ``"a,b"``; values the study does not use widen it
    (:func:`adbench_repro.studies.widen`). A bad study, name or seed raises
    :class:`~adbench_repro.studies.StudyError` (a ``ValueError``) in one line."""
    from .reproduce import run_study as reproduce_study
    from .studies import parse_names, parse_seeds

    for key, parse in (("seeds", parse_seeds), ("detectors", parse_names), ("datasets", parse_names)):
        if key in options:  # "0-4", range(5), "mlp,rf", a generator: one list, read once
            options[key] = parse(options[key])
    overrides = list(options.pop("overrides", ()))
    if not any(o.startswith("data.root=") for o in overrides):
        overrides.append(f"data.root={data_root()}")
    outcome = reproduce_study(study, overrides=overrides, **options)
    if outcome.rc != 0:
        raise RuntimeError(f"study {study}: the sweep or the aggregation failed (exit code {outcome.rc})")
    return outcome.result
