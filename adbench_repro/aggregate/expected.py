"""Which config hashes a study needs: each expanded configuration composed and hashed (:mod:`..plan`).

A run belongs to a study exactly when its ``config_hash`` tag equals the hash of one of the study's
configurations composed from the current ``conf/`` (so a run made with other defaults, e.g. another
detector setting, never enters a table). One hash may stand for several configurations (Fig. 5's k=10,
sigma=0.01 and alpha=0.2 are all the default NNG-Mix), so the map is hash -> list of configurations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .. import CONF_DIR
from ..plan import HYDRA_NEUTRAL, ComposeError, by_hash, compose
from ..studies import Study, expand

__all__ = ["CONF_DIR", "HYDRA_NEUTRAL", "ComposeError", "config_hashes", "expected_configs"]


def expected_configs(study: Study, conf_dir: str | Path = CONF_DIR,
                     extra_overrides: tuple[str, ...] | list[str] = (),
                     keep: Callable[[dict], bool] | None = None) -> dict[str, list[dict]]:
    """``{config_hash: [configuration, ...]}`` for every configuration of ``study`` (full, not quick), or for
    those that ``keep`` accepts.

    ``extra_overrides`` are added to every configuration, as ``reproduce`` does with its trailing
    overrides (e.g. ``protocol.duplicate_small=false``; ``device=cuda`` does not change a hash).
    """
    configs = [c for c in expand(study) if keep is None or keep(c)]
    return by_hash(configs, compose(configs, conf_dir, extra_overrides, study.name))


def config_hashes(configs: list[dict], conf_dir: str | Path = CONF_DIR,
                  extra_overrides: tuple[str, ...] | list[str] = (), what: str = "") -> list[str]:
    """The config hash of each expanded configuration (:func:`studies.expand`), exactly as the runner
    would compute it, plus ``extra_overrides``; ``what`` names the study in errors."""
    return [p.config_hash for p in compose(configs, conf_dir, extra_overrides, what)]
