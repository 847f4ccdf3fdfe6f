"""Reference checks (slow): our DevNet, PReNet and FEAWAD against installable implementations.

On three small Classical datasets (ADBench's split, 10% labeled anomalies, so that every seed has enough
labeled anomalies to train on) and seeds 0-2, the mean test AUCROC of ours and of the reference must
agree within ``TOLERANCE`` (DevNet: ours must not be worse than pyod's by more than it; see its test). The references are independent implementations with their own defaults, not
ADBench's code, so only the mean over datasets and seeds is compared, and the tolerance is loose enough
for those differences and tight enough to catch a broken detector (a random scorer averages ~0.5, the
detectors here ~0.8-0.95):

- pyod's ``DevNet`` (``pyod.models.devnet``): a torch port with a 1000-unit hidden layer (ADBench's
  Keras code: 20), no balanced batches and a fresh reference sample per step; it seeds numpy and torch
  globally *at import* and draws from the global RNGs, so each fit runs inside
  :func:`~adbench_repro.detectors.rng.seeded_global_rngs` (reproducible, and no leak into the suite).
  It calls its loss with the arguments swapped (see :func:`pyod_devnet`), which inverts its scores; the
  check corrects that one call for the duration of the fit;
- deepod's ``PReNet`` and ``FeaWAD`` (``deepod.models.tabular``; MLP 100-50 -> 128, batch 64, 100 epochs).
  deepod 0.4.1 pins ``torch<1.13.1``, which conflicts with this project's torch, so it is not a dependency
  (not even an extra): ``pip install --no-deps deepod==0.4.1`` into the venv runs it on torch 2.13; without
  it these checks are skipped with that reason.

The figures of the last run are in ``results/bench/new_detectors.txt``.
"""

from __future__ import annotations

import contextlib
import io
import random
from pathlib import Path

import hydra.utils
import numpy as np
import pytest
from omegaconf import OmegaConf
from sklearn.metrics import roc_auc_score

from adbench_repro.detectors.rng import seeded_global_rngs

pytestmark = pytest.mark.slow

CONF_DIR = Path(__file__).resolve().parents[1] / "conf" / "detector"
DATASETS = ["4_breastw", "6_cardio", "29_Pima"]
SEEDS = [0, 1, 2]
#: |mean AUCROC (ours) - mean AUCROC (reference)| over DATASETS x SEEDS
TOLERANCE = 0.05


def splits(root):
    from adbench_repro.datasets import load_split

    for name in DATASETS:
        for seed in SEEDS:
            split = load_split(name, root=root, seed=seed, la=0.1, keep=1.0)
            X, y = split.training_set()
            yield name, seed, X, y, split.X_test, split.y_test


def ours(name: str, seed: int, X, y, X_test) -> np.ndarray:
    cfg = OmegaConf.load(CONF_DIR / f"{name}.yaml")
    return hydra.utils.instantiate(cfg, seed=seed, device="cpu").fit(X, y).decision_function(X_test)


@contextlib.contextmanager
def isolated(seed: int):
    """Seeded global numpy/torch/python RNGs, restored afterwards; the library's printing swallowed."""
    state = random.getstate()
    random.seed(seed)
    try:
        with seeded_global_rngs(seed), contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        random.setstate(state)


def pyod_devnet(seed: int, X, y, X_test, fix_loss: bool = True) -> np.ndarray:
    """pyod's DevNet, seeded; ``fix_loss`` corrects the call of pyod's deviation loss for the fit.

    pyod 3.6.7's training loop calls ``deviation_loss(outputs, labels)`` but the function is
    ``deviation_loss(y_true, y_pred)``: the labels are standardised as if they were scores and the network's
    (batch, 1) output weighs the two loss terms, broadcast against the (batch,) labels. Its scores come out
    inverted (AUCROC 0.0007 / 0.56 / 0.27 on 4_breastw / 6_cardio / 29_Pima seed 0). The fix passes the
    arguments in the right order, the output flattened; the rest of pyod's DevNet is used as it is."""
    with isolated(seed):
        import pyod.models.devnet as pyod_devnet_module  # seeds the global RNGs at import: inside the block

        original = pyod_devnet_module.deviation_loss
        if fix_loss:
            pyod_devnet_module.deviation_loss = lambda outputs, labels: original(labels, outputs.reshape(-1))
        try:
            # ADBench trains 50 epochs x 20 batches = 1,000 steps of 512 rows; pyod's epoch is one pass over the
            # data (1-3 batches here), so its 50 default epochs are 50-150 steps: give it the same 1,000 steps
            steps_per_epoch = int(np.ceil(len(X) / 512))
            model = pyod_devnet_module.DevNet(device="cpu", epochs=int(np.ceil(1000 / steps_per_epoch)))
            model.fit(X, y)
            return np.asarray(model.decision_function(X_test), dtype=float)
        finally:
            pyod_devnet_module.deviation_loss = original


