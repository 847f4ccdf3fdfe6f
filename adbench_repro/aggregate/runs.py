"""Finished runs as one DataFrame: read from an MLflow store and/or exported ``.csv.gz`` files.

Columns follow ``mlflow.search_runs``: ``run_id``, ``status``, ``start_time``, ``end_time`` (ms since the
epoch), ``tags.<name>``, ``params.<dotted key>``, ``metrics.<name>``. Only FINISHED runs are kept; runs
sharing a ``tags.config_hash`` are reduced to the latest one (by start, then end time).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..tracking import sqlite_path

log = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "nng-mix"
FINISHED = "FINISHED"

TAGS = ("dataset", "family", "augmenter", "detector", "label_ratio", "multiplier", "seed", "config_hash",
        "sweep_id", "git_commit", "package_version", "device")
METRICS = ("aucroc", "aucpr", "load_s", "generate_s", "fit_s", "score_s", "n_train", "n_test", "n_labeled",
           "n_generated")
#: params exported with each run (the study keys; the full config stays in the MLflow store)
PARAMS = ("dataset.name", "seed", "multiplier", "label_ratio.la", "label_ratio.keep", "augmenter._target_",
          "augmenter.k", "augmenter.sigma", "augmenter.alpha", "augmenter.lam", "augmenter.pool",
          "augmenter.use_nn", "augmenter.use_noise", "protocol.pollution", "detector._target_")
BASE_COLUMNS = ("run_id", "status", "start_time", "end_time")
EXPORT_COLUMNS = (list(BASE_COLUMNS) + [f"tags.{t}" for t in TAGS] + [f"params.{p}" for p in PARAMS]
                  + [f"metrics.{m}" for m in METRICS])


class RunsError(RuntimeError):
    """Runs could not be read (no store, no experiment, a malformed export)."""


def resolve_tracking_uri(uri: str | None) -> str:
    """``uri``, else env ``MLFLOW_TRACKING_URI``, else the project's store (:func:`adbench_repro.paths.tracking_uri`)."""
    from ..paths import tracking_uri

    return tracking_uri(uri)


def read_mlflow(tracking_uri: str, experiment: str) -> pd.DataFrame:
    """FINISHED runs of ``experiment`` in the store at ``tracking_uri`` (raises RunsError when absent)."""
    db = sqlite_path(tracking_uri)
    if db is not None and not db.is_file():
        raise RunsError(f"no MLflow store at {tracking_uri} ({db} does not exist); run a study first, "
                        "or pass --tracking-uri / --runs FILE.csv.gz")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise RunsError(f"MLflow experiment {experiment!r} not found at {tracking_uri}")
    from .. import tracking

    rows = []
    for r in tracking.iter_finished_runs(client, exp.experiment_id):
        row = {"run_id": r.info.run_id, "status": r.info.status, "start_time": r.info.start_time,
               "end_time": r.info.end_time}
        row.update({f"tags.{k}": v for k, v in r.data.tags.items() if not k.startswith("mlflow.")})
        row.update({f"params.{k}": v for k, v in r.data.params.items()})
        row.update({f"metrics.{k}": v for k, v in r.data.metrics.items()})
        rows.append(row)
    df = pd.DataFrame(rows, columns=None if rows else list(BASE_COLUMNS))
    return _finished(df.rename(columns={"tags.config": "config"}), f"{tracking_uri}")


def read_run_files(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Runs exported by :func:`export_runs` (``.csv`` or ``.csv.gz``), FINISHED ones only."""
    frames = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise RunsError(f"--runs file {p} does not exist")
        df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
        missing = [c for c in ("run_id", "status", "tags.config_hash", "metrics.aucroc") if c not in df.columns]
        if missing:
            raise RunsError(f"{p}: not a runs export (missing columns {missing})")
        for c in df.columns:
            if c.startswith("metrics.") or c in ("start_time", "end_time"):
                df[c] = pd.to_numeric(df[c], errors="raise")
        frames.append(_finished(df, str(p)))
    if not frames:
        return pd.DataFrame(columns=list(BASE_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def _finished(df: pd.DataFrame, source: str) -> pd.DataFrame:
    df = df[df["status"] == FINISHED].copy() if len(df) else df.copy()
    df["source"] = source
    return df


def latest_per_config(df: pd.DataFrame) -> pd.DataFrame:
    """One run per ``tags.config_hash``: the latest by start time (then end time, then run id)."""
    if df.empty:
        return df
    if "tags.config_hash" not in df.columns:
        df = df.assign(**{"tags.config_hash": None})
    unhashed = df["tags.config_hash"].isna()
    if unhashed.any():  # not made by the runner: cannot belong to any study configuration
        bad = df.loc[unhashed, "run_id"].tolist()
        log.warning("ignoring %d FINISHED run(s) without a config_hash tag: %s%s", len(bad), bad[:5],
                    " ..." if len(bad) > 5 else "")
        df = df[~unhashed]
    order = df.sort_values(["start_time", "end_time", "run_id"], na_position="first")
    return order.drop_duplicates("tags.config_hash", keep="last").reset_index(drop=True)


def signal_columns(df: pd.DataFrame) -> list[str]:
    """The label-free validation signals present in ``df`` (``metrics.val_*``, ``metrics.signals_s``, and the
    held-out part's ``metrics.holdout_*``), sorted: exported only where runs have them, so the exports of runs
    made before the signals keep their columns."""
    return sorted(c for c in df.columns
                  if c.startswith(("metrics.val_", "metrics.holdout_")) or c == "metrics.signals_s")


def export_runs(df: pd.DataFrame, path: str | Path) -> Path:
    """Write runs (one row each: tags, study params, metrics, run id, status) to ``path`` (.csv.gz)."""
    from ..store import COLUMNS  # the committed store's columns: config, provenance and fingerprints too

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df.reindex(columns=COLUMNS + signal_columns(df))
    # gzip's header holds a timestamp: fixed at 0 so that the same runs give a byte-identical file
    compression = {"method": "gzip", "mtime": 0} if path.suffix == ".gz" else None
    out.sort_values(["tags.dataset", "tags.config_hash"]).to_csv(path, index=False, compression=compression)
    return path


def compute_markdown(runs: pd.DataFrame | None = None) -> str:
    """``compute.md``: runs and run time per detector over the committed store (or ``runs``).

    Run time = load + generate + fit + score seconds of each run; in a sweep of 2 workers each run has one
    thread, so it is close to CPU time, and a 2-core machine needs about half of it in wall time.
    """
    if runs is None:
        from ..store import read

        runs = read()
    lines = ["# Compute behind the committed results", "",
             "Generated by `python -m adbench_repro.aggregate` from the committed store `store/*.csv.gz` (each "
             "configuration once); do not edit. Run time = load + generate + fit + score of each run (one thread "
             "per run in the 2-worker sweeps, so about CPU time; wall time on 2 cores is about half).", "",
             "| detector | runs | run time (h) | median per run (s) |", "|---|---|---|---|"]
    if runs.empty:
        return "\n".join(lines) + "\n"
    secs = sum(runs[f"metrics.{k}"].fillna(0.0) for k in ("load_s", "generate_s", "fit_s", "score_s"))
    by = pd.DataFrame({"detector": runs["tags.detector"], "s": secs}).groupby("detector")["s"]
    for det, s in by:
        lines.append(f"| {det} | {len(s)} | {s.sum() / 3600:.2f} | {s.median():.1f} |")
    lines.append(f"| **total** | {len(runs)} | {secs.sum() / 3600:.2f} | {secs.median():.1f} |")
    return "\n".join(lines) + "\n"
