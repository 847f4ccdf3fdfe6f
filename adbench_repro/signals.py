"""Label-free validation signals of one run: what a user without test labels can measure (issue 22).

Computed inside the run, after the test rows are scored, and logged as MLflow metrics next to ``aucroc``
so that a generator can be selected later without a rerun (:mod:`adbench_repro.aggregate.selection`). No
function here takes a test label; each draws from its own stream seeded by the run's seed and its name,
so the run's other draws and its AUCROC are unchanged.

* ``val_mmd`` (transductive alignment, detector-free, lower = better aligned): squared MMD (biased,
  RBF kernel) between the training set as the detector sees it, the unlabeled rows and labeled anomalies
  mixed with the pseudo-anomalies in their training proportion, and the unlabeled test rows. Each part is
  a subsample of at most :data:`MMD_ROWS` rows; the bandwidth is the median heuristic on the training and
  test subsamples, which do not depend on the generator, so the candidates of one (dataset, seed) are
  compared on the same kernel and rows and differ only by their pseudo-anomalies.
* ``val_xgen_<g>`` (cross-generator validation, needs the fitted detector, higher = better): the AUC
  with which the detector ranks :data:`XGEN_ROWS` anomaly-like points made by a validation generator
  ``g`` above a subsample of the unlabeled training rows. The generators, :data:`XGEN_GENERATORS`, are
  none of the candidates of the selection study, so no candidate is validated on its own kind of points.
"""

from __future__ import annotations

import logging
import zlib

import numpy as np
from sklearn.metrics import roc_auc_score

log = logging.getLogger(__name__)

#: rows of each part (training rows, pseudo-anomalies, test rows) in the MMD
MMD_ROWS = 500
#: anomaly-like validation points per cross-generator signal, and unlabeled rows they are ranked against
XGEN_ROWS = 200
XGEN_NEGATIVES = 500
#: validation generators (conf/augmenter/<name>.yaml, default settings): global and local anomalies
XGEN_GENERATORS = ("uniform", "cutmix_gn")


def stream(seed: int, name: str) -> np.random.Generator:
    """The private stream of signal ``name`` in a run with ``seed`` (independent of the run's own draws)."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def _subsample(X: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    return X if len(X) <= m else X[np.sort(rng.choice(len(X), m, replace=False))]


def _sqdist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return np.maximum(d, 0.0)


def median_gamma(X: np.ndarray) -> float:
    """RBF ``gamma = 1 / median`` of the nonzero pairwise squared distances of ``X`` (1.0 when all coincide)."""
    d = _sqdist(X, X)[np.triu_indices(len(X), k=1)]
    d = d[d > 0]
    return 1.0 / float(np.median(d)) if len(d) else 1.0


def mmd_mixture(base: np.ndarray, gen: np.ndarray, w: float, test: np.ndarray, gamma: float) -> float:
    """Biased squared MMD between the mixture ``(1 - w) base + w gen`` (empirical distributions) and ``test``."""
    def k(A, B):
        return float(np.exp(-gamma * _sqdist(A, B)).mean())

    out = k(test, test) + (1 - w) ** 2 * k(base, base) - 2 * (1 - w) * k(base, test)
    if w > 0 and len(gen):
        out += 2 * w * (1 - w) * k(base, gen) + w ** 2 * k(gen, gen) - 2 * w * k(gen, test)
    return max(out, 0.0)


def mmd_signal(X_unlabeled: np.ndarray, X_labeled: np.ndarray, X_gen: np.ndarray, X_test: np.ndarray,
               seed: int, streams: str = "") -> float:
    """``val_mmd`` of a run (see the module docstring): training rows + pseudo-anomalies vs unlabeled test rows
    (``X_test``: the rows to align with; the held-out rows for ``val_ho_mmd``). ``streams`` prefixes the names
    of its private streams (``"ho."`` for the held-out signals)."""
    rng = stream(seed, f"{streams}mmd")
    base_all = np.vstack([X_unlabeled, X_labeled])
    base = _subsample(base_all, MMD_ROWS, rng)
    test = _subsample(X_test, MMD_ROWS, rng)
    gen = _subsample(np.asarray(X_gen, dtype=np.float64), MMD_ROWS, stream(seed, f"{streams}mmd.gen"))
    w = len(X_gen) / (len(base_all) + len(X_gen))
    return mmd_mixture(base, gen, w, test, median_gamma(np.vstack([base, test])))


def validation_generator(name: str):
    """The augmenter of ``conf/augmenter/<name>.yaml`` with its default settings."""
    import hydra
    import yaml

    from . import CONF_DIR

    path = CONF_DIR / "augmenter" / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"validation generator {name!r}: no {path} (signals.XGEN_GENERATORS)")
    return hydra.utils.instantiate(yaml.safe_load(path.read_text()))


def xgen_signals(detector, X_labeled: np.ndarray, X_unlabeled: np.ndarray, seed: int,
                 generators: tuple[str, ...] = XGEN_GENERATORS, X_negatives: np.ndarray | None = None,
                 metric: str = "val_", streams: str = "") -> dict[str, float]:
    """``val_xgen_<g>`` for each validation generator ``g``: AUC of the fitted ``detector``'s scores of ``g``'s
    points (made from ``X_labeled`` and ``X_unlabeled``) against ``X_negatives`` (default: the unlabeled
    training rows), all scored in one call. ``metric`` prefixes the names (``val_ho_`` for held-out negatives),
    ``streams`` the names of the private streams."""
    neg = _subsample(X_unlabeled if X_negatives is None else X_negatives, XGEN_NEGATIVES,
                     stream(seed, f"{streams}xgen.negatives"))
    points = {}
    for g in generators:
        try:
            points[g] = validation_generator(g).generate(X_labeled, X_unlabeled, XGEN_ROWS,
                                                         stream(seed, f"{streams}xgen.{g}"))
        except ValueError as exc:  # too few rows for this generator: no signal, but the run goes on
            log.warning("signal %sxgen_%s left out: %s", metric, g, exc)
    if not points or not len(neg):
        return {}
    scores = detector.decision_function(np.vstack([neg, *points.values()]))
    s_neg, out = scores[:len(neg)], {}
    for i, g in enumerate(points):
        s_pos = scores[len(neg) + i * XGEN_ROWS: len(neg) + (i + 1) * XGEN_ROWS]
        y = np.r_[np.zeros(len(s_neg)), np.ones(len(s_pos))]
        out[f"{metric}xgen_{g}"] = float(roc_auc_score(y, np.r_[s_neg, s_pos]))
    return out


def compute_signals(detector, X_unlabeled: np.ndarray, X_labeled: np.ndarray, X_gen: np.ndarray,
                    X_test: np.ndarray, seed: int) -> dict[str, float]:
    """Every signal of one run, from what a user has: training rows, labeled and pseudo-anomalies, the fitted
    detector and the unlabeled test rows (no test label is passed)."""
    out = {"val_mmd": mmd_signal(X_unlabeled, X_labeled, X_gen, X_test, seed)}
    out.update(xgen_signals(detector, X_labeled, X_unlabeled, seed))
    return out
