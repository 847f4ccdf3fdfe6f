"""Anomaly detectors behind one protocol (:class:`~adbench_repro.detectors.base.Detector`)."""

from .base import Detector
from .catboost import CatBoostDetector
from .deepsad import DeepSAD
from .fttransformer import FTTransformerDetector
from .mlp import MLPDetector
from .pyod_adapter import PyODDetector
from .xgbod import XGBODDetector

#: detector name (as in ``conf/detector/<name>.yaml``) -> class
REGISTRY: dict[str, type[Detector]] = {
    "mlp": MLPDetector,
    "catboost": CatBoostDetector,
    "xgbod": XGBODDetector,
    "deepsad": DeepSAD,                # ADBench's code behaviour (the paper's numbers)
    "deepsad_pretrained": DeepSAD,     # Deep SAD as stated: pretrained encoder, lr 1e-3
    "fttransformer": FTTransformerDetector,
    "pyod": PyODDetector,
}

__all__ = ["Detector", "REGISTRY", "CatBoostDetector", "DeepSAD", "FTTransformerDetector", "MLPDetector",
           "PyODDetector", "XGBODDetector"]
