"""Contract tests for every pseudo-anomaly generator, one case per YAML in conf/augmenter.

Each config is instantiated exactly as the runner does (``hydra.utils.instantiate`` of the YAML),
so configs and code cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import hydra.errors
import hydra.utils
import numpy as np
import pytest
from omegaconf import OmegaConf

from adbench_repro.augmenters import REGISTRY, NNGMix
from adbench_repro.augmenters.base import Augmenter

CONF_DIR = Path(__file__).resolve().parents[1] / "conf" / "augmenter"
CONFIGS = sorted(p.stem for p in CONF_DIR.glob("*.yaml"))
#: the paper's generators and ours; a new one (a module plus a YAML) joins every test below without an edit here
EXPECTED = {"none", "mixup", "cutout", "cutmix", "gaussian_noise", "nng_mix", "cutout_gn", "cutmix_gn",
            "npos", "rosas", "uniform", "nng_mix_uniform"}


def make(name: str, **overrides) -> Augmenter:
    cfg = OmegaConf.load(CONF_DIR / f"{name}.yaml")
    return hydra.utils.instantiate(OmegaConf.merge(cfg, overrides))


def random_data(n_a: int = 12, n_h: int = 250, d: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Min-max-like data: normals in the middle of [0,1]^d, anomalies off to one corner."""
    rng = np.random.default_rng(seed)
    H = np.clip(rng.normal(0.4, 0.1, size=(n_h, d)), 0, 1)
    A = np.clip(rng.normal(0.8, 0.08, size=(n_a, d)), 0, 1)
    return A, H


