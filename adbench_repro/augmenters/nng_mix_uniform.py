"""``nng_mix_uniform``: NNG-Mix and uniform pseudo-anomalies, a share of each (beyond the paper, issue 22).

Of the ``n`` samples asked for, ``n_u = round(uniform_share * n)`` are :mod:`.uniform` points in the bounding
box of ``A u H`` (widened by ``margin``) and the other ``n - n_u`` are :mod:`.nng_mix` samples with
``alpha``, ``k`` and ``sigma`` (every other NNG-Mix setting at its default). The NNG-Mix block comes first,
then the uniform block; both draw from the one ``rng``, in that order. Default ``uniform_share = 0.5``: half of
each, the combination of 2506.13955's uniform synthetic anomalies with NNG-Mix.

Edge cases: ``n == 0`` -> ``(0, d)``; no labeled anomaly with ``n > 0`` -> ValueError (NNG-Mix needs one,
even when ``uniform_share`` would leave it nothing to make: the generator's needs do not depend on ``n``);
``uniform_share = 1`` is :mod:`.uniform` alone, ``0`` is NNG-Mix alone; otherwise as for the two parts.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .base import Augmenter
from .nng_mix import NNGMix
from .uniform import Uniform


class NNGMixUniform(Augmenter):
    """NNG-Mix samples and uniform bounding-box samples, ``uniform_share`` of them uniform."""

    name = "nng_mix_uniform"
    min_anomalies = 1

    def __init__(self, uniform_share: float = 0.5, alpha: float = 0.2, k: int = 10, sigma: float = 0.01,
                 margin: float = 0.0) -> None:
        self.uniform_share = uniform_share
        self.alpha = alpha
        self.k = k
        self.sigma = sigma
        self.margin = margin
        self._check_params()

    def _check_params(self) -> None:
        _checks.real("uniform_share", self.uniform_share, low=0.0, high=1.0)
        self._parts()  # NNG-Mix's and uniform's own checks name the key at fault

    def _parts(self) -> tuple[NNGMix, Uniform]:
        return NNGMix(alpha=self.alpha, k=self.k, sigma=self.sigma), Uniform(margin=self.margin)

    def split(self, n: int) -> tuple[int, int]:
        """``(n_nng_mix, n_uniform)`` for ``n`` samples."""
        n_u = int(round(float(self.uniform_share) * n))
        return n - n_u, n_u

    def _generate(self, A: np.ndarray, H: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """The NNG-Mix block, then the uniform block (see the module docstring)."""
        nng, uni = self._parts()
        n_nng, n_u = self.split(n)
        return np.concatenate([nng.generate(A, H, n_nng, rng), uni.generate(A, H, n_u, rng)])