def deepod_model(cls_name: str):
    tabular = pytest.importorskip(
        "deepod.models.tabular",
        reason="deepod is not installed: it pins torch<1.13.1, so it is no dependency; "
               "`pip install --no-deps deepod==0.4.1` to run this check")

    def run(seed: int, X, y, X_test) -> np.ndarray:
        with isolated(seed):
            model = getattr(tabular, cls_name)(device="cpu", verbose=0, random_state=seed)
            model.fit(X, y)
            return np.asarray(model.decision_function(X_test), dtype=float)

    return run


def compare(name: str, reference, adbench_root) -> tuple[float, float, list[str]]:
    mine, theirs, rows = [], [], []
    for ds, seed, X, y, X_test, y_test in splits(adbench_root):
        a = roc_auc_score(y_test, ours(name, seed, X, y, X_test))
        b = roc_auc_score(y_test, reference(seed, X, y, X_test))
        mine.append(a)
        theirs.append(b)
        rows.append(f"{name} {ds} seed {seed}: ours {a:.4f} reference {b:.4f}")
    print("\n".join(rows))
    print(f"{name}: mean AUCROC ours {np.mean(mine):.4f} reference {np.mean(theirs):.4f} "
          f"difference {np.mean(mine) - np.mean(theirs):+.4f} (tolerance {TOLERANCE})")
    return float(np.mean(mine)), float(np.mean(theirs)), rows


def test_devnet_is_not_worse_than_pyod(adbench_root):
    """One-sided: pyod's DevNet, even corrected and given ADBench's 1,000 steps, is unstable (4_breastw: AUCROC
    0.56 / 0.71 / 0.94 over seeds 0-2, where every other detector here has ~0.99) and averages 0.67 to our 0.91
    (2026-12-04), so the two cannot agree within TOLERANCE; ours must not be worse than it by more than that."""
    mine, theirs, _ = compare("devnet", pyod_devnet, adbench_root)
    assert mine >= theirs - TOLERANCE


#: deepod 0.4.1 run on torch 2.13 (it pins torch<1.13.1; installed with --no-deps), 2026-12-04: its PReNet scores
#: near random (mean AUCROC 0.59 over the 9 splits, 0.48-0.65 on 4_breastw, where ours has 0.91 and 0.98-1.00)
#: and its FeaWAD returns NaN scores on 4_breastw seed 0. Not usable as a reference in this environment; strict,
#: so a deepod that starts agreeing turns these into failures to look at.
DEEPOD_BROKEN = pytest.mark.xfail(strict=True, reason="deepod 0.4.1 on torch 2.13: PReNet near-random scores, "
                                  "FeaWAD NaN scores (see DEEPOD_BROKEN)")


@pytest.mark.parametrize(("name", "reference"), [pytest.param("prenet", "PReNet", marks=DEEPOD_BROKEN),
                                                 pytest.param("feawad", "FeaWAD", marks=DEEPOD_BROKEN)])
def test_weakly_supervised_match_deepod(name, reference, adbench_root):
    mine, theirs, _ = compare(name, deepod_model(reference), adbench_root)
    assert abs(mine - theirs) <= TOLERANCE


def test_pyod_devnet_is_seeded_without_leaking(adbench_root):
    """The isolation the check relies on: the same seed gives the same reference scores, the caller's RNGs untouched."""
    _, seed, X, y, X_test, _ = next(splits(adbench_root))
    before = np.random.get_state()[1].copy()
    a, b = pyod_devnet(seed, X, y, X_test), pyod_devnet(seed, X, y, X_test)
    np.testing.assert_array_equal(a, b)
    assert np.array_equal(before, np.random.get_state()[1])
