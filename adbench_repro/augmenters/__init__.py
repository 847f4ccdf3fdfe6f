"""Pseudo-anomaly generators: one module per generator, all following :class:`base.Augmenter`.

``REGISTRY`` maps each config name (``conf/augmenter/<name>.yaml``) to its class.
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
from .none import NoAugmenter
from .npos import NPOS
from .rosas import RoSAS
from .uniform import Uniform

REGISTRY: dict[str, type[Augmenter]] = {
    "none": NoAugmenter,
    "mixup": Mixup,
    "cutout": Cutout,
    "cutmix": CutMix,
    "gaussian_noise": GaussianNoise,
    "nng_mix": NNGMix,
    "cutout_gn": CutoutGN,
    "cutmix_gn": CutMixGN,
    "npos": NPOS,
    "rosas": RoSAS,
    "uniform": Uniform,
}

__all__ = [
    "Augmenter",
    "CutMix",
    "CutMixGN",
    "Cutout",
    "CutoutGN",
    "GaussianNoise",
    "Mixup",
    "NNGMix",
    "NoAugmenter",
    "NPOS",
    "REGISTRY",
    "RoSAS",
    "Uniform",
]
