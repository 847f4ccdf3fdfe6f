"""Any pyod detector by class name, e.g. ``detector=pyod detector.name=IForest``."""

from __future__ import annotations

import importlib
import inspect
import warnings

import numpy as np
from omegaconf import OmegaConf

from .base import Detector
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


def _plain_kwargs(kwargs) -> dict:
    """``kwargs`` (``None``, a mapping or a Hydra ``DictConfig``) as a new plain dict."""
    if OmegaConf.is_config(kwargs):
        kwargs = OmegaConf.to_container(kwargs, resolve=True)
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError(f"must be a mapping, got {type(kwargs).__name__}")
    return dict(kwargs or {})


class PyODDetector(Detector):
    """Wraps ``pyod.models.*.<name>(**kwargs)``; ``random_state=seed`` (and ``device``) are
    passed where the class accepts them. Score = ``decision_function``.

    ``name`` is the pyod class name (a setting, as for ``get_params``); messages call the
    detector ``pyod.<name>`` (``label``). Unsupervised detectors may be fit on ``X`` alone and
    ignore ``y``; the supervised ones (``SUPERVISED``, e.g. XGBOD) need both classes.
    """

    _conversions = dict(name=str, kwargs=_plain_kwargs)

    def __init__(self, name: str = "IForest", kwargs: dict | None = None, seed: int = 0, device: str = "cpu") -> None:
        super().__init__(seed=seed, device=device)
        self.name = name
        self.kwargs = kwargs
        self._settings()

    @property
    def label(self) -> str:
        return f"pyod.{self.name}"

    @property
    def requires_labels(self) -> bool:
        return str(self.name) in SUPERVISED

    requires_anomalies = requires_labels

    def _check_settings(self, s) -> None:
        """Resolve the class (``s.cls``), check ``kwargs`` against its signature and add the seed
        and device where it accepts them (``s.extra``)."""
        s.cls = resolve_pyod_class(s.name)
        accepted = inspect.signature(s.cls.__init__).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
        unknown = [k for k in s.kwargs if k not in accepted and not takes_any]
        if unknown:
            raise ValueError(f"pyod: setting `kwargs` has {unknown} which {s.name} does not accept "
                             f"(it takes {sorted(k for k in accepted if k != 'self')})")
        s.extra = {}
        if "random_state" in accepted and "random_state" not in s.kwargs:
            s.extra["random_state"] = self.seed
        if "device" in accepted and "device" not in s.kwargs:
            s.extra["device"] = self.device

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        """Fit on ``X`` (and ``y`` for the supervised ones, e.g. XGBOD)."""
        s = self._settings()
        model = s.cls(**s.kwargs, **s.extra)
        with seeded_global_rngs(self.seed), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="y should not be presented", category=UserWarning)
            if self.requires_labels:
                model.fit(X, y)
            else:
                model.fit(X)
        self.model_ = model

    def _decision_function(self, X) -> np.ndarray:
        """The detector's ``decision_function`` (pyod: higher = more anomalous)."""
        return self.model_.decision_function(X)
