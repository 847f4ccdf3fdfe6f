"""The committed run store: every committed run once, keyed by config hash, under ``results/store/``.

One gzipped CSV per detector (``results/store/<detector>.csv.gz``, rows sorted by dataset and config hash,
byte-identical for the same runs). A row holds what a runs export holds (``tags.*``, ``params.*``,
``metrics.*``, ``run_id``, times) plus

* ``config``: the run's result config as JSON (:func:`confighash.result_config`), every setting that enters
  the hash, so ``hash_of(config) == tags.config_hash`` can be checked and the run recomposed;
* ``tags.protocol.split`` and ``tags.protocol.duplicate_small``: the split protocol, readable;
* ``tags.fp.augmenter``, ``tags.fp.detector``, ``tags.fp.split`` and ``tags.fingerprint``: the behavioural
  fingerprints (:mod:`.fingerprint`) of the code the result stands for;
* ``tags.git_commit``: the commit that made the run, and ``tags.verified_commit``: for a run made from an
  uncommitted tree, the commit at which a stratified sample of its group reproduced exactly
  (``results/store/verified.csv`` records each verification).

A study is a view: its planned hashes select rows (:func:`current` drops the stale ones). Every study that
shares a configuration shares its run, whichever study made it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .aggregate.runs import EXPORT_COLUMNS, read_run_files, signal_columns
from .confighash import PROTOCOL_DEFAULTS_OUT_OF_HASH, hash_of
from .fingerprint import COMPONENTS, combined, fingerprints

REPO_ROOT = Path(__file__).resolve().parents[1]
STORE_DIR = REPO_ROOT / "results" / "store"
VERIFIED_FILE = "verified.csv"
FP_TAGS = [f"tags.fp.{c}" for c in COMPONENTS]
PROVENANCE = ["tags.verified_commit", "tags.protocol.split", "tags.protocol.duplicate_small", *FP_TAGS,
              "tags.fingerprint"]
EXTRA_METRICS = ["metrics.n_unlabeled", "metrics.n_unlabeled_anomalies", "metrics.n_dropped", "metrics.threads",
                 # protocol.split=grouped_identical's identical rows (an all-empty column is left out of a shard)
                 "metrics.split_identical_groups", "metrics.split_identical_rows", "metrics.split_conflict_groups",
                 "metrics.split_conflict_rows"]
COLUMNS = [*EXPORT_COLUMNS, *PROVENANCE, *EXTRA_METRICS, "config"]


class StoreError(RuntimeError):
    """The store is inconsistent, or a run cannot enter it (no config, a conflicting result)."""


def shards(store_dir: str | Path | None = None) -> list[Path]:
    return sorted(Path(store_dir or STORE_DIR).glob("*.csv.gz"))


def read(store_dir: str | Path | None = None) -> pd.DataFrame:
    """Every committed run (one row per config hash); empty when the store has no shard."""
    paths = shards(store_dir)
    if not paths:
        return pd.DataFrame(columns=COLUMNS)
    df = read_run_files(paths)
    return df.drop(columns=["source"]).assign(source="results/store")


def write(df: pd.DataFrame, store_dir: str | Path | None = None) -> list[Path]:
    """Write ``df`` as the store (one shard per detector; shards of detectors without rows are removed)."""
    problems = check(df, fingerprints_too=False)
    if problems:
        raise StoreError("; ".join(problems[:5]))
    store_dir = Path(store_dir or STORE_DIR)
    store_dir.mkdir(parents=True, exist_ok=True)
    cols = [*COLUMNS, *[c for c in signal_columns(df) if c not in COLUMNS]]
    out = []
    for det, rows in df.groupby("tags.detector"):
        path = store_dir / f"{det}.csv.gz"
        rows = rows.reindex(columns=cols).dropna(axis=1, how="all").sort_values(["tags.dataset", "tags.config_hash"])
        rows.to_csv(path, index=False, compression={"method": "gzip", "mtime": 0})
        out.append(path)
    for stale in set(shards(store_dir)) - set(out):
        stale.unlink()
    return out


def check(df: pd.DataFrame, fingerprints_too: bool = True) -> list[str]:
    """What is wrong with a store (empty list: nothing): a config hash twice, a ``config`` that does not hash
    to its ``tags.config_hash``, a run without provenance or fingerprints."""
    problems = []
    dup = df["tags.config_hash"][df["tags.config_hash"].duplicated()]
    if len(dup):
        problems.append(f"{dup.nunique()} config hash(es) with more than one run, e.g. {dup.iloc[0]}")
    bad = [h for h, c in zip(df["tags.config_hash"], df["config"]) if not isinstance(c, str) or hash_of(json.loads(c)) != h]
    if bad:
        problems.append(f"{len(bad)} run(s) whose config does not hash to their config_hash, e.g. {bad[0]}")
    commit = df["tags.git_commit"].fillna("unknown")
    verified = df.get("tags.verified_commit", pd.Series(None, index=df.index, dtype=object))  # absent: none is
    unverified = (commit.str.endswith("-dirty") | (commit == "unknown")) & verified.isna()
    if unverified.any():
        problems.append(f"{int(unverified.sum())} run(s) from uncommitted code without a verification, "
                        f"e.g. {df.loc[unverified, 'tags.config_hash'].iloc[0]}")
    if fingerprints_too and df[[*FP_TAGS, "tags.fingerprint"]].isna().any(axis=None):
        problems.append("run(s) without fingerprints")
    return problems


def with_fingerprints(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with today's fingerprints of each row's components (from its ``config``) in ``tags.fp.*`` and
    ``tags.fingerprint``: what a run made now would carry."""
    fps = [fingerprints(json.loads(c)) for c in df["config"]]
    out = df.copy()
    for comp in COMPONENTS:
        out[f"tags.fp.{comp}"] = [f[comp] for f in fps]
    out["tags.fingerprint"] = [combined(f) for f in fps]
    return out


