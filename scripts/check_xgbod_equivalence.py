"""Our XGBOD against pyod's XGBOD and the committed runs on all local Classical datasets (issue 21).

For each dataset, at seed 0, 1 % labels, baseline and NNG-Mix 10x (Table I's configurations, composed
from conf/ by config hash), builds the training set exactly as a run does and fits our ``xgbod``; compares
its test AUCROC with the committed run's (made with pyod's XGBOD) and, with ``--pyod``, also fits pyod's
``XGBOD`` on the same rows and compares the decision scores. Writes one line per configuration to
``--out`` as it goes (a rerun skips the configurations already there: resumable), then the summary.

Usage: nice -n 5 python scripts/check_xgbod_equivalence.py [--pyod] [--out results/bench/xgbod_equivalence.txt]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import hydra
import numpy as np
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's package, not another installed one
HEADER = "dataset augmenter config_hash n_train ours_s committed_aucroc ours_aucroc |ours-committed| pyod_s pyod_aucroc |ours-pyod| max|score diff|"


def training_data(cfg):
    """The run's training and test rows, exactly as ``adbench_repro.experiment`` builds them."""
    from adbench_repro.confighash import effective_multiplier
    from adbench_repro.datasets import load_arrays, make_split

    X, y = load_arrays(str(cfg.dataset.name), str(cfg.data.root))
    split = make_split(X, y, seed=int(cfg.seed), la=float(cfg.label_ratio.la), keep=float(cfg.label_ratio.keep),
                       test_size=float(cfg.protocol.test_size), duplicate_small=bool(cfg.protocol.duplicate_small),
                       drop_unkept=bool(cfg.protocol.drop_unkept), pollution=float(cfg.protocol.pollution))
    augmenter = hydra.utils.instantiate(cfg.augmenter)
    n_gen = effective_multiplier(cfg) * len(split.X_labeled)
    X_gen = augmenter.generate(split.X_labeled, split.X_unlabeled, n_gen, np.random.default_rng(int(cfg.seed)))
    X_train, y_train = split.training_set(X_gen)
    return X_train, y_train, split.X_test, split.y_test


def compose(config: dict, data_root: str):
    from hydra import compose as hydra_compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from adbench_repro.studies import to_override_list

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = hydra_compose("config", overrides=[*to_override_list(config), f"data.root={data_root}",
                                                 f"mlflow.tracking_uri=sqlite:///{tempfile.gettempdir()}/unused.db"],
                            return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "results" / "bench" / "xgbod_equivalence.txt"))
    ap.add_argument("--data-root", default=str(REPO / "data" / "adbench"))
    ap.add_argument("--pyod", action="store_true", help="also fit pyod's XGBOD on the same rows (slower)")
    args = ap.parse_args()

    from threadpoolctl import threadpool_limits

    from adbench_repro.aggregate.expected import expected_configs
    from adbench_repro.confighash import config_hash
    from adbench_repro.detectors import xgbod
    from adbench_repro.detectors.xgbod import XGBODDetector
    from adbench_repro.studies import load_study

    assert Path(xgbod.__file__).is_relative_to(REPO), f"ours must come from {REPO}, not {xgbod.__file__}"
    from adbench_repro import store

    runs = store.read()
    runs = runs[(runs["tags.detector"] == "xgbod") & (runs["tags.seed"].astype(int) == 0)
                & runs["tags.augmenter"].isin(["none", "nng_mix"])]
    committed = {r["tags.config_hash"]: r for r in runs.to_dict("records")}
    configs = {h: c[0] for h, c in expected_configs(load_study("table1")).items() if h in committed}
    # smallest training sets first, so that an interrupted check covers the most datasets
    order = sorted(configs, key=lambda h: (int(committed[h]["metrics.n_train"]), committed[h]["tags.augmenter"]))

    out = Path(args.out)
    done = set()
    if out.exists():
        done = {line.split()[2] for line in out.read_text().splitlines() if line and not line.startswith("#")}
    else:
        out.write_text(f"# scripts/check_xgbod_equivalence.py{' --pyod' if args.pyod else ''}: seed 0, 1% labels, "
                       f"baseline and NNG-Mix 10x (Table I configs), 1 thread\n# {HEADER}\n")
    for h in order:
        if h in done:
            continue
        cfg = compose(configs[h], args.data_root)
        assert config_hash(cfg) == h, f"{configs[h]}: hash {config_hash(cfg)} != committed {h}"
        row = committed[h]
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            X, y, X_test, y_test = training_data(cfg)
            t0 = time.perf_counter()
            ours = XGBODDetector(seed=0).fit(X, y).decision_function(X_test)
            ours_s = time.perf_counter() - t0
            ours_auc = roc_auc_score(y_test, ours)
            fields = [row["tags.dataset"], row["tags.augmenter"], h, str(len(y)), f"{ours_s:.2f}",
                      f"{float(row['metrics.aucroc']):.10f}", f"{ours_auc:.10f}",
                      f"{abs(ours_auc - float(row['metrics.aucroc'])):.2e}"]
            if args.pyod:
                from pyod.models.xgbod import XGBOD

                state = np.random.get_state()
                np.random.seed(0)
                t0 = time.perf_counter()
                ref = XGBOD(random_state=0).fit(X, y).decision_function(X_test)
                pyod_s = time.perf_counter() - t0
                np.random.set_state(state)
                pyod_auc = roc_auc_score(y_test, ref)
                fields += [f"{pyod_s:.2f}", f"{pyod_auc:.10f}", f"{abs(ours_auc - pyod_auc):.2e}",
                           f"{np.abs(ours - ref).max():.2e}"]
        with out.open("a") as f:
            f.write(" ".join(fields) + "\n")
        print(" ".join(fields), flush=True)

    lines = [line.split() for line in out.read_text().splitlines() if line and not line.startswith("#")]
    diffs = [float(f[7]) for f in lines]
    summary = (f"# {len(lines)} of {len(order)} configurations ({len({f[0] for f in lines})} datasets): "
               f"largest |AUCROC ours - committed (pyod)| = {max(diffs):.2e}")
    if lines and len(lines[0]) > 8:
        summary += (f"; largest |AUCROC ours - pyod| = {max(float(f[10]) for f in lines):.2e}, "
                    f"largest |score difference| = {max(float(f[11]) for f in lines):.2e}")
    print(summary)
    if len(lines) == len(order):
        with out.open("a") as f:
            f.write(summary + "\n")


if __name__ == "__main__":
    main()
