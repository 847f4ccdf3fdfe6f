"""FT-Transformer (Gorishniy et al., NeurIPS 2021) as a binary classifier, ADBench style.

The model and optimizer are the defaults of ``rtdl_revisiting_models``
(``FTTransformer.get_default_kwargs(n_blocks)`` and ``make_default_optimizer()``: AdamW, lr 1e-4,
weight decay 1e-5), all features continuous (``cat_cardinalities=[]``, ``x_cat=None``), one
logit trained with binary cross-entropy for ``epochs`` epochs of ``batch_size`` rows. ADBench
evaluates on the training set after every epoch but its early stopping (patience 100 with 100
epochs) never fires, so the last epoch's weights are scored; we do the same and skip that
evaluation unless ``log_train_auc`` is set. Score: sigmoid of the logit.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch
from torch.nn import functional as F

from .base import Detector
from .torch_utils import batch_slices, predict_batched, seeded_torch, torch_device

logger = logging.getLogger(__name__)


class FTTransformerDetector(Detector):
    """FT-Transformer classifier; defaults in ``conf/detector/fttransformer.yaml``."""

    name = "fttransformer"
    requires_anomalies = True
    _conversions = dict(n_blocks=int, epochs=int, batch_size=int, shuffle=bool, score_batch_size=int,
                        log_train_auc=bool)
    _minimums = dict(epochs=0, batch_size=1, score_batch_size=1)

    def __init__(
        self,
        n_blocks: int = 3,
        epochs: int = 100,
        batch_size: int = 64,
        shuffle: bool = True,
        score_batch_size: int = 4096,
        log_train_auc: bool = False,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(seed=seed, device=device)
        self.n_blocks = n_blocks
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.score_batch_size = score_batch_size
        self.log_train_auc = log_train_auc
        self._settings()

    def _check_settings(self, s) -> None:
        if not 1 <= s.n_blocks <= 6:
            raise ValueError(
                f"fttransformer: setting `n_blocks` must be in 1..6 (default configurations), got {self.n_blocks}"
            )

    def _logits(self, xb: torch.Tensor) -> torch.Tensor:
        return self.model_(xb, None).squeeze(-1)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Train the default FT-Transformer on ``(X, y)`` with BCE on logits."""
        from rtdl_revisiting_models import FTTransformer

        s = self._settings()
        dev = torch_device(self.device, self.name)
        Xt = torch.as_tensor(X, dtype=torch.float32, device=dev)
        yt = torch.as_tensor(y, dtype=torch.float32, device=dev)
        gen = torch.Generator().manual_seed(self.seed)
        slices = batch_slices(len(X), s.batch_size, drop_last=False)
        t_start = time.perf_counter()
        with seeded_torch(self.seed, dev):
            self.model_ = FTTransformer(
                n_cont_features=X.shape[1], cat_cardinalities=[], d_out=1,
                **FTTransformer.get_default_kwargs(s.n_blocks),
            ).to(dev)
            optimizer = self.model_.make_default_optimizer()
            for epoch in range(s.epochs):
                t0 = time.perf_counter()
                self.model_.train()
                order = torch.randperm(len(X), generator=gen).to(dev) if s.shuffle else torch.arange(len(X), device=dev)
                total = torch.zeros((), device=dev)
                for sl in slices:
                    idx = order[sl]
                    loss = F.binary_cross_entropy_with_logits(self._logits(Xt[idx]), yt[idx])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += loss.detach()
                msg = f"fttransformer epoch {epoch + 1}/{s.epochs} loss {total.item() / len(slices):.5f}"
                if s.log_train_auc:
                    from sklearn.metrics import roc_auc_score

                    msg += f" train AUCROC {roc_auc_score(y, self._predict(X)):.4f}"
                logger.debug("%s (%.2fs)", msg, time.perf_counter() - t0)
        self.model_.eval()
        logger.info("fttransformer: fit %d rows x %d features, %d epochs on %s in %.1fs", len(X), X.shape[1],
                    s.epochs, dev, time.perf_counter() - t_start)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        self.model_.eval()
        dev = next(self.model_.parameters()).device
        return predict_batched(lambda xb: torch.sigmoid(self._logits(xb)), X, dev, int(self.score_batch_size))

    def _decision_function(self, X) -> np.ndarray:
        """Probability of the anomaly class (sigmoid of the logit)."""
        return self._predict(X)