def cardio(adbench_root: Path, n_a: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """6_cardio, min-max scaled; ``n_a`` random anomalies form A, every other row forms H."""
    with np.load(adbench_root / "Classical" / "6_cardio.npz", allow_pickle=False) as f:
        X, y = f["X"].astype(np.float64), f["y"].astype(int)
    X = (X - X.min(0)) / np.where(np.ptp(X, 0) > 0, np.ptp(X, 0), 1.0)
    anomalies = np.flatnonzero(y == 1)
    picked = np.random.default_rng(0).choice(anomalies, n_a, replace=False)
    rest = np.setdiff1d(np.arange(len(X)), picked)
    return X[picked], X[rest]


def expected_rows(name: str, n: int) -> int:
    return 0 if name == "none" else n


def read_only(*arrays: np.ndarray) -> list[np.ndarray]:
    out = []
    for a in arrays:
        c = a.copy()
        c.flags.writeable = False
        out.append(c)
    return out


def test_every_expected_config_exists_and_registry_matches():
    assert EXPECTED <= set(CONFIGS)
    assert set(REGISTRY) == set(CONFIGS)
    for name in CONFIGS:
        cfg = OmegaConf.load(CONF_DIR / f"{name}.yaml")
        module, cls = cfg["_target_"].rsplit(".", 1)
        assert module == f"adbench_repro.augmenters.{name}", name
        assert REGISTRY[name].__name__ == cls
        assert REGISTRY[name].name == name  # the name its error messages use
        # every hyperparameter of the constructor is spelled out in the YAML with its default
        obj = make(name)
        assert set(obj.get_params()) == set(cfg) - {"_target_"}, name
        assert obj.get_params() == type(obj)().get_params(), name


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("data", ["random", "cardio"])
def test_generate_contract(name, data, adbench_root):
    A, H = random_data() if data == "random" else cardio(adbench_root)
    A0, H0 = A.copy(), H.copy()
    A, H = read_only(A, H)  # any in-place write would raise
    aug = make(name)
    n = 5 * len(A)
    X = aug.generate(A, H, n, np.random.default_rng(7))
    assert X.shape == (expected_rows(name, n), A.shape[1])
    assert X.dtype == np.float64
    assert np.isfinite(X).all()
    same = aug.generate(A, H, n, np.random.default_rng(7))
    np.testing.assert_array_equal(X, same)
    if name != "none":
        other = aug.generate(A, H, n, np.random.default_rng(8))
        assert not np.array_equal(X, other)
    empty = aug.generate(A, H, 0, np.random.default_rng(7))
    assert empty.shape == (0, A.shape[1]) and empty.dtype == np.float64
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(H, H0)


@pytest.mark.parametrize("name", CONFIGS)
def test_float32_and_list_inputs_give_float64(name):
    A, H = random_data()
    X = make(name).generate(A.astype(np.float32), H.tolist(), 20, np.random.default_rng(0))
    assert X.dtype == np.float64 and X.shape == (expected_rows(name, 20), A.shape[1])


@pytest.mark.parametrize("name", CONFIGS)
def test_single_feature(name):
    A, H = random_data(d=1)
    X = make(name).generate(A, H, 40, np.random.default_rng(0))
    assert X.shape == (expected_rows(name, 40), 1) and np.isfinite(X).all()


@pytest.mark.parametrize("name", CONFIGS)
def test_single_anomaly(name):
    A, H = random_data(n_a=1)
    X = make(name).generate(A, H, 30, np.random.default_rng(0))
    assert X.shape == (expected_rows(name, 30), A.shape[1]) and np.isfinite(X).all()


def test_single_anomaly_documented_behaviour():
    A, H = random_data(n_a=1)
    rng = np.random.default_rng
    # mixup / cutmix: the only partner is the anomaly itself -> exact copies
    np.testing.assert_allclose(make("mixup").generate(A, H, 10, rng(0)), np.repeat(A, 10, axis=0))
    np.testing.assert_array_equal(make("cutmix").generate(A, H, 10, rng(0)), np.repeat(A, 10, axis=0))
    # nng_mix: no anomaly partner, so every partner comes from H (the mix moves away from A)
    X = make("nng_mix", sigma=0.0, lam="uniform").generate(A, H, 50, rng(0))
    assert np.all(np.linalg.norm(X - A, axis=1) > 0)
    with pytest.raises(ValueError, match="mixing partner"):
        make("nng_mix").generate(A, H[:0], 5, rng(0))


@pytest.mark.parametrize("name", sorted(EXPECTED - {"none", "npos", "uniform"}))
def test_no_anomalies_is_an_error_unless_nothing_is_asked(name):
    A, H = random_data()
    with pytest.raises(ValueError, match="labeled anomaly"):
        make(name).generate(A[:0], H, 5, np.random.default_rng(0))
    assert make(name).generate(A[:0], H, 0, np.random.default_rng(0)).shape == (0, A.shape[1])


@pytest.mark.parametrize("name", ["npos", "rosas"])
def test_generators_needing_unlabeled_rows_say_so(name):
    A, H = random_data()
    with pytest.raises(ValueError, match="unlabeled"):
        make(name).generate(A, H[:1] if name == "npos" else H[:0], 5, np.random.default_rng(0))


def test_k_larger_than_both_pools_is_capped():
    A, H = random_data(n_a=4, n_h=6)
    X = make("nng_mix", k=50).generate(A, H, 200, np.random.default_rng(0))
    assert X.shape == (200, A.shape[1]) and np.isfinite(X).all()
    X = make("npos", K=50, select=100, sample_from=20).generate(A, H, 30, np.random.default_rng(0))
    assert X.shape == (30, A.shape[1]) and np.isfinite(X).all()


def test_bad_arguments_to_generate():
    A, H = random_data()
    aug = NNGMix()
    with pytest.raises(TypeError, match="rng"):
        aug.generate(A, H, 5, np.random.RandomState(0))
    with pytest.raises(TypeError, match="rng"):
        aug.generate(A, H, 5, 0)
    with pytest.raises(TypeError, match="n must be an integer"):
        aug.generate(A, H, 5.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n must be >= 0"):
        aug.generate(A, H, -1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="different feature counts"):
        aug.generate(A, H[:, :3], 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="2-D"):
        aug.generate(A[0], H, 5, np.random.default_rng(0))
    bad = A.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        aug.generate(bad, H, 5, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("name", "key", "value", "error", "match"),
    [
        ("mixup", "pool", "unlabeled", ValueError, "pool must be one of anomalies|all"),
        ("mixup", "lam", "gauss", ValueError, "lam must be one of beta|uniform"),
        ("nng_mix", "lam", "Beta", ValueError, "lam must be one of beta|uniform"),
        ("nng_mix", "k", 0, ValueError, "k must be >= 1"),
        ("nng_mix", "k", 2.5, TypeError, "k must be an integer"),
        ("nng_mix", "sigma", -0.1, ValueError, "sigma"),
        ("nng_mix", "alpha", 0.0, ValueError, "alpha"),
        ("nng_mix", "p_anomaly_pool", 1.5, ValueError, "p_anomaly_pool"),
        ("nng_mix", "use_nn", "yes", TypeError, "use_nn"),
        ("cutout", "r_low", 0.5, ValueError, "r_low must be <= r_high"),
        ("cutmix", "block_source", "other", ValueError, "block_source must be one of same|random"),
        ("gaussian_noise", "sigma", float("nan"), ValueError, "sigma"),
        ("npos", "keep_per_point", 700, ValueError, "keep_per_point must be <= sample_from"),
        ("npos", "K", 0, ValueError, "K must be >= 1"),
        ("rosas", "min_degree", 1.0, ValueError, "min_degree"),
        ("uniform", "margin", -0.1, ValueError, "margin"),
        ("nng_mix_uniform", "uniform_share", 1.5, ValueError, "uniform_share"),
        ("nng_mix_uniform", "k", 0, ValueError, "k must be >= 1"),
        ("nng_mix_uniform", "margin", -0.1, ValueError, "margin"),
    ],
)
def test_constructor_validates_hyperparameters(name, key, value, error, match):
    with pytest.raises(error, match=re.escape(match)):
        REGISTRY[name](**{key: value})


def test_bad_option_in_config_names_the_key():
    with pytest.raises(hydra.errors.InstantiationException, match=re.escape("pool must be one of anomalies|all")):
        make("mixup", pool="unlabeled")


def test_command_line_overrides_reach_the_constructor(tmp_path):
    from helpers import compose_run_config

    cfg = compose_run_config(["augmenter=nng_mix", "augmenter.k=5", "augmenter.sigma=0.1", "augmenter.lam=uniform"],
                             f"sqlite:///{tmp_path}/x.db", tmp_path)
    aug = hydra.utils.instantiate(cfg.augmenter)
    assert isinstance(aug, NNGMix)
    assert (aug.k, aug.sigma, aug.lam, aug.alpha) == (5, 0.1, "uniform", 0.2)
