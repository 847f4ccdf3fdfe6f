"""Check settings before any work: names that exist, numbers in range, errors a person reads in one line.

Two checks, both before data is loaded or the tracking store is touched:

* :func:`check_overrides`: the command line of ``python -m adbench_repro.run [-m]``, every value of every
  comma/range sweep included, so a multirun with one bad job fails before its first job starts;
* :func:`check_config`: the composed configuration of one run (values from config or jobs files too).

Each problem is a :class:`ConfigError` whose message says what is wrong, where, and how to fix it.
"""

from __future__ import annotations

import difflib
import math
import re

from . import CONF_DIR
from .datasets.catalog import FAMILIES, all_datasets

#: config groups whose value names a file conf/<group>/<name>.yaml, and the command that lists them
GROUPS = {"dataset": "python -m adbench_repro.datasets", "augmenter": "ls conf/augmenter",
          "detector": "ls conf/detector", "label_ratio": "ls conf/label_ratio"}
#: a group with at most this many names has them all listed in its error (label ratios, detectors, augmenters)
LIST_ALL_MAX = 15
SEED_MAX = 2**32 - 1


class ConfigError(ValueError):
    """A setting that cannot work; the message names it and says how to fix it."""


def _natural(name: str):
    """Sort key putting ``5pct`` before ``10pct``."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", name) if t]


def choices(group: str) -> list[str]:
    """The names of config group ``group`` (``conf/<group>/*.yaml``), in natural order (``1pct`` ... ``100pct``)."""
    return sorted((p.stem for p in (CONF_DIR / group).glob("*.yaml")), key=_natural)


def _names(group: str) -> list[str]:
    names = choices(group)
    if group == "dataset":  # families are valid in a multirun (the sweeper expands them)
        names += sorted(FAMILIES)
    return names


def _pyod_hint(name: str) -> str:
    """``detector=pyod detector.name=KNN`` when ``name`` is a PyOD class name, else ''."""
    from .detectors.pyod_adapter import EXAMPLES, PYOD_MODULES

    known = {n.lower(): n for n in (*EXAMPLES, *PYOD_MODULES)}
    cls = known.get(name.lower().replace("-", "_"))
    return f"a PyOD detector is detector=pyod detector.name={cls}; " if cls else ""


def unknown_name(group: str, name: str) -> str:
    """The message for an unknown name in a config group: up to 5 close matches, and every valid name of a
    small group (label ratios, detectors, augmenters) or the dataset families and the listing command."""
    options = _names(group)
    names = choices(group)
    close = difflib.get_close_matches(name, options, n=5 if len(names) > LIST_ALL_MAX else 3, cutoff=0.6)
    if group == "dataset" and not close:  # ADBench ids: match the part after the number too
        close = [d.name for d in all_datasets() if name.lower() in d.name.lower()][:5]
    head = f"unknown {group} '{name}' ({group}={name}); "
    if group == "detector":
        head += _pyod_hint(name)
    if len(names) <= LIST_ALL_MAX:
        others = [n for n in names if n not in close]
        if not close:
            return head + f"did you mean one of {', '.join(names)}?"
        rest = f" (the others: {', '.join(others)})" if others else ""
        return head + f"did you mean {', '.join(close)}?{rest}"
    hint = f"did you mean {', '.join(close)}? " if close else ""
    families = f"a dataset id or a family ({', '.join(sorted(FAMILIES))}); " if group == "dataset" else ""
    return head + f"{hint}{families}`{GROUPS[group]}` lists them all"


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) or (isinstance(v, float) and v.is_integer())


def check_value(key: str, value) -> str | None:
    """The problem with one value of a checked setting, or None."""
    if key == "multiplier":
        if not _is_int(value) or value < 0:
            return (f"multiplier={value} must be a whole number >= 0 (pseudo-anomalies = multiplier x labeled "
                    "anomalies); e.g. multiplier=10")
    elif key == "seed":
        if not _is_int(value) or not 0 <= value <= SEED_MAX:
            return f"seed={value} must be a whole number in [0, {SEED_MAX}]; e.g. seed=0"
    elif key in ("protocol.pollution", "label_ratio.la", "label_ratio.keep"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        lo_open = key != "protocol.pollution"
        if not ok or not (0 < value <= 1 if lo_open else 0 <= value <= 1):
            return f"{key}={value} must be a number in {'(0, 1]' if lo_open else '[0, 1]'}"
    elif key == "budget.fraction_of_train":
        ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                               and 0 < value <= 1)
        if not ok:
            return (f"budget.fraction_of_train={value} must be null (the multiplier) or a number in (0, 1]: "
                    "pseudo-anomalies = that share of the training rows; e.g. budget.fraction_of_train=0.1")
    elif key == "protocol.test_size":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not 0 < value < 1:
            return f"protocol.test_size={value} must be a number in (0, 1); ADBench uses 0.3"
    elif key == "protocol.split":
        if str(value) not in ("adbench", "grouped", "grouped_identical"):
            return f"protocol.split={value} must be adbench, grouped or grouped_identical (docs/protocol.md)"
    elif key == "device":
        v = str(value)
        if v not in ("auto", "cpu", "cuda") and not (v.startswith("cuda:") and v[5:].isdigit()):
            return f"device={value} must be auto, cpu, cuda or cuda:N"
    elif key == "threads":
        if value not in (None, "auto") and (not _is_int(value) or value < 1):
            return f"threads={value} must be 'auto' or a whole number >= 1"
    elif key == "validation.signals":
        if not isinstance(value, bool):
            return f"validation.signals={value} must be true or false (label-free signals, docs/selection.md)"
    elif key == "validation.holdout":
        from .outputs import holdout_problem

        return holdout_problem(value)
    elif key in GROUPS:
        if str(value) not in _names(key):
            return unknown_name(key, str(value))
    return None


CHECKED = ("multiplier", "budget.fraction_of_train", "seed", "protocol.pollution", "protocol.test_size", "protocol.split",
           "label_ratio.la", "label_ratio.keep", "device", "threads", "validation.signals", "validation.holdout", *GROUPS)


def hydra_overrides(argv: list[str]) -> list[str] | None:
    """The overrides in a Hydra command line, read by Hydra's own argument parser (so a flag's separate value,
    as in ``--cfg job``, ``-c job`` or ``--config-name X``, is not taken for an override); None when Hydra
    cannot parse the flags."""
    from hydra._internal.utils import get_args_parser

    try:
        return list(get_args_parser().parse_args(list(argv)).overrides)
    except SystemExit:
        return None


def check_overrides(argv: list[str]) -> list[str]:
    """Every problem in the command-line overrides (each value of a sweep checked); [] when fine."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides = hydra_overrides(argv)
    if overrides is None:  # Hydra's own flags are wrong: Hydra says so itself
        return []
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as exc:  # noqa: BLE001 - Hydra's own message is precise
        return [f"cannot parse the overrides: {exc}".splitlines()[0]]
    problems = []
    for o in parsed:
        key = o.key_or_group
        if key not in CHECKED or o.is_delete():
            continue
        if o.is_sweep_override():
            try:
                values = list(o.sweep_iterator())
            except Exception:  # noqa: BLE001 - glob() needs Hydra's config loader: checked per job
                continue
        else:
            values = [o.value()]
        problems += [p for p in (check_value(key, v) for v in values) if p]
    return problems


def check_config(cfg) -> None:
    """Raise :class:`ConfigError` for the first problem in a composed run configuration."""
    values = {"multiplier": cfg.get("multiplier"), "seed": cfg.get("seed"), "device": cfg.get("device"),
              "threads": cfg.get("threads", "auto"),
              "protocol.pollution": cfg.protocol.get("pollution"), "protocol.test_size": cfg.protocol.get("test_size"),
              "protocol.split": cfg.protocol.get("split", "adbench"),
              "label_ratio.la": cfg.label_ratio.get("la"), "label_ratio.keep": cfg.label_ratio.get("keep"),
              "validation.signals": (cfg.get("validation") or {}).get("signals", True),
              "budget.fraction_of_train": (cfg.get("budget") or {}).get("fraction_of_train"),
              "validation.holdout": (cfg.get("validation") or {}).get("holdout", 0)}
    for key, value in values.items():
        problem = check_value(key, value)
        if problem:
            raise ConfigError(problem)


def check_components(cfg, choices: dict[str, str] | None = None) -> None:
    """Build the configuration's augmenter and detector once (their constructors check their settings) and raise
    :class:`ConfigError` in one line for a bad setting, instead of Hydra's multi-line ``InstantiationException``
    in the middle of a run. Cheap: constructors store and check, they fit nothing. ``choices``: the config names
    (``{"detector": "mlp"}``) for the message; the class name otherwise."""
    import hydra.utils
    from hydra.errors import InstantiationException
    from omegaconf import OmegaConf

    for group in ("augmenter", "detector"):
        extra = {"seed": 0, "device": "cpu"} if group == "detector" else {}
        try:
            hydra.utils.instantiate(cfg[group], **extra)
        except InstantiationException as exc:
            cause = exc.__cause__
            if not isinstance(cause, (ValueError, TypeError)):
                raise
            name = (choices or {}).get(group) or str(OmegaConf.select(cfg, f"{group}._target_")).rsplit(".", 1)[-1]
            raise ConfigError(f"{group}={name}: {str(cause).splitlines()[0]}") from None
