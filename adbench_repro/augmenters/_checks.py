"""Constructor-side validation of augmenter hyperparameters (clear messages naming the key)."""

from __future__ import annotations

import numbers
from collections.abc import Iterable


def choice(name: str, value: object, options: Iterable[str]) -> str:
    """``value`` must be one of ``options``."""
    options = tuple(options)
    if value not in options:
        raise ValueError(f"{name} must be one of {'|'.join(options)}, got {value!r}")
    return str(value)


def integer(name: str, value: object, minimum: int) -> int:
    """An int (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def real(name: str, value: object, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number inside ``[low, high]`` (ends open when ``*_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    v = float(value)
    bad = v != v or v in (float("inf"), float("-inf"))
    if low is not None:
        bad = bad or (v <= low if low_open else v < low)
    if high is not None:
        bad = bad or (v >= high if high_open else v > high)
    if bad:
        lo = "-inf" if low is None else f"{low}"
        hi = "inf" if high is None else f"{high}"
        interval = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return v


def boolean(name: str, value: object) -> bool:
    """A real bool (Hydra gives ``true``/``false`` as bool)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be true or false, got {value!r}")
    return value
