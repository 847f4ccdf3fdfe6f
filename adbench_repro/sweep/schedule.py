"""Job order for a worker pool: longest jobs first, so that no long job starts last on an idle pool.

With W workers and jobs of very different lengths (an XGBOD run on a 10,000-row dataset takes ~100x
an MLP run on 200 rows), launching in sweep order can leave one worker busy with a long job while
the others have nothing left to do. Starting the longest jobs first (LPT scheduling) bounds that
tail. The cost used is a rough a-priori estimate, not a measurement: a per-detector weight times
the number of rows the split keeps (ADBench caps a dataset at 10,000) times sqrt(features). Order
never changes a result: every run is seeded by its own configuration.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from ..datasets.catalog import PUBLISHED_SIZE
from ..overrides import override_key

#: relative cost of one run per detector class (measured on 2 CPU cores, 19_landsat, README table)
DETECTOR_WEIGHT = {"mlp": 1.0, "catboost": 2.0, "deepsad": 3.0, "xgbod": 9.0, "fttransformer": 900.0}
#: ADBench keeps at most this many rows of a dataset
MAX_ROWS = 10_000


def cost(dataset: str, detector: str) -> float:
    """A-priori relative cost of one run of ``detector`` (a config or class name, matched by prefix)
    on ``dataset`` (unknown names count as average)."""
    det = detector.rsplit(".", 1)[-1].lower()
    weight = next((w for name, w in DETECTOR_WEIGHT.items() if det.startswith(name)), 2.0)
    n, d, _ = PUBLISHED_SIZE.get(dataset, (2000, 20, 0.0))
    return weight * min(n, MAX_ROWS) * math.sqrt(max(d, 1))


def estimated_cost(cfg: Any) -> float:
    """:func:`cost` of a composed config (its dataset name and detector class)."""
    return cost(str(cfg.get("dataset", {}).get("name", "")), str(cfg.get("detector", {}).get("_target_", "")))


def job_cost(job: Sequence[str], defaults: Mapping[str, str]) -> float:
    """:func:`cost` of a job from its overrides (``dataset=``, ``detector=``), ``defaults`` otherwise."""
    values = dict(defaults)
    for token in job:
        key = override_key(token)
        if key in ("dataset", "detector"):
            values[key] = token.partition("=")[2]
    return cost(values.get("dataset", ""), values.get("detector", ""))


def longest_first(costs: Sequence[float]) -> list[int]:
    """Indices by decreasing cost (ties keep sweep order)."""
    return sorted(range(len(costs)), key=lambda i: (-costs[i], i))
