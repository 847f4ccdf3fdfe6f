"""FEAWAD (Zhou et al., IEEE TNNLS 2021, "Feature encoding with autoencoders for weakly supervised
anomaly detection"), with ADBench's settings.

An autoencoder ``x -> d -> 128 -> 64 -> 128 -> d`` (every Dense layer ReLU, Glorot normal, zero
bias) is pretrained on the unlabeled rows: mean squared error, Adam lr 1e-4, ``ae_epochs`` x
``batches_per_epoch`` batches of ``batch_size`` rows drawn with replacement, the best epoch's weights
kept. The end-to-end network reuses it: with the residual ``r = x - x_hat`` and its norm ``n = ||r||``,
the representation ``[r / n, h, n]`` (``h`` the 64-d code) feeds ``Dense(256) -> [., n] -> Dense(32)
-> [., n] -> linear score`` (``n`` appended before every layer). It is trained end to end (the
autoencoder too) with Adam lr 1e-4 for ``epochs`` x ``batches_per_epoch`` DevNet-style batches
(half unlabeled, half labeled anomalies, drawn with replacement) on the loss
``|s|`` (unlabeled) / ``max(0, margin - s)`` (anomaly), the best epoch's weights kept. Score: ``s``.

The paper's loss adds the reconstruction terms ``n`` (unlabeled) and ``max(0, margin - n)`` (anomaly).
ADBench's code computes them on the *normalised* residual, whose norm is always 1, so they are
constants with no gradient: ``recon_loss: false`` (the default) is that behaviour, ``true`` the
paper's loss.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .base import Detector, int_tuple
from .torch_utils import predict_batched, seeded_torch, torch_device
from .weak_supervision import BestEpoch, balanced_batch, draw, keras_dense, label_indices

logger = logging.getLogger(__name__)

#: added to the residual norm before dividing by it (Keras divides by the bare norm)
NORM_EPS = 1e-12


class FeawadNet(nn.Module):
    """The autoencoder and the score generator on ``[r / ||r||, code, ||r||]``."""

    def __init__(self, d_in: int, ae_dims=(128, 64), score_dims=(256, 32)) -> None:
        super().__init__()
        enc_dims = [d_in, d_in, *ae_dims]  # ADBench's first layer keeps the width ("ain")
        dec_dims = [ae_dims[-1], *reversed(ae_dims[:-1]), d_in]
        self.encoder = nn.ModuleList(keras_dense(a, b, "glorot_normal") for a, b in zip(enc_dims[:-1], enc_dims[1:]))
        self.decoder = nn.ModuleList(keras_dense(a, b, "glorot_normal") for a, b in zip(dec_dims[:-1], dec_dims[1:]))
        head_in = [d_in + ae_dims[-1] + 1, *(h + 1 for h in score_dims)]
        head_out = [*score_dims, 1]
        self.head = nn.ModuleList(keras_dense(a, b, "glorot_normal") for a, b in zip(head_in, head_out))

    def reconstruct(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(code, reconstruction)``; every layer ReLU, the output layer too (as ADBench)."""
        h = x
        for layer in self.encoder:
            h = F.relu(layer(h))
        out = h
        for layer in self.decoder:
            out = F.relu(layer(out))
        return h, out

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(score, residual norm)`` per row."""
        code, x_hat = self.reconstruct(x)
        r = x - x_hat
        n = r.norm(dim=1, keepdim=True)
        z = torch.cat([r / (n + NORM_EPS), code, n], dim=1)
        for layer in self.head[:-1]:
            z = torch.cat([F.relu(layer(z)), n], dim=1)
        return self.head[-1](z).squeeze(-1), n.squeeze(-1)


def feawad_loss(score: torch.Tensor, norm: torch.Tensor, is_anomaly: torch.Tensor, margin: float,
                recon_loss: bool) -> torch.Tensor:
    """Mean FEAWAD loss: ``|s|`` / ``max(0, margin - s)``, plus ``n`` / ``max(0, margin - n)`` with ``recon_loss``."""
    loss = torch.where(is_anomaly, torch.clamp(margin - score, min=0.0), score.abs())
    if recon_loss:
        loss = loss + torch.where(is_anomaly, torch.clamp(margin - norm, min=0.0), norm)
    return loss.mean()


class FEAWAD(Detector):
    """FEAWAD; defaults are ADBench's (``conf/detector/feawad.yaml``).

    Parameters
    ----------
    ae_dims : list of int, default (128, 64)
        Encoder sizes after the width-``d`` input layer (the decoder mirrors them back to ``d``).
    score_dims : list of int, default (256, 32)
        Hidden sizes of the score generator (the residual norm is appended to each layer's input).
    margin : float, default 5.0
        Confidence margin of the deviation-style loss.
    recon_loss : bool, default False
        Add the paper's reconstruction terms to the loss (ADBench's code effectively has none).
    ae_epochs, epochs, batches_per_epoch, batch_size : int, default 100, 30, 20, 512
        Pretraining and end-to-end lengths, in epochs of ``batches_per_epoch`` batches.
    ae_lr, lr : float, default 1e-4, 1e-4
        Adam rates (Keras's Adam: betas 0.9/0.999, eps 1e-7).
    keep_best : bool, default True
        Keep each phase's lowest-loss epoch (ADBench's checkpoints).
    score_batch_size : int, default 8192
        Rows per scoring batch (does not change the scores).
    seed : int
        Seeds the initialisation and the batches (local generators only).
    device : {"cpu", "cuda"}
    """

    name = "feawad"
    requires_anomalies = True
    _conversions = dict(ae_dims=int_tuple, score_dims=int_tuple, margin=float, recon_loss=bool, ae_epochs=int,
                        epochs=int, batches_per_epoch=int, batch_size=int, ae_lr=float, lr=float, keep_best=bool,
                        score_batch_size=int)
    _minimums = dict(ae_epochs=0, epochs=0, batches_per_epoch=1, batch_size=2, score_batch_size=1)

    def __init__(
        self,
        ae_dims=(128, 64),
        score_dims=(256, 32),
        margin: float = 5.0,
        recon_loss: bool = False,
        ae_epochs: int = 100,
        epochs: int = 30,
        batches_per_epoch: int = 20,
        batch_size: int = 512,
        ae_lr: float = 1e-4,
        lr: float = 1e-4,
        keep_best: bool = True,
        score_batch_size: int = 8192,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(seed=seed, device=device)
        self.ae_dims = ae_dims
        self.score_dims = score_dims
        self.margin = margin
        self.recon_loss = recon_loss
        self.ae_epochs = ae_epochs
        self.epochs = epochs
        self.batches_per_epoch = batches_per_epoch
        self.batch_size = batch_size
        self.ae_lr = ae_lr
        self.lr = lr
        self.keep_best = keep_best
        self.score_batch_size = score_batch_size
        self._settings()

    def _check_settings(self, s) -> None:
        for key in ("ae_dims", "score_dims"):
            sizes = getattr(s, key)
            if not sizes or min(sizes) < 1:
                raise ValueError(f"feawad: setting `{key}` must be a non-empty list of positive sizes, "
                                 f"got {getattr(self, key)}")
        if s.lr <= 0 or s.ae_lr <= 0:
            raise ValueError(f"feawad: settings `lr` and `ae_lr` must be > 0, got {self.lr} and {self.ae_lr}")

    def _phase(self, net, params, loss_fn, epochs, lr, keep_best, batches_per_epoch):
        """``epochs`` x ``batches_per_epoch`` Adam steps of ``loss_fn()``; the best epoch's weights kept."""
        optimizer = torch.optim.Adam(params, lr=lr, eps=1e-7)
        best = BestEpoch(net, keep_best)
        for epoch in range(epochs):
            total = 0.0
            for _ in range(batches_per_epoch):
                loss = loss_fn()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.item()
            best.update(epoch, total / batches_per_epoch)
        best.restore()
        return best.epoch

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Pretrain the autoencoder on the unlabeled rows, then train the whole network on ``(X, y)``."""
        s = self._settings()
        dev = torch_device(self.device, self.name)
        normal, anomaly = label_indices(y, self.name)
        Xt = torch.as_tensor(X, dtype=torch.float32, device=dev)
        gen = torch.Generator().manual_seed(self.seed)
        t0 = time.perf_counter()
        with seeded_torch(self.seed, dev):
            net = FeawadNet(X.shape[1], s.ae_dims, s.score_dims).to(dev)
        net.train()

        def ae_loss():
            xb = Xt[draw(normal, s.batch_size, gen).to(dev)]
            return F.mse_loss(net.reconstruct(xb)[1], xb)

        ae_params = [*net.encoder.parameters(), *net.decoder.parameters()]
        ae_best = self._phase(net, ae_params, ae_loss, s.ae_epochs, s.ae_lr, s.keep_best, s.batches_per_epoch)

        def score_loss():
            rows, labels = balanced_batch(normal, anomaly, s.batch_size, gen)
            score, norm = net(Xt[rows.to(dev)])
            return feawad_loss(score, norm, labels.to(dev) > 0.5, s.margin, s.recon_loss)

        best = self._phase(net, list(net.parameters()), score_loss, s.epochs, s.lr, s.keep_best, s.batches_per_epoch)
        net.eval()
        self.net_ = net
        self.best_epochs_ = (ae_best, best)
        logger.info("feawad: fit %d rows (%d labeled anomalies) on %s in %.1fs (best epochs %d, %d)", len(X),
                    len(anomaly), dev, time.perf_counter() - t0, ae_best + 1, best + 1)

    def _decision_function(self, X) -> np.ndarray:
        """The score generator's output ``s`` (higher = more anomalous)."""
        dev = next(self.net_.parameters()).device
        return predict_batched(lambda xb: self.net_(xb)[0], X, dev, int(self.score_batch_size))
