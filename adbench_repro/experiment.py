"""One experiment, with no tracking and no sweep: load -> split -> generate -> fit -> score -> metrics
(AUCROC, AUCPR and, unless ``validation.signals=false``, the label-free signals of :mod:`.signals`; with
``validation.holdout > 0`` also the held-out signals of :mod:`.holdout`, after all the rest)."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

import hydra
import numpy as np
from omegaconf import DictConfig
from sklearn.metrics import average_precision_score, roc_auc_score

from .budget import pseudo_anomaly_count
from .datasets import load_arrays, make_split
from .holdout import heldout_metrics
from .outputs import holdout_fraction, signals_enabled  # noqa: F401 - signals_enabled is part of this API
from .signals import compute_signals

log = logging.getLogger(__name__)
#: counts of identical rows that ``protocol.split=grouped_identical`` logs as metrics (datasets.split.identical_groups)
SPLIT_COUNTS = ("n_identical_groups", "n_identical_rows", "n_conflict_groups", "n_conflict_rows")


@dataclass(frozen=True)
class Result:
    """What one experiment measured: ``metrics`` (AUCROC, AUCPR, timings, sizes) and ``tags`` (split facts)."""

    metrics: dict[str, float]
    tags: dict[str, str]

    @property
    def aucroc(self) -> float:
        return float(self.metrics["aucroc"])

    @property
    def aucpr(self) -> float:
        return float(self.metrics["aucpr"])


def threads(cfg: DictConfig) -> int:
    """torch/BLAS threads for a run: ``cfg.threads``, or with ``auto`` ``$ADBENCH_THREADS`` (set by a sweep's
    launcher) else every core."""
    value = cfg.get("threads", "auto")
    if value in (None, "auto"):
        env = os.environ.get("ADBENCH_THREADS")
        return int(env) if env else (os.cpu_count() or 1)
    n = int(value)
    if n < 1:
        raise ValueError(f"threads must be >= 1 or 'auto', got {value}")
    return n


def experiment(cfg: DictConfig, device: str = "cpu") -> Result:
    """Run the configuration ``cfg`` once on ``device`` and measure it; raises on any failure."""
    import torch
    from threadpoolctl import threadpool_limits

    n_threads = threads(cfg)
    holdout = holdout_fraction(cfg)  # a bad value fails before any work
    torch.set_num_threads(n_threads)
    with threadpool_limits(limits=n_threads):
        t0 = time.perf_counter()
        X, y = load_arrays(str(cfg.dataset.name), str(cfg.data.root))
        split = make_split(
            X, y, seed=int(cfg.seed), la=float(cfg.label_ratio.la), keep=float(cfg.label_ratio.keep),
            test_size=float(cfg.protocol.test_size), duplicate_small=bool(cfg.protocol.duplicate_small),
            drop_unkept=bool(cfg.protocol.drop_unkept), pollution=float(cfg.protocol.pollution),
            split=str(cfg.protocol.get("split", "adbench")),
        )
        load_s = time.perf_counter() - t0
        if len(np.unique(split.y_test)) < 2:  # AUCROC undefined: fail before any work, never a run without it
            raise ValueError(
                f"dataset {cfg.dataset.name}, seed {cfg.seed}, protocol.split="
                f"{cfg.protocol.get('split', 'adbench')}: the test split holds only "
                f"{'anomalies' if split.y_test.min() == 1 else 'normal rows'} ({len(split.y_test)} rows), so AUCROC "
                "is undefined (with grouped splits a file's identical rows can leave one class wholly in training)")
        if split.info.get("n_conflict_groups"):
            log.info("%s: %d groups of identical rows carry both labels (%d rows); each group is on one side of "
                     "the split", cfg.dataset.name, split.info["n_conflict_groups"], split.info["n_conflict_rows"])

        t0 = time.perf_counter()
        augmenter = hydra.utils.instantiate(cfg.augmenter)
        n_gen = pseudo_anomaly_count(cfg, len(split.X_labeled), len(split.X_unlabeled) + len(split.X_labeled))
        X_gen = augmenter.generate(split.X_labeled, split.X_unlabeled, n_gen, np.random.default_rng(int(cfg.seed)))
        generate_s = time.perf_counter() - t0
        X_train, y_train = split.training_set(X_gen)

        t0 = time.perf_counter()
        detector = hydra.utils.instantiate(cfg.detector, seed=int(cfg.seed), device=device)
        detector.fit(X_train, y_train)
        fit_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        scores = detector.decision_function(split.X_test)
        score_s = time.perf_counter() - t0

        signals: dict[str, float] = {}
        if signals_enabled(cfg):  # after the test scores: nothing above depends on them
            t0 = time.perf_counter()
            signals = compute_signals(detector, split.X_unlabeled, split.X_labeled, X_gen, split.X_test,
                                      int(cfg.seed))
            signals["signals_s"] = time.perf_counter() - t0
        if holdout > 0:  # last: a second fit on its own rows and streams, nothing above reads it
            signals.update(heldout_metrics(cfg, split, device))
    metrics = {
        "aucroc": roc_auc_score(split.y_test, scores),
        "aucpr": average_precision_score(split.y_test, scores),
        "load_s": load_s, "generate_s": generate_s, "fit_s": fit_s, "score_s": score_s,
        "n_train": len(y_train), "n_test": len(split.y_test), "n_labeled": len(split.X_labeled),
        "n_generated": n_gen, "n_unlabeled": len(split.X_unlabeled),
        "n_unlabeled_anomalies": split.info["n_unlabeled_anomalies"], "n_dropped": split.info["n_dropped"],
        "threads": n_threads, **signals,
        **{f"split_{k[2:]}": split.info[k] for k in SPLIT_COUNTS if k in split.info},
    }
    tags = {"split.duplicated": str(split.info["duplicated"]).lower(),
            "split.subsampled": str(split.info["subsampled"]).lower()}
    return Result(metrics, tags)
