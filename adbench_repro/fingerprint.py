"""Behavioural fingerprints: what a component *does*, so that a change of behaviour makes old runs stale.

The config hash (:mod:`.confighash`) covers a run's settings, not the code that interprets them. A fingerprint
covers the code: each component of a run is run with the run's own parameters on a small fixed input, and its
output is hashed at a stated tolerance.

* ``augmenter``: ``generate`` of the run's augmenter on :data:`N_LABELED` labeled anomalies and
  :data:`N_UNLABELED` unlabeled rows (6 features) asking for :data:`N_GENERATE` rows, rng seed 0; the rows
  rounded to :data:`DECIMALS` decimals.
* ``detector``: the run's detector (seed 0, CPU, one thread) fitted on 150 rows with 8 labeled anomalies and
  scored on 50 rows; the scores min-max scaled and rounded to :data:`SCORE_DECIMALS` decimals.
* ``split``: :func:`datasets.make_split` with the run's protocol and label ratio (seed 0) on a 300-row data
  set (so ADBench's resampling of small data sets runs too); every array of the split rounded to
  :data:`DECIMALS` decimals. ``protocol.split=grouped_identical`` adds a 1,200-row data set with repeated
  rows (some with conflicting labels), which its grouping by value acts on.

Each is 12 hex digits of SHA-256; :func:`combined` joins the three into the ``fingerprint`` a run is leased
and found by. Computed once per component and process (:func:`functools.lru_cache` on the component's
canonical JSON): a CatBoost or XGBOD fit on the fixture takes about a second, an augmenter or split
milliseconds. A refactor that keeps behaviour keeps every fingerprint, and so every run.

What a fingerprint can miss (docs/development.md#fingerprints): behaviour that shows only on large inputs
(e.g. a code path taken above 1,000 rows or 10,000 rows other than the resampling, mini-batching beyond the
fixture's size, the subsampling of data sets above 10,000 rows), only on a GPU, only with several threads, or
only for other seeds; a change smaller than the tolerance; and the glue of :mod:`.experiment` (how the
training set is assembled and scored) and the metrics, which no component owns. The data files are covered by
their checksums (``datasets/SHA256SUMS``), not by fingerprints.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging

import numpy as np

from .confighash import PROTOCOL_DEFAULTS_OUT_OF_HASH as _PROTOCOL_DEFAULTS

#: decimals kept of generated rows and split arrays (features are min-max scaled to [0, 1])
DECIMALS = 6
#: decimals kept of min-max scaled detector scores
SCORE_DECIMALS = 4
N_LABELED, N_UNLABELED, N_GENERATE = 5, 60, 30
COMPONENTS = ("augmenter", "detector", "split")


def _digest(*arrays: np.ndarray, decimals: int) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.round(np.asarray(a, dtype=np.float64), decimals) + 0.0  # + 0.0: -0.0 hashes as 0.0
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:12]


def _canon(node) -> str:
    from .confighash import canonical_json

    return canonical_json(node)


def _fixture_rows(n: int, d: int, shift: float, seed: int) -> np.ndarray:
    return np.clip(np.random.default_rng(seed).normal(0.5 + shift, 0.12, size=(n, d)), 0.0, 1.0)


@functools.lru_cache(maxsize=None)
def _augmenter(node_json: str) -> str:
    from hydra.utils import instantiate

    labeled = _fixture_rows(N_LABELED, 6, 0.25, 1)
    unlabeled = _fixture_rows(N_UNLABELED, 6, 0.0, 2)
    out = instantiate(json.loads(node_json)).generate(labeled, unlabeled, N_GENERATE, np.random.default_rng(0))
    return _digest(out, decimals=DECIMALS)


@functools.lru_cache(maxsize=None)
def _detector(node_json: str) -> str:
    import torch
    from hydra.utils import instantiate
    from threadpoolctl import threadpool_limits

    X = np.vstack([_fixture_rows(142, 6, 0.0, 3), _fixture_rows(8, 6, 0.3, 4)])
    y = np.r_[np.zeros(142), np.ones(8)].astype(np.int64)
    X_test = np.vstack([_fixture_rows(42, 6, 0.0, 5), _fixture_rows(8, 6, 0.3, 6)])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    quiet = logging.getLogger("adbench_repro.detectors")  # the probe's "fit 150 rows" lines are not the run's
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        with threadpool_limits(limits=1):
            detector = instantiate(json.loads(node_json), seed=0, device="cpu")
            scores = np.asarray(detector.fit(X, y).decision_function(X_test), dtype=np.float64)
    finally:
        torch.set_num_threads(threads)
        quiet.setLevel(level)
    span = float(scores.max() - scores.min())
    scaled = (scores - scores.min()) / span if span > 0 else np.zeros_like(scores)
    return _digest(scaled, decimals=SCORE_DECIMALS)


@functools.lru_cache(maxsize=None)
def _split(protocol_json: str, label_ratio_json: str) -> str:
    from .datasets import make_split

    protocol = {**_PROTOCOL_DEFAULTS, **json.loads(protocol_json)}
    ratio = json.loads(label_ratio_json)
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 6))
    y = np.zeros(300, dtype=np.int64)
    y[rng.choice(300, 30, replace=False)] = 1
    X[y == 1] += 2.0
    s = make_split(X, y, seed=0, la=float(ratio["la"]), keep=float(ratio["keep"]),
                   test_size=float(protocol["test_size"]), duplicate_small=bool(protocol["duplicate_small"]),
                   drop_unkept=bool(protocol["drop_unkept"]), pollution=float(protocol["pollution"]),
                   split=str(protocol["split"]))
    arrays = [s.X_unlabeled, s.X_labeled, s.X_test, s.y_test, s.y_unlabeled_true]
    if protocol["split"] == "grouped_identical":  # its grouping by value acts only on repeated rows: a second
        # fixture of 1,200 rows (not resampled) with natural duplicates, some with conflicting labels
        X2 = np.round(rng.uniform(size=(1200, 2)), 1)
        y2 = (rng.uniform(size=1200) < 0.1).astype(np.int64)
        s2 = make_split(X2, y2, seed=0, la=float(ratio["la"]), keep=float(ratio["keep"]),
                        test_size=float(protocol["test_size"]), duplicate_small=bool(protocol["duplicate_small"]),
                        drop_unkept=bool(protocol["drop_unkept"]), pollution=float(protocol["pollution"]),
                        split="grouped_identical")
        arrays += [s2.X_unlabeled, s2.X_labeled, s2.X_test, s2.y_test, s2.y_unlabeled_true]
    return _digest(*arrays, decimals=DECIMALS)


def fingerprints(config: dict) -> dict[str, str]:
    """``{"augmenter": ..., "detector": ..., "split": ...}`` of a run's result config
    (:func:`confighash.result_config`, plain data)."""
    return {"augmenter": _augmenter(_canon(config["augmenter"])),
            "detector": _detector(_canon(config["detector"])),
            "split": _split(_canon(config["protocol"]), _canon(config["label_ratio"]))}


def combined(fps: dict[str, str]) -> str:
    """One fingerprint for the three components: a run is done only while it matches today's."""
    return hashlib.sha256("|".join(fps[c] for c in COMPONENTS).encode()).hexdigest()[:12]
