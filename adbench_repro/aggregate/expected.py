"""Which config hashes a study needs: compose each expanded configuration with Hydra and hash it.

A run belongs to a study exactly when its ``config_hash`` tag equals the hash of one of the study's
configurations composed from the current ``conf/`` (so a run made with other defaults, e.g. another
detector setting, never enters a table). One hash may stand for several configurations (Fig. 5's k=10,
sigma=0.01 and alpha=0.2 are all the default NNG-Mix), so the map is hash -> list of configurations.
"""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

from omegaconf import OmegaConf

from ..confighash import config_hash
from ..overrides import override_key
from ..studies import Study, expand, to_override_list

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
#: composing only needs the job config: Hydra's own sweeper/launcher (plugins) are replaced by the basic ones
HYDRA_NEUTRAL = ("hydra/sweeper=basic", "hydra/launcher=basic")


class ComposeError(RuntimeError):
    """A study configuration cannot be composed from ``conf/``."""


def expected_configs(study: Study, conf_dir: str | Path = CONF_DIR,
                     extra_overrides: tuple[str, ...] | list[str] = ()) -> dict[str, list[dict]]:
    """``{config_hash: [configuration, ...]}`` for every configuration of ``study`` (full, not quick).

    ``extra_overrides`` are added to every configuration, as ``reproduce`` does with its trailing
    overrides (e.g. ``protocol.duplicate_small=false``; ``device=cuda`` does not change a hash).
    """
    extra = list(extra_overrides)
    bad = [o for o in extra if override_key(o) in ("dataset", "seed")]
    if bad:
        raise ValueError(f"extra overrides {bad}: dataset and seed come from the study, not from overrides")
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    conf_dir = Path(conf_dir).resolve()
    configs = expand(study)
    # Compose once per configuration without dataset/seed, then set those two: they only select the
    # dataset file (whose `name` enters the hash) and the seed.
    groups: dict[tuple, list[dict]] = {}
    for c in configs:
        key = tuple(o for o in to_override_list(c) if not o.startswith(("dataset=", "seed=")))
        groups.setdefault(key, []).append(c)
    out: dict[str, list[dict]] = {}
    was_initialised = GlobalHydra.instance().is_initialized()
    if was_initialised:  # e.g. inside a Hydra app: compose in a fresh context, restore nothing we need
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        dataset_cfgs: dict[str, object] = {}
        for overrides, members in groups.items():
            first = members[0]
            try:
                base = compose(config_name="config",
                               overrides=[*HYDRA_NEUTRAL, f"dataset={first['dataset']}", *overrides, *extra])
            except Exception as exc:  # noqa: BLE001 - re-raised with the study and overrides named
                raise ComposeError(f"study {study.name!r}: cannot compose {' '.join([*overrides, *extra])} from {conf_dir}: "
                                   f"{exc}") from exc
            for c in members:
                cfg = deepcopy(base)
                if c["dataset"] not in dataset_cfgs:
                    path = conf_dir / "dataset" / f"{c['dataset']}.yaml"
                    if not path.is_file():
                        raise ComposeError(f"study {study.name!r}: no dataset config {path}")
                    dataset_cfgs[c["dataset"]] = OmegaConf.load(path)
                OmegaConf.set_struct(cfg, False)
                cfg.dataset = deepcopy(dataset_cfgs[c["dataset"]])
                cfg.seed = int(c["seed"])
                out.setdefault(config_hash(cfg), []).append(c)
    return out
