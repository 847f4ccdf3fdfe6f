"""Anomaly detectors behind one protocol (:class:`~adbench_repro.detectors.base.Detector`); ``REGISTRY`` is read
from ``conf/detector/*.yaml``, so a new detector is one module plus one YAML (docs/extending.md)."""

from .base import Detector
from .catboost import CatBoostDetector
from .deepsad import DeepSAD
from .fttransformer import FTTransformerDetector
from .mlp import MLPDetector
from .pyod_adapter import PyODDetector
from .xgbod import XGBODDetector


def __getattr__(name: str):
    """``REGISTRY``: config name -> class, discovered from ``conf/detector/*.yaml`` (see :mod:`..registry`);
    ``deepsad`` and ``deepsad_pretrained`` are two configs of one class."""
    if name == "REGISTRY":
        from ..registry import discover

        return discover("detector", Detector)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Detector", "REGISTRY", "CatBoostDetector", "DeepSAD", "FTTransformerDetector", "MLPDetector",
           "PyODDetector", "XGBODDetector"]
