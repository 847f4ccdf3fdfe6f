"""DevNet (Pang, Shen & van den Hengel, KDD 2019): deviation networks, with ADBench's settings.

A network maps a row to a scalar score ``phi(x)``. A reference set of ``n_ref`` draws from N(0, 1)
(drawn once per fit) gives ``mu_R`` and ``sigma_R``; with ``dev = (phi(x) - mu_R) / sigma_R`` the
deviation loss of a row is ``|dev|`` for an unlabeled row and ``max(0, margin - dev)`` for a
labeled anomaly. ADBench's default network (``network_depth=2``): ``d -> 20`` ReLU, L2 penalty
0.01 on that kernel (Keras ``l2``: ``0.01 * sum(W**2)`` added to the loss), then a linear score
unit. Training: RMSprop (lr 1e-3, rho 0.9, eps 1e-7, each gradient tensor clipped to norm 1, as
Keras's ``clipnorm``), ``epochs`` x ``batches_per_epoch`` batches of ``batch_size`` rows that
alternate unlabeled and labeled-anomaly rows drawn with replacement; the weights of the epoch
with the lowest mean loss are kept (ADBench's checkpoint). Score: ``phi(x)``.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch
from torch import nn

from .base import Detector, int_tuple
from .torch_utils import predict_batched, seeded_torch, torch_device
from .weak_supervision import BestEpoch, balanced_batch, keras_dense, label_indices

logger = logging.getLogger(__name__)


def make_devnet(d_in: int, hidden_dims=(20,)) -> nn.Sequential:
    """ReLU Dense layers of ``hidden_dims`` (Glorot uniform, zero bias) then a linear score unit."""
    dims = [d_in, *hidden_dims]
    layers: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [keras_dense(a, b), nn.ReLU()]
    layers.append(keras_dense(dims[-1], 1))
    return nn.Sequential(*layers)


def deviation_loss(score: torch.Tensor, is_anomaly: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor,
                   margin: float) -> torch.Tensor:
    """Mean deviation loss: ``|dev|`` for unlabeled rows, ``max(0, margin - dev)`` for anomalies."""
    dev = (score - mu) / sigma
    return torch.where(is_anomaly, torch.clamp(margin - dev, min=0.0), dev.abs()).mean()


class DevNet(Detector):
    """Deviation network; defaults are ADBench's (``conf/detector/devnet.yaml``).

    Parameters
    ----------
    hidden_dims : list of int, default (20,)
        Hidden ReLU layer sizes. ADBench's ``network_depth`` 2 is ``[20]``, 4 is ``[1000, 250, 20]``,
        1 is ``[]`` (a linear score).
    l2 : float, default 0.01
        Keras L2 penalty on the hidden layers' kernels (not on the score unit).
    margin : float, default 5.0
        Confidence margin ``a`` of the deviation loss.
    n_ref : int, default 5000
        Size of the N(0, 1) reference sample.
    epochs, batches_per_epoch, batch_size : int, default 50, 20, 512
        Training length: ``epochs * batches_per_epoch`` RMSprop steps of ``batch_size`` rows.
    lr, rho, eps, clipnorm : float, default 1e-3, 0.9, 1e-7, 1.0
        Keras's RMSprop with ``clipnorm=1`` (each gradient tensor clipped to that L2 norm).
    keep_best : bool, default True
        Score with the weights of the epoch with the lowest mean loss (ADBench's checkpoint).
    score_batch_size : int, default 8192
        Rows per scoring batch (does not change the scores).
    seed : int
        Seeds the initialisation, the reference sample and the batches (local generators only).
    device : {"cpu", "cuda"}
    """

    name = "devnet"
    requires_anomalies = True
    _conversions = dict(hidden_dims=int_tuple, l2=float, margin=float, n_ref=int, epochs=int,
                        batches_per_epoch=int, batch_size=int, lr=float, rho=float, eps=float, clipnorm=float,
                        keep_best=bool, score_batch_size=int)
    _minimums = dict(n_ref=2, epochs=0, batches_per_epoch=1, batch_size=2, score_batch_size=1)

    def __init__(
        self,
        hidden_dims=(20,),
        l2: float = 0.01,
        margin: float = 5.0,
        n_ref: int = 5000,
        epochs: int = 50,
        batches_per_epoch: int = 20,
        batch_size: int = 512,
        lr: float = 1e-3,
        rho: float = 0.9,
        eps: float = 1e-7,
        clipnorm: float = 1.0,
        keep_best: bool = True,
        score_batch_size: int = 8192,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(seed=seed, device=device)
        self.hidden_dims = hidden_dims
        self.l2 = l2
        self.margin = margin
        self.n_ref = n_ref
        self.epochs = epochs
        self.batches_per_epoch = batches_per_epoch
        self.batch_size = batch_size
        self.lr = lr
        self.rho = rho
        self.eps = eps
        self.clipnorm = clipnorm
        self.keep_best = keep_best
        self.score_batch_size = score_batch_size
        self._settings()

    def _check_settings(self, s) -> None:
        if any(h < 1 for h in s.hidden_dims):
            raise ValueError(f"devnet: setting `hidden_dims` must hold positive sizes, got {self.hidden_dims}")
        for key in ("l2", "margin", "lr", "eps", "clipnorm"):
            if getattr(s, key) < 0 or (key == "lr" and s.lr == 0):
                raise ValueError(f"devnet: setting `{key}` must be {'> 0' if key == 'lr' else '>= 0'}, "
                                 f"got {getattr(self, key)}")

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Train the deviation network on ``(X, y)``."""
        s = self._settings()
        dev = torch_device(self.device, self.name)
        normal, anomaly = label_indices(y, self.name)
        Xt = torch.as_tensor(X, dtype=torch.float32, device=dev)
        gen = torch.Generator().manual_seed(self.seed)  # reference sample and batches; CPU on every device
        ref = torch.randn(s.n_ref, generator=gen)
        mu, sigma = ref.mean().to(dev), ref.std(unbiased=False).to(dev)
        t0 = time.perf_counter()
        with seeded_torch(self.seed, dev):
            net = make_devnet(X.shape[1], s.hidden_dims).to(dev)
        kernels = [m.weight for m in net if isinstance(m, nn.Linear)][:-1]  # the hidden layers' kernels
        params = list(net.parameters())
        optimizer = torch.optim.RMSprop(params, lr=s.lr, alpha=s.rho, eps=s.eps)
        best = BestEpoch(net, s.keep_best)
        net.train()
        for epoch in range(s.epochs):
            total = 0.0
            for _ in range(s.batches_per_epoch):
                rows, labels = balanced_batch(normal, anomaly, s.batch_size, gen)
                rows, is_anomaly = rows.to(dev), labels.to(dev) > 0.5
                loss = deviation_loss(net(Xt[rows]).squeeze(-1), is_anomaly, mu, sigma, s.margin)
                if s.l2 > 0:
                    loss = loss + s.l2 * sum((w ** 2).sum() for w in kernels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if s.clipnorm > 0:  # Keras clipnorm: every gradient tensor on its own, g * c / max(|g|, c)
                    with torch.no_grad():
                        for p in params:
                            p.grad.mul_(s.clipnorm / torch.clamp(p.grad.norm(), min=s.clipnorm))
                optimizer.step()
                total += loss.item()
            best.update(epoch, total / s.batches_per_epoch)
        best.restore()
        net.eval()
        self.net_ = net
        self.best_epoch_ = best.epoch
        logger.info("devnet: fit %d rows (%d labeled anomalies), %d epochs, best epoch %d, on %s in %.1fs",
                    len(X), len(anomaly), s.epochs, best.epoch + 1, dev, time.perf_counter() - t0)

    def _decision_function(self, X) -> np.ndarray:
        """The network's score ``phi(x)`` (higher = more anomalous)."""
        dev = next(self.net_.parameters()).device
        return predict_batched(self.net_, X, dev, int(self.score_batch_size))
