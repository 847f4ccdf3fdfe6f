"""Planning: each configuration composed and hashed once, for reproduce, the aggregator and the sweeper.

A configuration is a dict of Hydra overrides (:func:`studies.expand`) or an override list (a sweep's job).
:func:`compose` turns configurations into :class:`Planned` entries (config hash and result config, the
plain data that is hashed); configurations that differ only in ``dataset`` and ``seed`` are composed once,
then the dataset node is read from ``conf/dataset/<id>.yaml`` and the seed set, so thousands of
configurations take seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from omegaconf import OmegaConf

from . import CONF_DIR
from .confighash import canonical_json, config_hash, result_config

#: composing only needs the job config: Hydra's own sweeper/launcher (plugins) are replaced by the basic ones
HYDRA_NEUTRAL = ("hydra/sweeper=basic", "hydra/launcher=basic")


class ComposeError(RuntimeError):
    """A configuration cannot be composed from ``conf/``."""


@dataclass(frozen=True)
class Planned:
    """One configuration as the runner will see it: its config hash and result config (JSON)."""

    config_hash: str
    config_json: str

    @property
    def config(self) -> dict:
        return json.loads(self.config_json)


def override_key(token: str) -> str:
    """The key of a Hydra override token: ``+a.b=1`` -> ``a.b``, ``~x`` -> ``x``, ``a@pkg=b`` -> ``a@pkg``."""
    return token.split("=", 1)[0].lstrip("+~")


def _overrides(config: dict | Sequence[str]) -> list[str]:
    if isinstance(config, dict):
        from .studies import to_override_list

        return to_override_list(config)
    return list(config)


def compose(configs: Sequence[dict | Sequence[str]], conf_dir: str | Path = CONF_DIR,
            extra_overrides: Sequence[str] = (), what: str = "",
            composer: Callable[[list[str]], object] | None = None) -> list[Planned]:
    """The :class:`Planned` entry of each configuration, exactly as the runner computes its hash.

    ``extra_overrides`` apply to every configuration (as ``reproduce``'s trailing overrides); ``what`` names
    the study in errors; ``composer(overrides)`` composes one job's config (a sweeper passes Hydra's own
    loader); None composes from ``conf_dir`` with Hydra's compose API.
    """
    extra = list(extra_overrides)
    bad = [o for o in extra if override_key(o) in ("dataset", "seed")]
    if bad:
        raise ValueError(f"extra overrides {bad}: dataset and seed come from the study, not from overrides")
    conf_dir = Path(conf_dir).resolve()
    prefix = f"study {what!r}: " if what else ""
    jobs = [_overrides(c) + extra for c in configs]
    groups: dict[tuple, list[int]] = {}
    for i, job in enumerate(jobs):  # a job without a seed (or dataset) keeps the composed default: its own group
        key = (tuple(t for t in job if override_key(t) not in ("dataset", "seed")),
               any(t.startswith("dataset=") for t in job), any(t.startswith("seed=") for t in job))
        groups.setdefault(key, []).append(i)
    out: list[Planned | None] = [None] * len(jobs)

    def run(compose_one: Callable[[list[str]], object]) -> None:
        dataset_nodes: dict[str, object] = {}
        for members in groups.values():
            base = None
            for i in members:
                job = jobs[i]
                ds = next((t.split("=", 1)[1] for t in job if t.startswith("dataset=")), None)
                seed = next((t.split("=", 1)[1] for t in job if t.startswith("seed=")), None)
                path = conf_dir / "dataset" / f"{ds}.yaml" if ds else None
                if path is None or not path.is_file() or (seed is not None and not seed.lstrip("-").isdigit()):
                    if ds and path is not None and not path.is_file() and composer is None:
                        raise ComposeError(f"{prefix}no dataset config {path}")
                    cfg = _compose_one(compose_one, job, prefix, conf_dir)
                    out[i] = _planned(cfg)
                    continue
                if base is None:
                    base = _compose_one(compose_one, job, prefix, conf_dir)
                    OmegaConf.set_struct(base, False)
                if ds not in dataset_nodes:
                    dataset_nodes[ds] = OmegaConf.load(path)
                base.dataset = dataset_nodes[ds]
                if seed is not None:
                    base.seed = int(seed)
                out[i] = _planned(base)

    if composer is not None:
        run(composer)
        return out  # type: ignore[return-value]
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():  # e.g. inside a Hydra app: compose in a fresh context
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        run(lambda job: hydra_compose(config_name="config", overrides=[*HYDRA_NEUTRAL, *job]))
    return out  # type: ignore[return-value]


def _compose_one(compose_one, job: list[str], prefix: str, conf_dir: Path):
    try:
        return compose_one(job)
    except Exception as exc:  # noqa: BLE001 - re-raised with the study and overrides named
        raise ComposeError(f"{prefix}cannot compose {' '.join(job)} from {conf_dir}: {exc}") from exc


def _planned(cfg) -> Planned:
    return Planned(config_hash(cfg), canonical_json(result_config(cfg)))


def by_hash(configs: list[dict], planned: list[Planned]) -> dict[str, list[dict]]:
    """``{config_hash: [configuration, ...]}`` (one hash may stand for several configurations, e.g. Fig. 5's
    default k, sigma and alpha are all the default NNG-Mix)."""
    out: dict[str, list[dict]] = {}
    for p, c in zip(planned, configs):
        out.setdefault(p.config_hash, []).append(c)
    return out
