"""Output switches: settings that change what a run logs, never its result.

``validation.signals`` (the label-free signals, :mod:`.signals`) and ``validation.holdout`` (the held-out
signals, :mod:`.holdout`) are left out of the config hash (:func:`.confighash.result_config` does not read
``validation``), so a run made with or without them is the same configuration and keeps its hash. A request
for an output that older runs lack (the held-out signals) must still get it, so "done" depends on the request:
a configuration is done for a request with ``validation.holdout = h > 0`` only when its run was made with that
fraction (:func:`required`), read

* in the tracking store from the run's tag ``validation.holdout``, written when the run starts, so the lease
  judges RUNNING runs by it too (:func:`tags_satisfy`);
* in the committed store from the run's metric ``holdout_fraction`` (:func:`rows_satisfy`).

A request without held-out signals is satisfied by any run, with or without them (the default: nothing changes
for the runs made before the option existed).
"""

from __future__ import annotations

import math
from typing import Mapping

#: the run tag (tracking store) and the metric (committed store) that say which holdout fraction a run had
HOLDOUT_TAG = "validation.holdout"
HOLDOUT_METRIC = "holdout_fraction"
#: the output tags a run carries when it has the output (the lease reads them)
OUTPUT_TAGS = (HOLDOUT_TAG,)


def signals_enabled(cfg) -> bool:
    """Whether a run computes the label-free validation signals (``validation.signals``, default true)."""
    value = (cfg.get("validation") or {}).get("signals", True)
    if not isinstance(value, bool):
        raise ValueError(f"validation.signals must be true or false, got {value!r}")
    return value


def holdout_problem(value) -> str | None:
    """What is wrong with a ``validation.holdout`` value, or None (a number in [0, 1); 0 = off)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not 0 <= value < 1:
        return (f"validation.holdout={value} must be a number in [0, 1): the fraction of the training split held "
                "out for the held-out signals, 0 = off (docs/protocol.md); e.g. validation.holdout=0.2")
    return None


def holdout_fraction(cfg) -> float:
    """``validation.holdout`` of a run (default 0: no held-out signals)."""
    value = (cfg.get("validation") or {}).get("holdout", 0)
    problem = holdout_problem(value)
    if problem:
        raise ValueError(problem)
    return float(value)


def required(cfg) -> dict[str, str]:
    """The output tags a FINISHED run must carry to count as done for a request composed as ``cfg``:
    ``{"validation.holdout": "0.2"}`` with held-out signals asked for, else ``{}`` (any run will do)."""
    h = holdout_fraction(cfg)
    return {HOLDOUT_TAG: f"{h:g}"} if h > 0 else {}


def tags_satisfy(tags: Mapping[str, str], need: Mapping[str, str]) -> bool:
    """Whether a run with ``tags`` (tracking store) has the outputs ``need`` (:func:`required`)."""
    return all(tags.get(k) == v for k, v in need.items())


def rows_satisfy(rows, need: Mapping[str, str]):
    """Boolean Series: which committed-store rows have the outputs ``need`` (by their ``holdout_fraction``)."""
    import pandas as pd

    ok = pd.Series(True, index=rows.index)
    if HOLDOUT_TAG in need:
        col = f"metrics.{HOLDOUT_METRIC}"
        have = rows[col].astype(float) if col in rows.columns else pd.Series(float("nan"), index=rows.index)
        ok &= have == float(need[HOLDOUT_TAG])
    return ok