def stale(df: pd.DataFrame) -> pd.DataFrame:
    """The rows whose fingerprints differ from today's code, with a column ``stale`` naming the components."""
    if df.empty:
        return df.assign(stale=[])
    today = with_fingerprints(df)
    diff = pd.DataFrame({c: df[f"tags.fp.{c}"].values != today[f"tags.fp.{c}"].values for c in COMPONENTS},
                        index=df.index)
    mask = diff.any(axis=1)
    names = diff[mask].apply(lambda r: ",".join(c for c in COMPONENTS if r[c]), axis=1)
    return df[mask].assign(stale=names)


def current(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``df`` whose fingerprints match today's code (rows without fingerprints are dropped)."""
    if df.empty or "tags.fingerprint" not in df.columns:
        return df.iloc[0:0]
    df = df[df["tags.fingerprint"].notna()]
    return df.drop(index=stale(df).index)


def stale_summary(rows: pd.DataFrame) -> str:
    """``"12 stale (detector: 10, split: 2)"`` for rows from :func:`stale`."""
    if rows.empty:
        return "0 stale"
    counts = {c: int(rows["stale"].str.contains(c).sum()) for c in COMPONENTS}
    return f"{len(rows)} stale ({', '.join(f'{c}: {n}' for c, n in counts.items() if n)})"


def add(runs: pd.DataFrame, store_dir: str | Path | None = None) -> dict[str, int]:
    """Add FINISHED runs (with ``config`` and fingerprints, from a committed tree) to the store.

    A config hash not yet in the store is added; one whose stored run is stale (other fingerprints) is
    replaced; one whose stored run has the same fingerprints must agree to the bit on AUCROC, else
    :class:`StoreError` (two results for one configuration), and is kept, or replaced by the new run when that
    one has validation outputs the stored one lacks (the signals; the held-out signals of a rerun with
    ``validation.holdout``) and lacks none it has. Returns counts
    ``{"added", "replaced", "kept"}``."""
    missing = [c for c in ("config", "tags.fingerprint", "tags.git_commit") if c not in runs.columns]
    if missing:
        raise StoreError(f"runs without {missing}: made before fingerprints were logged; rerun them")
    dirty = runs["tags.git_commit"].fillna("unknown").str.endswith(("-dirty", "unknown"))
    if dirty.any():
        raise StoreError(f"{int(dirty.sum())} run(s) from uncommitted code ({runs.loc[dirty, 'tags.git_commit'].iloc[0]}): "
                         "commit first, then run")
    no_auc = _without_aucroc(runs)
    if no_auc.any():
        raise StoreError(f"{int(no_auc.sum())} run(s) without an aucroc metric, e.g. run "
                         f"{runs.loc[no_auc, 'run_id'].iloc[0]}: a result the aggregator cannot count")
    have = read(store_dir)
    old = have.set_index("tags.config_hash")
    richer = dict(zip(runs["tags.config_hash"], _richer(runs, have)))
    counts = {"added": 0, "replaced": 0, "kept": 0}
    keep_new = []
    for i, row in runs.iterrows():
        h = row["tags.config_hash"]
        if h not in old.index:
            counts["added"] += 1
            keep_new.append(i)
        elif old.at[h, "tags.fingerprint"] != row["tags.fingerprint"]:
            counts["replaced"] += 1
            keep_new.append(i)
        elif float(old.at[h, "metrics.aucroc"]) != float(row["metrics.aucroc"]):
            raise StoreError(f"config {h}: AUCROC {row['metrics.aucroc']} (run {row['run_id']}) differs from the "
                             f"committed {old.at[h, 'metrics.aucroc']} with the same code fingerprints")
        elif richer[h]:  # the same result, with more validation outputs
            counts["replaced"] += 1
            keep_new.append(i)
        else:
            counts["kept"] += 1
    new = runs.loc[keep_new]
    merged = pd.concat([have[~have["tags.config_hash"].isin(set(new["tags.config_hash"]))], new], ignore_index=True)
    write(merged.drop(columns=["source"], errors="ignore"), store_dir)
    return counts


def _without_aucroc(runs: pd.DataFrame) -> pd.Series:
    """Per run: it has no ``metrics.aucroc`` (a result the aggregator cannot count)."""
    return runs["metrics.aucroc"].isna() if "metrics.aucroc" in runs else pd.Series(True, index=runs.index)


def _richer(runs: pd.DataFrame, stored: pd.DataFrame) -> np.ndarray:
    """Per run of ``runs``: ``stored`` has its config hash and the run has validation outputs (the signal and
    holdout metrics that are set) the stored run lacks, and lacks none it has."""
    cols = sorted(set(signal_columns(runs)) | set(signal_columns(stored)))
    known = runs["tags.config_hash"].isin(set(stored["tags.config_hash"])).to_numpy()
    if not cols or not known.any():
        return np.zeros(len(runs), bool)
    new = runs.reindex(columns=cols).notna().to_numpy()
    old = stored.set_index("tags.config_hash").reindex(runs["tags.config_hash"], columns=cols).notna().to_numpy()
    return known & (new & ~old).any(axis=1) & ~(old & ~new).any(axis=1)


def record_verification(store_dir: str | Path | None, rows: list[dict]) -> Path:
    """Append verification records (group, commit verified at, sample size, matches, date) to ``verified.csv``."""
    path = Path(store_dir or STORE_DIR) / VERIFIED_FILE
    old = pd.read_csv(path, dtype=str) if path.is_file() else pd.DataFrame()
    pd.concat([old, pd.DataFrame(rows)], ignore_index=True).to_csv(path, index=False)
    return path


def run_config(config: str | dict, data_root: str, threads: int = 1):
    """The runnable configuration of a stored run, from its ``config`` alone (no study, no ``conf/``): what
    :func:`experiment.experiment` takes to make the run again (one thread, no validation signals)."""
    from omegaconf import OmegaConf

    c = json.loads(config) if isinstance(config, str) else config
    return OmegaConf.create({
        "dataset": {"name": c["dataset"]}, "label_ratio": c["label_ratio"], "augmenter": c["augmenter"],
        "multiplier": c["multiplier"], "detector": c["detector"], "seed": c["seed"],
        "protocol": {**PROTOCOL_DEFAULTS_OUT_OF_HASH, **c["protocol"]}, "data": {"root": str(data_root)},
        "budget": c.get("budget", {"fraction_of_train": None}),
        "threads": threads, "validation": {"signals": False}})


def add_from_mlflow(tracking_uri: str, experiment: str, hashes: set[str] | None = None,
                    directory: Path = STORE_DIR) -> dict[str, int]:
    """Put the current FINISHED runs of ``hashes`` of an MLflow store into the committed store (:func:`add`); runs
    made from an uncommitted tree are named and left out (commit first, then run). Default ``hashes``: every config
    hash the committed store lacks, and every one whose run here has validation outputs the stored run lacks (a
    rerun with ``validation.holdout``: :func:`add` checks its AUCROC to the bit). Returns :func:`add`'s counts."""
    from .aggregate.runs import RunsError, latest_per_config, read_mlflow

    try:
        runs = latest_per_config(read_mlflow(tracking_uri, experiment))
    except RunsError:
        return {"added": 0, "replaced": 0}
    if hashes is None:
        stored = read(directory)
        hashes = set(runs.loc[~runs["tags.config_hash"].isin(set(stored["tags.config_hash"])) | _richer(runs, stored),
                              "tags.config_hash"]) if len(runs) else set()
    runs = current(runs[runs["tags.config_hash"].isin(hashes)]) if len(runs) else runs
    if runs.empty:
        return {"added": 0, "replaced": 0}
    dirty = runs["tags.git_commit"].fillna("unknown").str.endswith(("-dirty", "unknown"))
    if dirty.any():
        print(f"{int(dirty.sum())} run(s) made from uncommitted code ({runs.loc[dirty, 'tags.git_commit'].iloc[0]}) are "
              "not added to the committed store: commit first, then run (python -m adbench_repro.run force=true ...)")
    no_auc = _without_aucroc(runs)
    if no_auc.any():
        print(f"{int(no_auc.sum())} FINISHED run(s) without an aucroc metric (e.g. {runs.loc[no_auc, 'run_id'].iloc[0]},"
              " made before a test split without anomalies failed the run) are not added")
    if (dirty | no_auc).all():
        return {"added": 0, "replaced": 0}
    counts = add(runs[~dirty & ~no_auc], directory)
    if counts["added"] or counts["replaced"]:
        print(f"committed store: {counts['added']} run(s) added, {counts['replaced']} run(s) replaced (stale, or "
              f"the same result with more validation outputs) under {directory} (commit them with git)")
    return counts


def main(argv: list[str] | None = None) -> int:
    """``python -m adbench_repro.store check|import-mlflow|add-from-mlflow``: check the committed store (one result
    per hash, provenance, stale runs per component), copy its runs into an MLflow store for browsing in the UI, or
    add an MLflow store's new runs of committed code to it (e.g. runs made on a cluster's tracking server)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m adbench_repro.store", description=main.__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="integrity and staleness of results/store/ (exit 1 on a problem)")
    imp = sub.add_parser("import-mlflow", help="copy committed runs into an MLflow store (for the UI)")
    imp.add_argument("--tracking-uri", default=None, help="default: $MLFLOW_TRACKING_URI, else the project's mlflow.db")
    imp.add_argument("--experiment", default="nng-mix")
    imp.add_argument("--detectors", default=None, help="comma list (default: all)")
    imp.add_argument("--datasets", default=None, help="comma list (default: all)")
    frm = sub.add_parser("add-from-mlflow", help="add an MLflow store's runs that the committed store lacks")
    frm.add_argument("--tracking-uri", default=None, help="default: $MLFLOW_TRACKING_URI, else the project's mlflow.db")
    frm.add_argument("--experiment", default="nng-mix")
    args = ap.parse_args(argv)
    if args.cmd == "add-from-mlflow":
        from .aggregate.runs import resolve_tracking_uri

        uri = resolve_tracking_uri(args.tracking_uri)
        counts = add_from_mlflow(uri, args.experiment)
        print(f"{uri} [{args.experiment}]: {counts['added']} run(s) added, {counts['replaced']} replaced")
        return 0
    runs = read()
    if args.cmd == "check":
        problems = check(runs)
        old = stale(runs)
        print(f"{STORE_DIR}: {len(runs)} runs, {runs['tags.config_hash'].nunique()} config hashes; "
              f"{stale_summary(old)}; {len(problems)} problem(s)")
        for p in problems:
            print(f"  problem: {p}")
        return 1 if problems or len(old) else 0
    from . import tracking
    from .aggregate.runs import resolve_tracking_uri

    for key, col in (("detectors", "tags.detector"), ("datasets", "tags.dataset")):
        if getattr(args, key):
            runs = runs[runs[col].isin(getattr(args, key).split(","))]
    uri = resolve_tracking_uri(args.tracking_uri)
    client = tracking.client_for(uri)
    exp = tracking.ensure_experiment(client, args.experiment)
    added = tracking.import_runs(client, exp, runs.rename(columns={"config": "tags.config"}), "results/store")
    print(f"imported {added} of {len(runs)} committed run(s) into {uri} [{args.experiment}]; browse: make mlflow-ui")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
