"""The hash of the part of a configuration that determines a run's result.

Resume and de-duplication key on it: paths (``data.root``), tracking settings, launcher settings,
``device``, ``threads`` and ``force`` are excluded; the dataset id, label ratio, augmenter (target
and every parameter), effective multiplier, detector (target and every parameter), seed and
protocol are included; ``protocol.split`` only when it is not its default ``adbench``, so the
configurations made before that option existed keep their hash. An augmenter class that ignores the number of samples asked for
(``Augmenter.uses_n = False``: ``none``) makes the multiplier irrelevant, so it is hashed as 0: a
baseline run is shared by every study that needs it. ``budget.fraction_of_train`` (beyond the paper,
:mod:`.budget`) enters only when set for an augmenter that generates rows; the multiplier is then hashed as 0.
"""

from __future__ import annotations

import hashlib
import json

from omegaconf import DictConfig, OmegaConf

from .budget import effective_multiplier, hashed_budget  # noqa: F401 - the count's owner (.budget); re-exported




# protocol keys added after runs were committed, with the value they had implicitly: left out of the
# hash at that value, so every earlier configuration hashes as before
PROTOCOL_DEFAULTS_OUT_OF_HASH = {"split": "adbench"}


def result_config(cfg: DictConfig) -> dict:
    """The result-determining subset of ``cfg``, resolved, as plain data."""
    protocol = OmegaConf.to_container(cfg.protocol, resolve=True)
    for key, default in PROTOCOL_DEFAULTS_OUT_OF_HASH.items():
        if protocol.get(key) == default:
            del protocol[key]
    return {
        "dataset": str(cfg.dataset.name),
        "label_ratio": OmegaConf.to_container(cfg.label_ratio, resolve=True),
        "augmenter": OmegaConf.to_container(cfg.augmenter, resolve=True),
        "multiplier": effective_multiplier(cfg),
        "detector": OmegaConf.to_container(cfg.detector, resolve=True),
        "seed": int(cfg.seed),
        "protocol": protocol,
        **hashed_budget(cfg),
    }


def _norm(x):
    if isinstance(x, dict):
        return {str(k): _norm(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_norm(v) for v in x]
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, (int, float)):
        return float(x)  # 1 and 1.0 hash alike
    return str(x)


def hash_of(config: dict) -> str:
    """16 hex digits of SHA-256 over a result config (floats normalised, keys sorted)."""
    blob = json.dumps(_norm(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def canonical_json(config: dict) -> str:
    """A result config as compact JSON with sorted keys (types kept: it instantiates the components again)."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(cfg: DictConfig) -> str:
    """:func:`hash_of` the result config of ``cfg`` (:func:`result_config`)."""
    return hash_of(result_config(cfg))
