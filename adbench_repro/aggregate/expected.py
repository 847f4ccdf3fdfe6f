"""Which config hashes a study needs: compose each expanded configuration with Hydra and hash it.

A run belongs to a study exactly when its ``config_hash`` tag equals the hash of one of the study's
configurations composed from the current ``conf/`` (so a run made with other defaults, e.g. another
detector setting, never enters a table). One hash may stand for several configurations (Fig. 5's k=10,
sigma=0.01 and alpha=0.2 are all the default NNG-Mix), so the map is hash -> list of configurations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from omegaconf import OmegaConf

from .. import CONF_DIR
from ..confighash import config_hash
from ..overrides import override_key
from ..studies import Study, expand, to_override_list

#: composing only needs the job config: Hydra's own sweeper/launcher (plugins) are replaced by the basic ones
HYDRA_NEUTRAL = ("hydra/sweeper=basic", "hydra/launcher=basic")


class ComposeError(RuntimeError):
    """A study configuration cannot be composed from ``conf/``."""


def expected_configs(study: Study, conf_dir: str | Path = CONF_DIR,
                     extra_overrides: tuple[str, ...] | list[str] = (),
                     keep: Callable[[dict], bool] | None = None) -> dict[str, list[dict]]:
    """``{config_hash: [configuration, ...]}`` for every configuration of ``study`` (full, not quick), or for
    those that ``keep`` accepts.

    ``extra_overrides`` are added to every configuration, as ``reproduce`` does with its trailing
    overrides (e.g. ``protocol.duplicate_small=false``; ``device=cuda`` does not change a hash).
    """
    configs = [c for c in expand(study) if keep is None or keep(c)]
    out: dict[str, list[dict]] = {}
    for h, c in zip(config_hashes(configs, conf_dir, extra_overrides, study.name), configs):
        out.setdefault(h, []).append(c)
    return out


def config_hashes(configs: list[dict], conf_dir: str | Path = CONF_DIR,
                  extra_overrides: tuple[str, ...] | list[str] = (), what: str = "") -> list[str]:
    """The config hash of each expanded configuration (:func:`studies.expand`), exactly as the runner
    would compute it, plus ``extra_overrides``; ``what`` names the study in errors.

    Composes once per configuration without dataset/seed, then sets those two: they only select the
    dataset file (whose ``name`` enters the hash) and the seed. A few seconds for thousands of configurations.
    """
    extra = list(extra_overrides)
    bad = [o for o in extra if override_key(o) in ("dataset", "seed")]
    if bad:
        raise ValueError(f"extra overrides {bad}: dataset and seed come from the study, not from overrides")
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    conf_dir = Path(conf_dir).resolve()
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(configs):
        key = tuple(o for o in to_override_list(c) if not o.startswith(("dataset=", "seed=")))
        groups.setdefault(key, []).append(i)
    out: list[str] = [""] * len(configs)
    if GlobalHydra.instance().is_initialized():  # e.g. inside a Hydra app: compose in a fresh context
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        dataset_cfgs: dict[str, object] = {}
        for overrides, members in groups.items():
            first = configs[members[0]]
            try:
                base = compose(config_name="config",
                               overrides=[*HYDRA_NEUTRAL, f"dataset={first['dataset']}", *overrides, *extra])
            except Exception as exc:  # noqa: BLE001 - re-raised with the study and overrides named
                raise ComposeError(f"{f'study {what!r}: ' if what else ''}cannot compose "
                                   f"{' '.join([*overrides, *extra])} from {conf_dir}: {exc}") from exc
            OmegaConf.set_struct(base, False)
            for i in members:
                c = configs[i]
                if c["dataset"] not in dataset_cfgs:
                    path = conf_dir / "dataset" / f"{c['dataset']}.yaml"
                    if not path.is_file():
                        raise ComposeError(f"{f'study {what!r}: ' if what else ''}no dataset config {path}")
                    dataset_cfgs[c["dataset"]] = OmegaConf.load(path)
                base.dataset = dataset_cfgs[c["dataset"]]
                base.seed = int(c["seed"])
                out[i] = config_hash(base)
    return out
