"""Small torch helpers for the neural detectors: device checks, local seeding, batched scoring."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import numpy as np
import torch


def torch_device(device: str, name: str) -> torch.device:
    """The ``torch.device`` for an already resolved ``device`` (``"cpu"`` or ``"cuda"``)."""
    if device not in ("cpu", "cuda"):
        raise ValueError(f"{name}: setting `device` must be 'cpu' or 'cuda' (resolved by the runner), got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"{name}: device=cuda was requested but CUDA is not available; use device=auto or device=cpu")
    return torch.device(device)


@contextlib.contextmanager
def seeded_torch(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's default generators for the block, restoring the caller's RNG state afterwards.

    Parameter initialisation and dropout draw from the default generators; forking keeps that
    from leaking into (or depending on) anything outside the detector.
    """
    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield


def batch_slices(n: int, batch_size: int, drop_last: bool) -> list[slice]:
    """Slices of ``range(n)`` in batches; with ``drop_last`` the incomplete tail is dropped unless
    it is the only batch (fewer than ``batch_size`` rows)."""
    stops = list(range(batch_size, n + 1, batch_size))
    starts = [s - batch_size for s in stops]
    if n % batch_size and (not drop_last or not stops):
        starts.append(len(stops) * batch_size)
        stops.append(n)
    return [slice(a, b) for a, b in zip(starts, stops)]


@torch.no_grad()
def predict_batched(fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray, device: torch.device,
                    batch_size: int) -> np.ndarray:
    """``fn`` applied to ``X`` in batches of ``batch_size`` rows; float64 numpy result."""
    out = []
    for sl in batch_slices(len(X), batch_size, drop_last=False):
        xb = torch.as_tensor(X[sl], dtype=torch.float32, device=device)
        out.append(fn(xb).reshape(-1).double().cpu())
    return torch.cat(out).numpy()
