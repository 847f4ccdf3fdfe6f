"""Resolve the ``device`` setting (``auto``, ``cpu`` or ``cuda``) to the device torch detectors use."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> str:
    """``"cuda"`` or ``"cpu"`` for the setting ``device``.

    ``auto`` picks CUDA when ``torch.cuda.is_available()``, else the CPU. ``cuda`` without CUDA
    raises ``RuntimeError``; any other value raises ``ValueError``.
    """
    if not isinstance(name, str) or name.strip().lower() not in DEVICE_CHOICES:
        raise ValueError(f"setting `device` must be one of {', '.join(DEVICE_CHOICES)}; got {name!r}")
    name = name.strip().lower()
    if name == "cpu":
        return "cpu"
    cuda_ok = torch.cuda.is_available()
    if name == "auto":
        return "cuda" if cuda_ok else "cpu"
    if not cuda_ok:
        raise RuntimeError(
            "device=cuda was requested but CUDA is not available on this machine "
            f"(torch {torch.__version__}, built with CUDA {torch.version.cuda}); "
            "use device=auto (CUDA when present, else CPU) or device=cpu"
        )
    return "cuda"
