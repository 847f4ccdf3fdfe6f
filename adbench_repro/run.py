"""Run one experiment and record it in MLflow: ``experiment(cfg)`` plus a lease and the tracking writes.

    python -m adbench_repro.run dataset=6_cardio label_ratio=1pct augmenter=nng_mix multiplier=10 detector=deepsad seed=0
    python -m adbench_repro.run -m dataset=classical augmenter=none,nng_mix detector=mlp,catboost seed=0,1,2

A configuration whose config hash already has a FINISHED run in the experiment, or a live RUNNING one
(another sweep, terminal or machine on the same store), is skipped (``force=true`` reruns a FINISHED one):
see :mod:`adbench_repro.lease`. A run that raises ends FAILED (KILLED on Ctrl-C, SIGTERM or SIGUSR2, however
many arrive: :mod:`adbench_repro.interrupts`) and the error propagates; it is never marked FINISHED.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from . import CONF_DIR as PACKAGE_CONF_DIR
from . import interrupts, lease, paths, tracking
from .confighash import canonical_json, config_hash, effective_multiplier, result_config
from .datasets import FAMILIES, DataError, get_dataset, load_arrays
from .experiment import experiment
from .outputs import required
from .provenance import current_sweep_id, git_commit, package_version
from .validate import ConfigError, check_config, check_overrides

log = logging.getLogger("adbench_repro.run")

CONF_DIR = str(PACKAGE_CONF_DIR)  # as Hydra takes it
paths.register_resolvers()  # ${adbench.store:} & co. in conf/, also in a launcher's worker processes


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
        return current_sweep_id(str(HydraConfig.get().sweep.dir))
    return ""


def run_tags(cfg: DictConfig, device: str) -> dict[str, str]:
    """Tags that identify a run (dataset, method, cell keys, provenance, result config and the behavioural
    fingerprints of its components: :mod:`.fingerprint`)."""
    from .fingerprint import combined, fingerprints

    choices = _choices()
    info = get_dataset(str(cfg.dataset.name))
    config = result_config(cfg)
    fps = fingerprints(config)
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
        "protocol.split": str(cfg.protocol.get("split", "adbench")),
        "config": canonical_json(config),
        **{f"fp.{k}": v for k, v in fps.items()},
        "fingerprint": combined(fps),
        **({"budget.fraction_of_train": str(config["budget"]["fraction_of_train"])} if "budget" in config else {}),
        **required(cfg),  # output tags (validation.holdout > 0): which runs count as done for such a request
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
    load_arrays(str(cfg.dataset.name), str(cfg.data.root))  # missing/corrupt file: no FAILED run left behind
    client, exp_id = tracking.open_experiment(cfg.mlflow)
    tags = run_tags(cfg, device)
    run_name = tracking.run_name(tags)
    held, holder = lease.acquire(client, exp_id, tags, run_name, force=bool(cfg.get("force", False)),
                                 stale_s=float(cfg.mlflow.get("lease_stale_s", 300)),
                                 heartbeat_s=float(cfg.mlflow.get("lease_heartbeat_s", 30)))
    if held is None:
        skipped = _skipped(run_name, holder)
        _say_where(cfg, exp_id, holder.run_id)
        return skipped
    try:
        tracking.log_batch(client, held.run_id, params=flatten(cfg))
        result = experiment(cfg, device)
        tracking.log_batch(client, held.run_id, metrics=result.metrics, tags=result.tags)
        if cfg.mlflow.get("log_config_artifact", True):
            tracking.with_retries(client.log_text, held.run_id, OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
    except BaseException as exc:
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        for _ in range(3):  # a signal that slips in before they are held off: end it again
            try:
                with interrupts.deferred():  # a second SIGTERM (SLURM's time limit sends two) cannot break in
                    tracking.log_batch(client, held.run_id, tags={"error": interrupts.error_tag(exc)})
                    held.end(status)
                break
            except KeyboardInterrupt:
                status = "KILLED"
            except Exception:  # noqa: BLE001 - the original error matters more
                log.warning("could not mark run %s %s:\n%s", held.run_id, status, traceback.format_exc())
                break
        raise
    with interrupts.deferred():  # a signal now stops what follows, not this ending
        other = held.end("FINISHED")
    if other is not None:  # another sweep finished this configuration first
        return _skipped(run_name, other)
    log.info("%s  aucroc=%.4f  aucpr=%.4f  (run %s)", run_name, result.aucroc, result.aucpr, held.run_id)
    _say_where(cfg, exp_id, held.run_id)
    return {"status": "finished", "run_id": held.run_id, "aucroc": result.aucroc, "aucpr": result.aucpr}


def _say_where(cfg: DictConfig, exp_id: str, run_id: str) -> None:
    """A single run (not a sweep's job: its summary speaks for it) says where it went and how to open it."""
    if not _sweep_id():
        for line in tracking.where_to_open(str(cfg.mlflow.tracking_uri), str(cfg.mlflow.experiment_name), exp_id,
                                           run_id).splitlines():
            log.info(line)


def _skipped(run_name: str, holder: lease.Claim) -> dict:
    reason = "already FINISHED" if holder.status == "FINISHED" else "being run elsewhere"
    log.info("skip: %s %s as run %s (force=true reruns a FINISHED one)", run_name, reason, holder.run_id)
    return {"status": "skipped", "run_id": holder.run_id, "reason": reason}


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> dict:
    """Hydra entry point. A single run's configuration or data error is one line on stderr and exit code 2
    (the traceback with HYDRA_FULL_ERROR=1); in a multirun it fails the job, reported in the summary."""
    interrupts.interrupt_on_signals()  # in every launcher's job process: SIGTERM/SIGUSR2 end the run KILLED
    single = not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN
    try:
        if single:  # a multirun's sweeper has checked the store once for all its jobs
            tracking.check_store(str(cfg.mlflow.tracking_uri), str(cfg.mlflow.experiment_name))
        return run_experiment(cfg)
    except (ConfigError, DataError) as exc:
        if not single or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def cli(argv: list[str] | None = None) -> None:
    """``python -m adbench_repro.run [-m] overrides...`` (``argv`` replaces ``sys.argv[1:]``; called so, from
    ``reproduce`` or the API, the signal handlers it installs are put back when it returns)."""
    embedded, argv = argv is not None, sys.argv[1:] if argv is None else list(argv)
    # SIGTERM (pkill, SLURM preemption) ends like Ctrl-C: the run in progress is marked KILLED and a
    # sweep stops its workers, instead of the process vanishing with its run left RUNNING
    interrupts.reset()
    previous = interrupts.interrupt_on_signals()
    problems = check_overrides(argv)  # every job's names and numbers, before the first job starts
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(2)
    saved = sys.argv
    sys.argv = [saved[0] if saved else "adbench_repro.run", *argv]
    try:
        main()
    except KeyboardInterrupt as exc:  # a single run (a sweep prints its own summary and exits 130)
        interrupts.exit_on_next_signal("")  # more signals: the run is ended already
        print(f"{interrupts.error_tag(exc)}: the run in progress ended KILLED; rerun to resume", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        sys.argv = saved
        if embedded:  # e.g. a notebook: Ctrl-C interrupts its next cell again
            interrupts.restore(previous)


if __name__ == "__main__":
    cli()
