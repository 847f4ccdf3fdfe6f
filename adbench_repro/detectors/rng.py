"""Run third-party code that draws from global RNGs without leaking or depending on their state."""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import torch


@contextlib.contextmanager
def seeded_global_rngs(seed: int) -> Iterator[None]:
    """Seed numpy's and torch's (CPU) global RNGs for the block, restore them afterwards.

    Some library detectors (many pyod ones, XGBOD's internals) draw from ``np.random`` instead of
    taking a generator; this makes them reproducible for a seed and invisible to the caller.
    """
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        np.random.set_state(state)
