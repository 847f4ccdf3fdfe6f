"""Training pieces shared by the weakly supervised neural detectors (DevNet, PReNet, FEAWAD).

ADBench trains them in its authors' style: a fixed number of batches per epoch, each batch drawn
*with replacement* from the labeled anomalies and the unlabeled rows (not a pass over the data),
and, for the Keras ones (DevNet, FEAWAD), the weights of the epoch with the lowest mean training
loss kept (Keras ``ModelCheckpoint(monitor="loss", save_best_only=True)``). Keras's Dense layers
start from Glorot initialisation with zero biases. All randomness here comes from a seeded
``torch.Generator`` passed in: nothing reads or changes a global RNG.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn


def keras_dense(d_in: int, d_out: int, init: str = "glorot_uniform", bias: bool = True) -> nn.Linear:
    """``nn.Linear`` initialised as Keras's ``Dense``: Glorot uniform or Glorot (truncated) normal
    weights, zero bias. Draws from torch's default generator (callers seed it locally)."""
    layer = nn.Linear(d_in, d_out, bias=bias)
    if init == "glorot_uniform":
        nn.init.xavier_uniform_(layer.weight)
    elif init == "glorot_normal":  # TF2's VarianceScaling(fan_avg, truncated normal at 2 std, std corrected)
        std = math.sqrt(2.0 / (d_in + d_out)) / 0.87962566103423978
        nn.init.trunc_normal_(layer.weight, std=std, a=-2 * std, b=2 * std)
    else:
        raise ValueError(f"keras_dense: unknown init {init!r}")
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


def label_indices(y: np.ndarray, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Row indices of the unlabeled (``y == 0``) and the labeled-anomaly (``y == 1``) rows.

    Both groups are needed: every batch mixes the two."""
    normal, anomaly = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    if len(anomaly) == 0 or len(normal) == 0:
        which = "labeled anomaly (y == 1)" if len(anomaly) == 0 else "unlabeled row (y == 0)"
        raise ValueError(f"{name}: a weakly supervised detector needs both classes, but y has no {which}")
    return torch.as_tensor(normal), torch.as_tensor(anomaly)


def draw(index: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` entries of ``index`` drawn uniformly with replacement."""
    return index[torch.randint(len(index), (n,), generator=gen)]


def balanced_batch(normal: torch.Tensor, anomaly: torch.Tensor, batch_size: int,
                   gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """DevNet's batch: rows alternate unlabeled (even positions) and labeled anomaly (odd positions),
    each drawn with replacement. Returns ``(row indices, labels as float32)``."""
    n_anomaly = batch_size // 2
    rows = torch.empty(batch_size, dtype=torch.long)
    rows[0::2] = draw(normal, batch_size - n_anomaly, gen)
    rows[1::2] = draw(anomaly, n_anomaly, gen)
    labels = torch.zeros(batch_size)
    labels[1::2] = 1.0
    return rows, labels


class BestEpoch:
    """Keeps a copy of the model's weights from the epoch with the lowest mean loss (Keras's
    ``ModelCheckpoint(monitor="loss", save_best_only=True)``; ties keep the earlier epoch)."""

    def __init__(self, model: nn.Module, enabled: bool = True) -> None:
        self.model, self.enabled = model, enabled
        self.loss, self.epoch, self.state = math.inf, -1, None

    def update(self, epoch: int, loss: float) -> None:
        if self.enabled and loss < self.loss:
            self.loss, self.epoch = loss, epoch
            self.state = copy.deepcopy(self.model.state_dict())

    def restore(self) -> None:
        """Load the best weights into the model (no-op when disabled or no epoch ran)."""
        if self.enabled and self.state is not None:
            self.model.load_state_dict(self.state)
