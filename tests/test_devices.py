"""resolve_device: auto/cpu/cuda, with clear errors; a GPU fit where CUDA is present."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from adbench_repro.devices import resolve_device


def test_cpu_is_cpu():
    assert resolve_device("cpu") == "cpu"


def test_auto_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda") == "cuda"


def test_cuda_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError) as err:
        resolve_device("cuda")
    msg = str(err.value)
    assert "device=cuda" in msg and "not available" in msg and "device=auto" in msg and "device=cpu" in msg


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_auto_is_cpu_here():
    assert resolve_device("auto") == "cpu"


@pytest.mark.parametrize("bad", ["gpu", "", "cuda:0", None, 0])
def test_unknown_setting_names_device(bad):
    with pytest.raises(ValueError, match="`device`"):
        resolve_device(bad)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_deepsad_fits_on_cuda(blobs):
    from adbench_repro.detectors.deepsad import DeepSAD

    X, y = blobs
    det = DeepSAD(ae_epochs=5, epochs=5, seed=0, device=resolve_device("cuda")).fit(X, y)
    assert next(det.net_.parameters()).is_cuda and det.c_.is_cuda
    scores = det.decision_function(X)
    assert scores.dtype == np.float64 and np.isfinite(scores).all()
    assert roc_auc_score(y, scores) > 0.8
