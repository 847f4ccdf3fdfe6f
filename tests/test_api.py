"""The Python API (adbench_repro.evaluate): runs from another folder, same result as the runner's experiment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import REPO_ROOT

EXAMPLE = """
import adbench_repro
r = adbench_repro.evaluate(dataset="45_wine", augmenter="nng_mix", detector="mlp", seed=0, augmenter__k=5)
print(round(r.aucroc, 6), r.metrics["n_generated"])
"""


def test_evaluate_runs_from_another_folder_and_is_deterministic(tmp_path, adbench_root):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HYDRA_"))}
    env.update(ADBENCH_DATA=str(adbench_root), PYTHONPATH=str(REPO_ROOT))
    outs = [subprocess.run([sys.executable, "-c", EXAMPLE], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=300) for _ in range(2)]
    assert outs[0].returncode == 0, outs[0].stderr[-2000:]
    auc, n_gen = outs[0].stdout.split()
    assert 0.5 < float(auc) <= 1.0 and int(n_gen) > 0
    assert outs[0].stdout == outs[1].stdout  # same seed, same result on the CPU
    assert not (tmp_path / "mlflow.db").exists()  # no tracking store written


def test_keyword_overrides_become_dotted():
    from adbench_repro.api import _overrides

    assert _overrides({"augmenter__k": 5, "protocol__duplicate_small": False}) == [
        "augmenter.k=5", "protocol.duplicate_small=false"]


# ------------------------------------------------------------------ errors as helpful as the command line's


def _error(**kwargs) -> str:
    """The one-line message ``evaluate(**kwargs)`` raises (before any data is loaded)."""
    import adbench_repro
    from adbench_repro.validate import ConfigError

    with pytest.raises(ConfigError) as exc:
        adbench_repro.evaluate(**kwargs)
    message = str(exc.value)
    assert isinstance(exc.value, ValueError) and "\n" not in message
    return message


def test_a_label_ratio_that_is_no_name_lists_the_names_and_fractions():
    message = _error(dataset="6_cardio", label_ratio=2)
    assert "1pct, 5pct, 10pct, 20pct, 50pct, 100pct" in message and "0.01" in message
    assert "label_ratio=1 is ambiguous" in _error(label_ratio=1)
    assert "did you mean 20pct" in _error(label_ratio="2pct")


def test_an_unknown_detector_says_did_you_mean_and_lists_the_detectors():
    message = _error(detector="rff")
    assert message.startswith("unknown detector 'rff' (detector=rff)") and "did you mean" in message
    assert "catboost" in message and "mlp" in message
    assert "did you mean mlp?" in _error(detector="mpl")
    assert "detector=pyod detector.name=KNN" in _error(detector="knn")


def test_other_names_and_numbers_are_checked_as_on_the_command_line():
    from adbench_repro.validate import check_value

    assert _error(dataset="cardio") == check_value("dataset", "cardio")  # the CLI's own message
    assert "did you mean 6_cardio" in _error(dataset="cardio")
    assert "names a dataset family" in _error(dataset="classical")
    assert _error(seed=-1) == check_value("seed", -1)
    assert "seed=1.5 must be a whole number" in _error(seed=1.5)
    assert "multiplier=abc must be a whole number" in _error(multiplier="abc")
    assert "did you mean nng_mix?" in _error(augmenter="nngmix")
    assert "protocol.pollution=2 must be a number in [0, 1]" in _error(overrides=["protocol.pollution=2"])
    assert "is a sweep" in _error(overrides=["seed=0,1"])


def test_an_unknown_setting_is_one_line_with_the_close_keys_not_a_hydra_exception():
    message = _error(augmenter="nng_mix", augmenter__kk=5)
    assert message.startswith("unknown setting augmenter.kk") and "did you mean augmenter.k" in message
    assert "augmenter=nng_mix has alpha, k, sigma" in message
    assert "did you mean detector" in _error(detecter="mlp")


def test_typed_arguments_compose_the_same_configuration_as_the_names():
    from adbench_repro.api import compose_config
    from adbench_repro.confighash import config_hash

    named = compose_config(label_ratio="1pct", seed=3, multiplier=10, augmenter="nng_mix")
    for typed in (dict(label_ratio=0.01, seed="3", multiplier=10.0), dict(label_ratio="1%", seed=3.0, multiplier="10")):
        cfg = compose_config(augmenter="nng_mix", **typed)
        assert config_hash(cfg) == config_hash(named) and cfg.seed == 3 and isinstance(cfg.seed, int)
    assert config_hash(compose_config(label_ratio=1.0)) == config_hash(compose_config(label_ratio="100pct"))
    assert config_hash(compose_config(label_ratio=0.05)) != config_hash(compose_config(label_ratio=0.1))


def test_keyword_values_keep_lists_and_strings_whole():
    from adbench_repro.api import _overrides, compose_config

    assert _overrides({"detector__hidden_layer_sizes": [50, 20], "detector__kwargs": {"n_neighbors": 5},
                       "x": "a,b"}) == ["detector.hidden_layer_sizes=[50,20]", "detector.kwargs={n_neighbors:5}",
                                        "x='a,b'"]
    cfg = compose_config(detector="mlp", detector__hidden_layer_sizes=[50, 20])
    assert list(cfg.detector.hidden_layer_sizes) == [50, 20]


def test_a_bad_augmenter_or_detector_setting_is_one_line_before_the_data_is_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("ADBENCH_DATA", str(tmp_path))  # no data here: the check comes first
    assert _error(detector="mlp", detector__max_iter=0) == "detector=mlp: mlp: setting `max_iter` must be >= 1, got 0"
    assert _error(augmenter="nng_mix", augmenter__k=0) == "augmenter=nng_mix: k must be >= 1, got 0"
    assert "valid names include IForest" in _error(detector="pyod", detector__name="Nope")
