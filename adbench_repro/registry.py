"""Config name -> class, discovered from the YAMLs' ``_target_`` (``conf/<group>/<name>.yaml``): no list to edit.

A new generator is ``adbench_repro/augmenters/<name>.py`` plus ``conf/augmenter/<name>.yaml`` whose
``_target_`` names its class; a new detector the same under ``detectors/``. The registries of
:mod:`adbench_repro.augmenters` and :mod:`adbench_repro.detectors` are built from those files on first use.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from . import CONF_DIR


class RegistryError(ImportError):
    """A config whose ``_target_`` is missing or cannot be imported; the message names the file."""


def discover(group: str, base: type, conf_dir: Path | str = CONF_DIR) -> dict[str, type]:
    """``{name: class}`` for every ``conf/<group>/*.yaml``, each ``_target_`` imported and checked to be a
    subclass of ``base``."""
    from hydra.utils import get_class

    out: dict[str, type] = {}
    for path in sorted((Path(conf_dir) / group).glob("*.yaml")):
        target = (yaml.safe_load(path.read_text()) or {}).get("_target_")
        if not target:
            raise RegistryError(f"{path}: no _target_ (the class this {group} config builds)")
        try:
            cls = get_class(str(target))
        except Exception as exc:  # noqa: BLE001 - Hydra wraps the import error; keep its first line
            raise RegistryError(f"{path}: _target_ {target} cannot be imported: {str(exc).splitlines()[0]}") from None
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise RegistryError(f"{path}: _target_ {target} is not a subclass of {base.__module__}.{base.__name__}")
        out[path.stem] = cls
    return out
