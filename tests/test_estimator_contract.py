"""scikit-learn's estimator contract for every augmenter and detector config, and the base classes'
template methods (``Augmenter.generate``, ``Detector.fit``) that check what subclasses get and return.

Each object is built from its YAML exactly as the runner builds it (``hydra.utils.instantiate``), so
Hydra's ``ListConfig``/``DictConfig`` values are part of what is checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import hydra.utils
import numpy as np
import pytest
from omegaconf import ListConfig, OmegaConf
from sklearn.base import clone

from adbench_repro.augmenters import REGISTRY as AUGMENTERS
from adbench_repro.augmenters.base import Augmenter
from adbench_repro.detectors import REGISTRY as DETECTORS
from adbench_repro.detectors.base import Detector

CONF = Path(__file__).resolve().parents[1] / "conf"
AUGMENTER_CONFIGS = sorted(p.stem for p in (CONF / "augmenter").glob("*.yaml"))
DETECTOR_CONFIGS = sorted(p.stem for p in (CONF / "detector").glob("*.yaml"))
#: small settings for the fitting checks; fttransformer (slow on a CPU) and xgbod (41 base detectors,
#: ~3 s a fit) are left out there: tests/test_detectors.py fits both from their YAML
SMALL_DETECTORS = {
    "mlp": {"max_iter": 20},
    "catboost": {"iterations": 20},
    "deepsad": {"epochs": 2},
    "deepsad_pretrained": {"ae_epochs": 1, "epochs": 1},
    "pyod": {},
    "devnet": {"epochs": 2},
    "prenet": {"epochs": 2},
    "feawad": {"ae_epochs": 1, "epochs": 2},
    "rf": {"n_estimators": 10},
    "lightgbm": {"n_estimators": 10},
    "xgboost": {"n_estimators": 10},
}


def load(kind: str, config: str, **overrides):
    cfg = OmegaConf.merge(OmegaConf.load(CONF / kind / f"{config}.yaml"), overrides)
    if kind == "detector":
        return cfg, hydra.utils.instantiate(cfg, seed=3, device="cpu")
    return cfg, hydra.utils.instantiate(cfg)


def data(n_a: int = 6, n_h: int = 80, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(0.8, 0.05, size=(n_a, d)), rng.normal(0.3, 0.05, size=(n_h, d))


def all_estimators():
    return [("augmenter", n) for n in AUGMENTER_CONFIGS] + [("detector", n) for n in DETECTOR_CONFIGS]


def test_every_config_is_covered():
    assert set(AUGMENTER_CONFIGS) == set(AUGMENTERS) and set(DETECTOR_CONFIGS) == set(DETECTORS)
    # a new detector needs no entry here: it is fitted with its YAML's defaults
    assert set(SMALL_DETECTORS) <= set(DETECTOR_CONFIGS) - {"fttransformer", "xgbod"}


# -- clone / get_params / set_params ----------------------------------------------------------------

@pytest.mark.parametrize(("kind", "name"), all_estimators())
def test_get_params_are_the_config_keys_stored_unchanged(kind, name):
    cfg, est = load(kind, name)
    params = est.get_params()
    expected = set(cfg) - {"_target_"} | ({"seed", "device"} if kind == "detector" else set())
    assert set(params) == expected
    for key in set(cfg) - {"_target_"}:
        assert params[key] == cfg[key], key  # the value Hydra passed, not a converted copy


@pytest.mark.parametrize(("kind", "name"), all_estimators())
def test_clone_and_set_params_round_trip(kind, name):
    _, est = load(kind, name)
    params = est.get_params()
    copy = clone(est)  # raises when a constructor stores a converted value
    assert type(copy) is type(est) and copy is not est
    assert copy.get_params() == params
    fresh = type(est)()
    assert fresh.set_params(**params) is fresh
    assert all(fresh.get_params()[k] is v for k, v in params.items())
    assert clone(fresh).get_params() == params


def test_hydra_lists_are_stored_as_given_and_converted_when_used():
    _, mlp = load("detector", "mlp", max_iter=5)
    assert isinstance(mlp.hidden_layer_sizes, ListConfig)
    X, H = data(n_a=10, n_h=40)
    mlp.fit(np.vstack([H, X]), np.r_[np.zeros(len(H)), np.ones(len(X))])
    assert mlp.model_.hidden_layer_sizes == (100,)
    _, sad = load("detector", "deepsad")
    assert isinstance(sad.hidden_dims, ListConfig) and clone(sad).hidden_dims == [100, 20]


@pytest.mark.parametrize(
    ("kind", "name", "key", "value", "match"),
    [
        ("augmenter", "nng_mix", "k", 0, "k must be >= 1"),
        ("augmenter", "cutout", "r_low", 0.5, "r_low must be <= r_high"),
        ("detector", "mlp", "max_iter", 0, "mlp: setting `max_iter` must be >= 1"),
        ("detector", "deepsad", "eta", 0.0, "deepsad: setting `eta` must be > 0"),
        ("detector", "pyod", "name", "IsolationJungle", "is not a pyod detector class"),
    ],
)
def test_values_set_after_construction_are_validated_when_used(kind, name, key, value, match):
    _, est = load(kind, name)
    est.set_params(**{key: value})  # set_params bypasses the constructor's checks ...
    A, H = data()
    with pytest.raises(ValueError, match=re.escape(match)):  # ... generate / fit check again
        if kind == "augmenter":
            est.generate(A, H, 5, np.random.default_rng(0))
        else:
            est.fit(np.vstack([H, A]), np.r_[np.zeros(len(H)), np.ones(len(A))])


def test_clones_give_the_same_samples():
    A, H = data()
    for name in AUGMENTER_CONFIGS:
        _, aug = load("augmenter", name, **({"K": 20, "select": 20, "sample_from": 50} if name == "npos" else {}))
        a = aug.generate(A, H, 15, np.random.default_rng(1))
        b = clone(aug).generate(A, H, 15, np.random.default_rng(1))
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("name", sorted(set(DETECTOR_CONFIGS) - {"fttransformer", "xgbod"}))
def test_clones_give_the_same_scores_and_start_unfitted(name):
    A, H = data(n_a=12, n_h=100)
    X, y = np.vstack([H, A]), np.r_[np.zeros(len(H), dtype=int), np.ones(len(A), dtype=int)]
    _, det = load("detector", name, **SMALL_DETECTORS.get(name, {}))
    scores = det.fit(X, y).decision_function(X)
    copy = clone(det)
    assert copy.n_features_ is None  # fitted state is not copied
    np.testing.assert_array_equal(copy.fit(X, y).decision_function(X), scores)


# -- the "none" augmenter ignores the multiplier ------------------------------------------------------

def test_only_none_ignores_n():
    assert {name for name, cls in AUGMENTERS.items() if not cls.uses_n} == {"none"}
    A, H = data()
    _, none = load("augmenter", "none")
    assert none.generate(A, H, 50, np.random.default_rng(0)).shape == (0, A.shape[1])
    with pytest.raises(ValueError, match="different feature counts"):  # the inputs are still checked
        none.generate(A, H[:, :2], 50, np.random.default_rng(0))


# -- Augmenter.generate checks what a subclass returns -------------------------------------------------

class Broken(Augmenter):
    """Returns what it is told to: a good sample, a wrong shape, a NaN, an inf or float32."""

    name = "broken"

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode

    def _generate(self, A, H, n, rng):
        X = A[rng.integers(len(A), size=n)]
        if self.mode == "rows":
            return X[:-1]
        if self.mode == "columns":
            return X[:, :-1]
        if self.mode in ("nan", "inf"):
            X[-1, 0] = np.nan if self.mode == "nan" else np.inf
        if self.mode == "float32":
            return X.astype(np.float32)
        return X


@pytest.mark.parametrize(
    ("mode", "match"),
    [
        ("rows", "Broken (broken) returned an array of shape (6, 4), expected (7, 4)"),
        ("columns", "Broken (broken) returned an array of shape (7, 3), expected (7, 4)"),
        ("nan", "Broken (broken) returned NaN or infinite values in 1 of 7 row(s)"),
        ("inf", "Broken (broken) returned NaN or infinite values"),
        ("float32", "expected a float64 numpy array"),
    ],
)
def test_generate_rejects_a_bad_result(mode, match):
    A, H = data()
    with pytest.raises(RuntimeError, match=re.escape(match)):
        Broken(mode).generate(A, H, 7, np.random.default_rng(0))


def test_generate_checks_inputs_and_rows_before_asking_the_subclass():
    A, H = data()
    assert Broken().generate(A, H, 7, np.random.default_rng(0)).shape == (7, 4)
    assert Broken("nan").generate(A, H, 0, np.random.default_rng(0)).shape == (0, 4)  # n == 0: not asked
    with pytest.raises(ValueError, match=re.escape("broken needs at least 1 labeled anomaly row(s)")):
        Broken().generate(A[:0], H, 3, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        Broken().generate(A, H, 3, 0)


# -- Detector.fit checks what a subclass gets --------------------------------------------------------

class Recorder(Detector):
    name = "recorder"
    requires_anomalies = True

    def _fit(self, X, y):
        self.seen_ = (X, y)

    def _decision_function(self, X):
        return X.sum(axis=1)


def test_fit_hands_checked_input_to_the_subclass():
    det = Recorder(seed=1)
    X = [[0.0, 1.0], [1.0, 2.0], [3.0, 4.0]]
    assert det.fit(X, [0, 1, 0]) is det and det.n_features_ == 2
    X_seen, y_seen = det.seen_
    assert X_seen.dtype == np.float64 and y_seen.dtype == np.int64
    np.testing.assert_array_equal(det.decision_function(X), [1.0, 3.0, 7.0])
    with pytest.raises(ValueError, match="recorder: a classifier needs both classes"):
        Recorder().fit(X, [0, 0, 0])
    with pytest.raises(ValueError, match="recorder: fit needs labels y"):
        Recorder().fit(X)
    assert clone(det).get_params() == {"seed": 1, "device": "cpu"}


def test_unsupervised_pyod_detectors_fit_without_labels():
    A, H = data()
    _, det = load("detector", "pyod")
    assert det.fit(H).n_features_ == H.shape[1]
    assert det.label == "pyod.IForest" and det.get_params()["name"] == "IForest"
    _, xgbod = load("detector", "pyod", name="XGBOD")
    with pytest.raises(ValueError, match="pyod.XGBOD: fit needs labels y"):
        xgbod.fit(H)
