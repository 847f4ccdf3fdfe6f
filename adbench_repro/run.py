"""Run one experiment: load split -> generate pseudo-anomalies -> fit detector -> AUCROC/AUCPR -> MLflow.

    python -m adbench_repro.run dataset=6_cardio label_ratio=1pct augmenter=nng_mix multiplier=10 detector=deepsad seed=0
    python -m adbench_repro.run -m dataset=classical augmenter=none,nng_mix detector=mlp,catboost seed=0,1,2

A configuration that already has a FINISHED run with the same config hash in the experiment is
skipped (``force=true`` reruns it). A run that raises ends FAILED (KILLED on Ctrl-C) and the error
propagates; it is never marked FINISHED.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # a pool multirun: start the workers' forkserver before this module's imports
    from adbench_repro.sweep.workers import forkserver_wanted, start_forkserver

    if forkserver_wanted(sys.argv[1:]):
        start_forkserver()

import logging
import os
import signal
import threading
import time
import traceback

import hydra
import numpy as np
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from sklearn.metrics import average_precision_score, roc_auc_score

from . import CONF_DIR as PACKAGE_CONF_DIR
from . import tracking
from .confighash import config_hash, effective_multiplier
from .datasets import FAMILIES, DataError, get_dataset, load_arrays, make_split
from .provenance import git_commit, package_version
from .validate import ConfigError, check_config, check_overrides
from .sweep.claims import claim

log = logging.getLogger("adbench_repro.run")

CONF_DIR = str(PACKAGE_CONF_DIR)  # as Hydra takes it


def flatten(cfg: DictConfig) -> dict[str, object]:
    """The resolved config as ``{"a.b.c": value}`` (lists kept as their string form)."""
    out: dict[str, object] = {}

    def walk(node, prefix: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}{k}.")
        else:
            out[prefix[:-1]] = node

    walk(OmegaConf.to_container(cfg, resolve=True), "")
    return out


def _choices() -> dict[str, str]:
    if not HydraConfig.initialized():
        return {}
    return {k: v for k, v in HydraConfig.get().runtime.choices.items() if v is not None}


def _sweep_id() -> str:
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        return os.environ.get("ADBENCH_SWEEP_ID") or str(HydraConfig.get().sweep.dir)
    return ""


def _threads(cfg: DictConfig) -> int:
    value = cfg.get("threads", "auto")
    if value in (None, "auto"):
        env = os.environ.get("ADBENCH_THREADS")
        return int(env) if env else (os.cpu_count() or 1)
    n = int(value)
    if n < 1:
        raise ValueError(f"threads must be >= 1 or 'auto', got {value}")
    return n


def run_tags(cfg: DictConfig, device: str) -> dict[str, str]:
    """Tags that identify a run (dataset, method, cell keys, provenance)."""
    choices = _choices()
    info = get_dataset(str(cfg.dataset.name))
    return {
        "dataset": info.name,
        "family": info.folder,
        "augmenter": choices.get("augmenter", str(cfg.augmenter.get("_target_", "?")).rsplit(".", 1)[-1]),
        "detector": choices.get("detector", str(cfg.detector.get("_target_", "?")).rsplit(".", 1)[-1]),
        "label_ratio": choices.get("label_ratio", f"la{cfg.label_ratio.la}_keep{cfg.label_ratio.keep}"),
        "multiplier": str(effective_multiplier(cfg)),
        "seed": str(cfg.seed),
        "config_hash": config_hash(cfg),
        "sweep_id": _sweep_id(),
        "git_commit": git_commit(),
        "package_version": package_version(),
        "device": device,
        "protocol.duplicate_small": str(bool(cfg.protocol.duplicate_small)).lower(),
    }


def run_experiment(cfg: DictConfig) -> dict:
    """Run (or skip) one configuration; returns ``{"status": "finished"|"skipped", "run_id", "aucroc"?}``."""
    from .devices import resolve_device  # torch import deferred until needed

    check_config(cfg)  # settings in range, before data or the store are touched
    device = resolve_device(str(cfg.device))  # fail before any work on a bad device
    if str(cfg.dataset.name) in FAMILIES:
        raise ValueError(f"dataset={cfg.dataset.name} names a dataset family; sweep it with -m "
                         f"(python -m adbench_repro.run -m dataset={cfg.dataset.name} ...)")
    get_dataset(str(cfg.dataset.name))  # unknown dataset -> clear error before touching MLflow
    client, exp_id = tracking.open_experiment(cfg.mlflow)
    tags = run_tags(cfg, device)
    run_name = f"{tags['dataset']}/{tags['augmenter']}x{tags['multiplier']}/{tags['detector']}/{tags['label_ratio']}/s{cfg.seed}"
    claimed = claim(tags["config_hash"], run_name)  # None outside a sweep whose workers compose the jobs
    if claimed is not None and not claimed[0]:
        log.info("skip: %s is the same configuration as %s in this sweep", run_name, claimed[1] or "another job")
        return {"status": "skipped", "reason": f"same config as {claimed[1] or 'another job'} in this sweep"}
    if not cfg.get("force", False):
        done = tracking.find_finished_run(client, exp_id, tags["config_hash"])
        if done:
            log.info("skip: %s already FINISHED as run %s (force=true reruns it)", tags["config_hash"], done)
            return {"status": "skipped", "run_id": done, "reason": "already FINISHED"}

    run = tracking.with_retries(client.create_run, exp_id, tags=tags, run_name=run_name)
    run_id = run.info.run_id
    try:
        result = _execute(cfg, client, run_id, device)
    except BaseException as exc:
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        try:
            tracking.log_batch(client, run_id, tags={"error": f"{type(exc).__name__}: {exc}"[:5000]})
            tracking.with_retries(client.set_terminated, run_id, status)
        except Exception:  # noqa: BLE001 - the original error matters more
            log.warning("could not mark run %s %s:\n%s", run_id, status, traceback.format_exc())
        raise
    tracking.with_retries(client.set_terminated, run_id, "FINISHED")
    log.info("%s  aucroc=%.4f  aucpr=%.4f  (run %s)", run_name, result["aucroc"], result["aucpr"], run_id)
    return {"status": "finished", "run_id": run_id, **result}


def _execute(cfg: DictConfig, client, run_id: str, device: str) -> dict:
    from threadpoolctl import threadpool_limits
    import torch

    tracking.log_batch(client, run_id, params=flatten(cfg))
    n_threads = _threads(cfg)
    torch.set_num_threads(n_threads)
    with threadpool_limits(limits=n_threads):
        t0 = time.perf_counter()
        X, y = load_arrays(str(cfg.dataset.name), str(cfg.data.root))
        split = make_split(
            X, y, seed=int(cfg.seed), la=float(cfg.label_ratio.la), keep=float(cfg.label_ratio.keep),
            test_size=float(cfg.protocol.test_size), duplicate_small=bool(cfg.protocol.duplicate_small),
            drop_unkept=bool(cfg.protocol.drop_unkept), pollution=float(cfg.protocol.pollution),
        )
        load_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        augmenter = hydra.utils.instantiate(cfg.augmenter)
        n_gen = effective_multiplier(cfg) * len(split.X_labeled)
        X_gen = augmenter.generate(split.X_labeled, split.X_unlabeled, n_gen, np.random.default_rng(int(cfg.seed)))
        generate_s = time.perf_counter() - t0
        X_gen = np.asarray(X_gen, dtype=np.float64)
        if X_gen.shape != (n_gen, split.X_unlabeled.shape[1]) or not np.isfinite(X_gen).all():
            raise RuntimeError(f"augmenter {cfg.augmenter._target_} returned shape {X_gen.shape} "
                               f"(expected {(n_gen, split.X_unlabeled.shape[1])}) or non-finite values")
        X_train, y_train = split.training_set(X_gen)

        t0 = time.perf_counter()
        detector = hydra.utils.instantiate(cfg.detector, seed=int(cfg.seed), device=device)
        detector.fit(X_train, y_train)
        fit_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        scores = np.asarray(detector.decision_function(split.X_test), dtype=np.float64).reshape(-1)
        score_s = time.perf_counter() - t0
    if scores.shape != split.y_test.shape or not np.isfinite(scores).all():
        raise RuntimeError(f"detector {cfg.detector._target_} returned {scores.shape} scores for "
                           f"{len(split.y_test)} test rows, or non-finite scores")
    metrics = {
        "aucroc": roc_auc_score(split.y_test, scores),
        "aucpr": average_precision_score(split.y_test, scores),
        "load_s": load_s, "generate_s": generate_s, "fit_s": fit_s, "score_s": score_s,
        "n_train": len(y_train), "n_test": len(split.y_test), "n_labeled": len(split.X_labeled),
        "n_generated": n_gen, "n_unlabeled": len(split.X_unlabeled),
        "n_unlabeled_anomalies": split.info["n_unlabeled_anomalies"], "n_dropped": split.info["n_dropped"],
        "threads": n_threads,
    }
    tags = {"split.duplicated": str(split.info["duplicated"]).lower(),
            "split.subsampled": str(split.info["subsampled"]).lower()}
    tracking.log_batch(client, run_id, metrics=metrics, tags=tags)
    if cfg.mlflow.get("log_config_artifact", True):
        tracking.with_retries(client.log_text, run_id, OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
    return {"aucroc": float(metrics["aucroc"]), "aucpr": float(metrics["aucpr"])}


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> dict:
    """Hydra entry point. A single run's configuration or data error is one line on stderr and exit code 2
    (the traceback with HYDRA_FULL_ERROR=1); in a multirun it fails the job, reported in the summary."""
    try:
        return run_experiment(cfg)
    except (ConfigError, DataError) as exc:
        single = not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN
        if not single or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def _sigterm_as_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def cli(argv: list[str] | None = None) -> None:
    """``python -m adbench_repro.run [-m] overrides...`` (``argv`` replaces ``sys.argv[1:]``). The pool's
    forkserver is started by the callers (this module's ``__main__`` block, ``reproduce``) or else by the
    launcher's set-up."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # SIGTERM (pkill, SLURM preemption) ends like Ctrl-C: the run in progress is marked KILLED and a
    # sweep stops its workers, instead of the process vanishing with its run left RUNNING
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    problems = check_overrides(argv)  # every job's names and numbers, before the first job starts
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(2)
    saved = sys.argv
    sys.argv = [saved[0] if saved else "adbench_repro.run", *argv]
    try:
        main()
    finally:
        sys.argv = saved


if __name__ == "__main__":
    from .fastexit import exit_now

    try:
        cli()
    except SystemExit as exc:  # Hydra exits 1 after an error or a failed sweep
        exit_now(exc.code if isinstance(exc.code, int) else 1)
    exit_now(0)
