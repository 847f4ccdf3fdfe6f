"""``cutmix``: a labeled anomaly whose feature block is pasted from another anomaly (paper Eq. 3, Yun et al. 2019).

For each sample: ``a1`` uniform from ``A`` and ``a2 != a1`` uniform from ``A``; block length
``L = max(1, int(r * d))`` with ``r ~ U(r_low, r_high)`` (as for cutout); the block starts at a
uniform position ``s`` in ``0..d-L`` (always whole, never clipped). Columns ``[s, s+L)`` of the
copy of ``a1`` are replaced by a same-length block of ``a2``:

- ``block_source="same"`` (default, paper Eq. 3 ``d = m*a1 + (1-m)*a2``): ``a2``'s columns ``[s, s+L)``;
- ``block_source="random"``: ``a2``'s columns ``[s2, s2+L)`` at an independent uniform ``s2``
  (how the authors' code pastes the block).

Edge cases: ``n == 0`` -> ``(0, d)``; ``n_a == 0`` with ``n > 0`` -> ValueError. ``n_a == 1``: no
other anomaly exists, so ``a2 = a1`` (documented degenerate case: with ``block_source="same"``
every sample equals the single anomaly). ``d == 1``: ``L = 1``, the sample is ``a2``'s value.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from ._sampling import block_lengths, block_mask, other_index
from .base import Augmenter
from .cutout import check_ratio_range

BLOCK_SOURCES = ("same", "random")


def cutmix_samples(
    A: np.ndarray, n: int, rng: np.random.Generator, r_low: float, r_high: float, block_source: str
) -> np.ndarray:
    """``n`` cutmix samples from the rows of ``A`` (the rule in the module docstring)."""
    d = A.shape[1]
    first = rng.integers(len(A), size=n)
    second = other_index(rng, first, len(A)) if len(A) >= 2 else first
    length = block_lengths(rng, n, d, r_low, r_high)
    start = rng.integers(d - length + 1)  # one draw per sample, upper bound per sample
    mask = block_mask(start, start + length, d)
    out = A[first]
    if block_source == "same":
        out[mask] = A[second][mask]
    else:
        source_start = rng.integers(d - length + 1)
        shift = (source_start - start)[:, None]
        cols = np.clip(np.arange(d)[None, :] + shift, 0, d - 1)
        pasted = A[second[:, None], cols]
        out[mask] = pasted[mask]
    return out


class CutMix(Augmenter):
    """CutMix between two different labeled anomalies."""

    name = "cutmix"

    def __init__(self, r_low: float = 0.1, r_high: float = 0.3, block_source: str = "same") -> None:
        self.r_low = r_low
        self.r_high = r_high
        self.block_source = block_source
        self._check_params()

    def _check_params(self) -> None:
        check_ratio_range(self.r_low, self.r_high)
        _checks.choice("block_source", self.block_source, BLOCK_SOURCES)

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` cutmix samples (see the module docstring)."""
        return cutmix_samples(A, n, rng, float(self.r_low), float(self.r_high), self.block_source)
