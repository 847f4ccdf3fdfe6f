"""Expand named dataset lists in a multirun: ``dataset=classical`` -> the Classical datasets present.

A family name (``classical``, ``cv``, ``nlp``) stands for the datasets of that family whose file
exists under the data root; the missing ones are reported (a warning, not an error). ``glob(...)``
keeps Hydra's meaning (every dataset id it matches) but never matches a family name. Explicit ids
pass through unchanged, so ``dataset=classical,20news_3`` mixes a family with one dataset.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, Glob, Override

from ..datasets.catalog import FAMILIES, all_datasets
from ..datasets.loader import dataset_path

log = logging.getLogger(__name__)


def expand_dataset_value(values: list[str], root: str | Path) -> tuple[list[str], dict[str, list[str]]]:
    """Dataset ids for override ``values`` (family names expanded to the present datasets).

    Returns ``(ids, missing)`` where ``missing`` maps each family used to its absent ids. Order is
    kept and duplicates dropped. A family with no dataset present raises ``ValueError``.
    """
    ids: list[str] = []
    missing: dict[str, list[str]] = {}
    for value in values:
        if value in FAMILIES:
            present = [n for n in FAMILIES[value] if dataset_path(n, root).is_file()]
            missing[value] = [n for n in FAMILIES[value] if n not in present]
            if not present:
                raise ValueError(
                    f"dataset={value}: no dataset of family {value!r} is present under data root {root!s} "
                    f"(set data.root or ADBENCH_DATA, or run `make data`)"
                )
            ids.extend(present)
        else:
            ids.append(value)
    return list(dict.fromkeys(ids)), missing


def _override_values(override: Override) -> list[str]:
    value = override.value()
    if isinstance(value, Glob):
        return value.filter([d.name for d in all_datasets()])
    if isinstance(value, ChoiceSweep):
        return [str(v) for v in value.list]
    if isinstance(value, str):
        return [value]
    raise ValueError(f"dataset override {override.input_line!r}: expected a dataset id, a family "
                     f"({', '.join(FAMILIES)}), a comma list or glob(...)")


def rewrite_dataset_override(arguments: list[str], root: str | Path) -> list[str]:
    """``arguments`` with the ``dataset=...`` override rewritten as an explicit comma list of ids.

    Only the plain group override ``dataset=`` is touched; everything else is returned as is.
    """
    parser = OverridesParser.create()
    out = []
    for arg in arguments:
        override = parser.parse_override(arg)
        if override.get_key_element() != "dataset" or override.is_delete() or override.is_add():
            out.append(arg)
            continue
        ids, missing = expand_dataset_value(_override_values(override), root)
        for family, absent in missing.items():
            if absent:
                log.warning("dataset=%s: %d of %d datasets are not under %s and are left out: %s", family,
                            len(absent), len(FAMILIES[family]), root, ", ".join(absent))
        out.append("dataset=" + ",".join(ids))
    return out
