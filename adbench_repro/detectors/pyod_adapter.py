"""Any pyod detector by class name, e.g. ``detector=pyod detector.name=IForest``."""

from __future__ import annotations

import importlib
import inspect
import warnings

import numpy as np
from omegaconf import OmegaConf

from .base import Detector
from .inputs import check_features, check_fit_inputs
from .rng import seeded_global_rngs

#: class name -> pyod.models module, where the module is not simply the lower-cased name
PYOD_MODULES: dict[str, str] = {
    "FeatureBagging": "feature_bagging", "SO_GAAL": "so_gaal", "MO_GAAL": "mo_gaal",
    "DeepSVDD": "deep_svdd", "AutoEncoder": "auto_encoder", "AnoGAN": "anogan", "LUNAR": "lunar",
    "SUOD": "suod", "INNE": "inne", "KDE": "kde", "Sampling": "sampling", "KPCA": "kpca",
    "CD": "cd", "GMM": "gmm", "QMCD": "qmcd", "ALAD": "alad", "DIF": "dif", "LMDD": "lmdd",
}
#: detectors that learn from the labels; every other pyod detector is fit on X alone
SUPERVISED = {"XGBOD"}
EXAMPLES = ["IForest", "KNN", "LOF", "OCSVM", "HBOS", "ECOD", "COPOD", "PCA", "LODA", "DeepSVDD", "XGBOD"]


def resolve_pyod_class(name: str) -> type:
    """The pyod detector class called ``name`` (from ``pyod.models.<module>``)."""
    module_name = PYOD_MODULES.get(name, str(name).lower())
    cls = None
    try:
        module = importlib.import_module(f"pyod.models.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"pyod.models.{module_name}":  # the module exists but needs a missing package
            raise ImportError(f"pyod: detector {name!r} needs the package {exc.name!r}, which is not installed") from exc
    except Exception as exc:  # noqa: BLE001 -- pyod modules fail on missing optional deps in various ways
        raise ImportError(f"pyod: detector {name!r} could not be imported from pyod.models.{module_name}: "
                          f"{type(exc).__name__}: {exc} (a missing optional dependency?)") from exc
    else:
        cls = getattr(module, name, None)
    if not (inspect.isclass(cls) and hasattr(cls, "decision_function") and hasattr(cls, "fit")):
        raise ValueError(f"pyod: setting `name` = {name!r} is not a pyod detector class "
                         f"(looked in pyod.models.{module_name}); valid names include {', '.join(EXAMPLES)}")
    return cls


class PyODDetector(Detector):
    """Wraps ``pyod.models.*.<name>(**kwargs)``; ``random_state=seed`` (and ``device``) are
    passed where the class accepts them. Score = ``decision_function``."""

    def __init__(self, name: str = "IForest", kwargs: dict | None = None, seed: int = 0, device: str = "cpu") -> None:
        super().__init__(seed=seed, device=device)
        self.detector_name = str(name)
        self.cls = resolve_pyod_class(self.detector_name)
        if OmegaConf.is_config(kwargs):
            kwargs = OmegaConf.to_container(kwargs, resolve=True)
        if kwargs is not None and not isinstance(kwargs, dict):
            raise TypeError(f"pyod: setting `kwargs` must be a mapping, got {type(kwargs).__name__}")
        self.kwargs = dict(kwargs or {})
        accepted = inspect.signature(self.cls.__init__).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
        unknown = [k for k in self.kwargs if k not in accepted and not takes_any]
        if unknown:
            raise ValueError(f"pyod: setting `kwargs` has {unknown} which {self.detector_name} does not accept "
                             f"(it takes {sorted(k for k in accepted if k != 'self')})")
        self._extra = {}
        if "random_state" in accepted and "random_state" not in self.kwargs:
            self._extra["random_state"] = seed
        if "device" in accepted and "device" not in self.kwargs:
            self._extra["device"] = device
        self.name = f"pyod.{self.detector_name}"
        self.model_ = None

    def fit(self, X, y=None) -> "PyODDetector":
        """Fit on ``X`` (and ``y`` for the supervised ones, e.g. XGBOD)."""
        supervised = self.detector_name in SUPERVISED
        if y is None and not supervised:
            X = check_features(X, self.name)
        else:
            X, y = check_fit_inputs(X, y, self.name, need_anomalies=supervised)
        model = self.cls(**self.kwargs, **self._extra)
        with seeded_global_rngs(self.seed), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="y should not be presented", category=UserWarning)
            if supervised:
                model.fit(X, y)
            else:
                model.fit(X)
        self.model_ = model
        self.n_features_ = X.shape[1]
        return self

    def _decision_function(self, X) -> np.ndarray:
        """The detector's ``decision_function`` (pyod: higher = more anomalous)."""
        return self.model_.decision_function(X)
