"""How many pseudo-anomalies a run generates: the one owner of that count.

The paper's budget is ``multiplier`` x the kept labeled anomalies (Sec. IV-C2, Fig. 3a). At 1 % labels that is a
few to a few dozen rows, 0.1-4 % of the training rows, which a tree ensemble may not notice. Beyond the paper
(issue 31, item 6) ``budget.fraction_of_train`` sets the count as a share of the training rows instead::

    n_generated = floor(fraction_of_train x n_train + 0.5)        # rounded half up

where ``n_train`` is the rows the detector trains on before augmentation: the unlabeled rows plus the kept
labeled anomalies (after ``keep``, the drop of unkept labeled anomalies and ``pollution``). The multiplier is
then ignored, and hashed as 0, as it is for an augmenter that generates nothing (``uses_n`` false: ``none``).

Config hash: ``budget`` enters the result config (:func:`hashed_budget`) only when a fraction is set and the
augmenter generates rows, so every configuration made before the option existed (``fraction_of_train: null``)
keeps its hash, and a Baseline run is shared by every budget.
"""

from __future__ import annotations

import math

from omegaconf import DictConfig

#: the key under ``budget`` (``budget.fraction_of_train=0.1``)
FRACTION_KEY = "fraction_of_train"


def augmenter_uses_n(cfg: DictConfig) -> bool:
    """Whether the configured augmenter generates the number of rows asked for (its class's ``uses_n``)."""
    from hydra.utils import get_class

    return bool(getattr(get_class(str(cfg.augmenter._target_)), "uses_n", True))


def fraction_of_train(cfg: DictConfig) -> float | None:
    """``budget.fraction_of_train`` of ``cfg`` as a float, or None when unset (the paper's multiplier)."""
    budget = cfg.get("budget") or {}
    value = budget.get(FRACTION_KEY) if hasattr(budget, "get") else None
    return None if value is None else float(value)


def effective_multiplier(cfg: DictConfig) -> int:
    """``cfg.multiplier``, or 0 when it cannot matter: the augmenter ignores the count (``uses_n`` false) or a
    training-row budget is set."""
    if not augmenter_uses_n(cfg) or fraction_of_train(cfg) is not None:
        return 0
    return int(cfg.multiplier)


def hashed_budget(cfg: DictConfig) -> dict:
    """The budget's part of the result config: ``{"budget": {"fraction_of_train": f}}`` when a fraction is set
    and the augmenter generates rows, else ``{}`` (so earlier configurations keep their hash)."""
    f = fraction_of_train(cfg)
    if f is None or not augmenter_uses_n(cfg):
        return {}
    return {"budget": {FRACTION_KEY: f}}


def count_from_fraction(fraction: float, n_train: int) -> int:
    """``fraction`` of ``n_train`` rows, rounded half up (``floor(fraction x n_train + 0.5)``)."""
    return int(math.floor(float(fraction) * int(n_train) + 0.5))


def pseudo_anomaly_count(cfg: DictConfig, n_labeled: int, n_train: int) -> int:
    """How many pseudo-anomalies the run asks its augmenter for: ``multiplier x n_labeled`` (the paper), or
    :func:`count_from_fraction` of ``n_train`` (unlabeled rows + kept labeled anomalies) with
    ``budget.fraction_of_train``; 0 for an augmenter that generates nothing."""
    if not augmenter_uses_n(cfg):
        return 0
    f = fraction_of_train(cfg)
    return count_from_fraction(f, n_train) if f is not None else effective_multiplier(cfg) * int(n_labeled)
