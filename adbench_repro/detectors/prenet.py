"""PReNet (Pang et al., KDD 2023, "Deep weakly-supervised anomaly detection"), with ADBench's settings.

A pairwise relation network: a shared feature layer ``f`` (``d -> 20``, ReLU) embeds both rows of
a pair, and a linear unit on the concatenation ``[f(left), f(right)]`` predicts the pair's score.
Training pairs (per batch of ``batch_size``): a quarter (labeled anomaly, labeled anomaly) with
target 8, a quarter (labeled anomaly, unlabeled) with target 4 and a half (unlabeled, unlabeled)
with target 0, all drawn with replacement; mean absolute error; RMSprop (torch's, lr 1e-3, weight
decay 1e-2); ``epochs`` x ``batches_per_epoch`` batches; the last epoch's weights are scored.
Score of ``x``: the mean over ``n_score_pairs`` random labeled anomalies ``a`` and unlabeled rows
``u`` of ``g(a, x) + g(x, u)``.

Because the score unit is linear, ``g(l, r) = w_l . f(l) + w_r . f(r) + b``, so the score is
computed exactly from each training row's two projections (kept after fit) and ``f(x)``, without
building ``2 * n_score_pairs`` pairs per row.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch
from torch import nn

from .base import Detector
from .torch_utils import batch_slices, seeded_torch, torch_device
from .weak_supervision import draw, label_indices

logger = logging.getLogger(__name__)

#: offset added to ``seed`` for the generator that draws the scoring pairs
SCORE_SEED_OFFSET = 7919


class PairNet(nn.Module):
    """Shared ``Linear(d, hidden) + ReLU`` on both rows, ``Linear(2 * hidden, 1)`` on the concatenation."""

    def __init__(self, d_in: int, hidden: int = 20) -> None:
        super().__init__()
        self.feature = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU())
        self.reg = nn.Linear(2 * hidden, 1)

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        return self.reg(torch.cat([self.feature(left), self.feature(right)], dim=1)).squeeze(-1)


class PReNet(Detector):
    """Pairwise relation network; defaults are ADBench's (``conf/detector/prenet.yaml``).

    Parameters
    ----------
    hidden : int, default 20
        Width of the shared feature layer.
    targets : list of 3 floats, default (8, 4, 0)
        Regression targets of (anomaly, anomaly), (anomaly, unlabeled) and (unlabeled, unlabeled) pairs.
    epochs, batches_per_epoch, batch_size : int, default 50, 20, 512
        Training length: ``epochs * batches_per_epoch`` RMSprop steps of ``batch_size`` pairs
        (``batch_size // 4`` of each anomaly kind, the rest unlabeled pairs).
    lr, weight_decay : float, default 1e-3, 1e-2
        torch's RMSprop (alpha 0.99, eps 1e-8) with L2 weight decay.
    n_score_pairs : int, default 30
        Labeled anomalies and unlabeled rows each row is paired with when scored.
    score_batch_size : int, default 8192
        Rows per scoring batch (does not change the scores).
    seed : int
        Seeds the initialisation, the training pairs and the scoring pairs (local generators only).
    device : {"cpu", "cuda"}
    """

    name = "prenet"
    requires_anomalies = True
    _conversions = dict(hidden=int, targets=lambda v: tuple(float(t) for t in v), epochs=int,
                        batches_per_epoch=int, batch_size=int, lr=float, weight_decay=float, n_score_pairs=int,
                        score_batch_size=int)
    _minimums = dict(hidden=1, epochs=0, batches_per_epoch=1, batch_size=4, n_score_pairs=1, score_batch_size=1)

    def __init__(
        self,
        hidden: int = 20,
        targets=(8.0, 4.0, 0.0),
        epochs: int = 50,
        batches_per_epoch: int = 20,
        batch_size: int = 512,
        lr: float = 1e-3,
        weight_decay: float = 1e-2,
        n_score_pairs: int = 30,
        score_batch_size: int = 8192,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(seed=seed, device=device)
        self.hidden = hidden
        self.targets = targets
        self.epochs = epochs
        self.batches_per_epoch = batches_per_epoch
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_score_pairs = n_score_pairs
        self.score_batch_size = score_batch_size
        self._settings()

    def _check_settings(self, s) -> None:
        if len(s.targets) != 3:
            raise ValueError(f"prenet: setting `targets` must be 3 values (a-a, a-u, u-u pairs), got {self.targets}")
        if s.lr <= 0 or s.weight_decay < 0:
            raise ValueError(f"prenet: settings `lr` must be > 0 and `weight_decay` >= 0, "
                             f"got {self.lr} and {self.weight_decay}")

    def _pairs(self, normal, anomaly, batch_size, targets, gen):
        """Left rows, right rows and targets of one batch: a-a, a-u (a quarter each), u-u (the rest)."""
        q = batch_size // 4
        n_uu = batch_size - 2 * q
        left = torch.cat([draw(anomaly, q, gen), draw(anomaly, q, gen), draw(normal, n_uu, gen)])
        right = torch.cat([draw(anomaly, q, gen), draw(normal, q, gen), draw(normal, n_uu, gen)])
        t = torch.cat([torch.full((q,), targets[0]), torch.full((q,), targets[1]), torch.full((n_uu,), targets[2])])
        return left, right, t

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Train the pair network on pairs drawn from ``(X, y)``; keep the projections needed to score."""
        s = self._settings()
        dev = torch_device(self.device, self.name)
        normal, anomaly = label_indices(y, self.name)
        Xt = torch.as_tensor(X, dtype=torch.float32, device=dev)
        gen = torch.Generator().manual_seed(self.seed)
        t0 = time.perf_counter()
        with seeded_torch(self.seed, dev):
            net = PairNet(X.shape[1], s.hidden).to(dev)
        optimizer = torch.optim.RMSprop(net.parameters(), lr=s.lr, weight_decay=s.weight_decay)
        net.train()
        for _ in range(s.epochs):
            for _ in range(s.batches_per_epoch):
                left, right, target = (t.to(dev) for t in self._pairs(normal, anomaly, s.batch_size, s.targets, gen))
                loss = (net(Xt[left], Xt[right]) - target).abs().mean()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        net.eval()
        self.net_ = net
        w = net.reg.weight.detach().reshape(-1)
        self.w_left_, self.w_right_ = w[: s.hidden], w[s.hidden:]
        with torch.no_grad():
            feats = self._features(Xt, s.score_batch_size)
            self.anomaly_left_ = feats[anomaly.to(dev)] @ self.w_left_  # g(a, .)'s share of each labeled anomaly
            self.normal_right_ = feats[normal.to(dev)] @ self.w_right_  # g(., u)'s share of each unlabeled row
        logger.info("prenet: fit %d rows (%d labeled anomalies) on %s in %.1fs", len(X), len(anomaly), dev,
                    time.perf_counter() - t0)

    def _features(self, Xt: torch.Tensor, batch_size: int) -> torch.Tensor:
        return torch.cat([self.net_.feature(Xt[sl]) for sl in batch_slices(len(Xt), batch_size, drop_last=False)])

    @torch.no_grad()
    def _decision_function(self, X) -> np.ndarray:
        """Mean of ``g(a, x) + g(x, u)`` over ``n_score_pairs`` random anomalies ``a`` and unlabeled ``u``.

        The pairs are drawn from a generator seeded with ``seed`` on every call, so scoring the same
        rows twice gives the same scores."""
        k = int(self.n_score_pairs)
        dev = self.w_left_.device
        gen = torch.Generator().manual_seed(self.seed + SCORE_SEED_OFFSET)
        ia = torch.randint(len(self.anomaly_left_), (len(X), k), generator=gen).to(dev)
        iu = torch.randint(len(self.normal_right_), (len(X), k), generator=gen).to(dev)
        f = self._features(torch.as_tensor(X, dtype=torch.float32, device=dev), int(self.score_batch_size))
        own = f @ (self.w_left_ + self.w_right_) + 2 * self.net_.reg.bias.detach()
        score = self.anomaly_left_[ia].mean(dim=1) + self.normal_right_[iu].mean(dim=1) + own
        return score.double().cpu().numpy()
