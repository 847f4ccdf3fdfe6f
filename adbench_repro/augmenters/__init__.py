"""Pseudo-anomaly generators: one module per generator, all following :class:`base.Augmenter`.

``REGISTRY`` maps each config name (``conf/augmenter/<name>.yaml``) to its class; it is read from the YAMLs'
``_target_``, so a new generator is one module plus one YAML (docs/extending.md).
"""

from __future__ import annotations

from .base import Augmenter
from .cutmix import CutMix
from .cutmix_gn import CutMixGN
from .cutout import Cutout
from .cutout_gn import CutoutGN
from .gaussian_noise import GaussianNoise
from .mixup import Mixup
from .nng_mix import NNGMix
from .nng_mix_uniform import NNGMixUniform
from .none import NoAugmenter
from .npos import NPOS
from .rosas import RoSAS
from .uniform import Uniform


def __getattr__(name: str):
    """``REGISTRY``: config name -> class, discovered from ``conf/augmenter/*.yaml`` (see :mod:`..registry`)."""
    if name == "REGISTRY":
        from ..registry import discover

        return discover("augmenter", Augmenter)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Augmenter",
    "CutMix",
    "CutMixGN",
    "Cutout",
    "CutoutGN",
    "GaussianNoise",
    "Mixup",
    "NNGMix",
    "NNGMixUniform",
    "NoAugmenter",
    "NPOS",
    "REGISTRY",
    "RoSAS",
    "Uniform",
]
