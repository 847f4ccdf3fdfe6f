"""One-off migration (issue 30): the per-study exports ``results/runs/*.csv.gz`` -> the store ``results/store/``.

Kept as the record of how the store was built:

1. every exported run is read; runs of one config hash that agree to the bit on AUCROC are one run (the one
   with validation signals, else from a committed tree, else the latest);
2. each config hash gets its result config (``config``), composed from today's ``conf/`` through the
   studies' plans, and today's fingerprints;
3. ``--reruns`` (an MLflow store of reruns made at a commit, e.g. the rerun worktree's ``mlflow.db``)
   decides the rest:
   * a config hash with conflicting exported results takes the rerun's result;
   * a group of runs from an uncommitted tree (``<commit>-dirty``) listed in ``--rerun-groups`` is replaced
     whole by its reruns;
   * any other dirty group is verified: every rerun of a sample of it must reproduce its AUCROC exactly;
     then its runs get ``tags.verified_commit`` and the verification is recorded in ``verified.csv``; a
     group with a mismatch, or without a sample, is treated as a rerun group (its reruns replace it, the rest of
     it is left out unless another group has the configuration).

    python scripts/migrate_to_store.py --reruns sqlite:////work/runwt/mlflow.db \
        --rerun-groups 07fb04938d28-dirty,4977907a223f-dirty
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adbench_repro import plan, store  # noqa: E402
from adbench_repro.aggregate.runs import latest_per_config, read_mlflow, read_run_files  # noqa: E402
from adbench_repro.studies import available_studies, expand, load_study  # noqa: E402


def config_json_by_hash() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in available_studies():
        configs = expand(load_study(name))
        for p in plan.compose(configs, what=name):
            out.setdefault(p.config_hash, p.config_json)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exports", default=str(REPO / "results" / "runs"),
                    help="the former per-study exports (removed by this migration; in git history before it)")
    ap.add_argument("--reruns", required=True, help="tracking URI of the reruns (experiment nng-mix)")
    ap.add_argument("--rerun-groups", default="", help="dirty commits whose runs are replaced whole by reruns")
    ap.add_argument("--out", default=str(store.STORE_DIR))
    args = ap.parse_args(argv)
    whole = {g for g in args.rerun_groups.split(",") if g}

    runs = read_run_files(sorted(Path(args.exports).glob("*.csv.gz"))).drop(columns=["source"])
    print(f"{len(runs)} exported runs, {runs['tags.config_hash'].nunique()} config hashes")
    reruns = latest_per_config(read_mlflow(args.reruns, "nng-mix")).set_index("tags.config_hash")
    print(f"{len(reruns)} reruns at {sorted(reruns['tags.git_commit'].unique())}")
    configs = config_json_by_hash()
    runs["config"] = runs["tags.config_hash"].map(configs)
    if runs["config"].isna().any():
        raise SystemExit(f"{int(runs['config'].isna().sum())} runs match no study configuration")

    # 1. one row per hash among the exports that agree; conflicts and whole-rerun groups go to the reruns
    runs["has_signals"] = runs.get("metrics.val_mmd", pd.Series(index=runs.index, dtype=float)).notna()
    runs["clean"] = ~runs["tags.git_commit"].str.endswith("-dirty")
    n_values = runs.groupby("tags.config_hash")["metrics.aucroc"].nunique()
    conflicts = set(n_values[n_values > 1].index)
    in_whole = runs["tags.git_commit"].isin(whole)
    from_whole = set(runs.loc[in_whole, "tags.config_hash"])
    others = runs[~in_whole]
    n_other = others.groupby("tags.config_hash")["metrics.aucroc"].nunique()
    unresolved = set(n_other[n_other > 1].index) - set(reruns.index)  # conflicts outside the rerun groups
    order = others.sort_values(["has_signals", "clean", "start_time"], ascending=False)
    one = order.drop_duplicates("tags.config_hash").set_index("tags.config_hash")
    # a configuration of a whole-rerun group or with conflicting results takes its rerun; without one, the run
    # of another group (committed or verified below) stands; a conflict outside those groups needs a rerun
    take_rerun = (conflicts | from_whole) & set(reruns.index)
    print(f"{len(conflicts)} conflicting hashes, {len(from_whole)} in whole-rerun groups {sorted(whole)}: "
          f"{len(take_rerun)} take their rerun; {len(unresolved)} conflicts outside those groups without a rerun "
          "(left out)")
    for h in sorted(conflicts & set(reruns.index)):
        values = sorted(runs.loc[runs["tags.config_hash"] == h, "metrics.aucroc"].unique())
        if float(reruns.at[h, "metrics.aucroc"]) not in values:
            print(f"  conflict {h}: rerun {reruns.at[h, 'metrics.aucroc']} matches none of {values}")
    one = one[~one.index.isin(unresolved)]

    # 2. verification of the other dirty groups by their sampled reruns
    today = dt.date.today().isoformat()
    records, verified, rejected = [], {}, []
    dirty = one[one["tags.git_commit"].str.endswith("-dirty") & ~one.index.isin(take_rerun)]
    for commit, rows in dirty.groupby("tags.git_commit"):
        sample = rows[rows.index.isin(reruns.index)]
        diffs = (sample["metrics.aucroc"].astype(float) - reruns.loc[sample.index, "metrics.aucroc"].astype(float)).abs()
        ok = len(sample) > 0 and bool((diffs == 0).all())
        at = sorted(reruns.loc[sample.index, "tags.git_commit"].unique())
        records.append({"group": commit, "runs": len(rows), "sample": len(sample),
                        "detectors": ",".join(sorted(sample["tags.detector"].unique())),
                        "matches": int((diffs == 0).sum()), "max_abs_diff": float(diffs.max()) if len(diffs) else "",
                        "verified_commit": at[0] if ok else "", "date": today, "how": "stratified sample rerun"})
        if ok:
            verified[commit] = at[0]
        else:
            rejected.append(commit)
        print(f"  {commit}: {len(rows)} runs, sample {len(sample)}, matches {int((diffs == 0).sum())}, "
              f"max |diff| {diffs.max() if len(diffs) else '-'} -> {'verified' if ok else 'NOT verified'}")
    # 3. a group that failed its verification is rerun whole, like the --rerun-groups: its configurations take
    # their reruns; without one, another group's run stands where there is one, else the configuration is out
    for commit in [*sorted(whole), *rejected]:
        hashes = set(runs.loc[runs["tags.git_commit"] == commit, "tags.config_hash"])
        rerun = hashes & set(reruns.index)
        take_rerun |= rerun
        records.append({"group": commit, "runs": len(hashes), "sample": len(rerun), "detectors": "", "matches": "",
                        "max_abs_diff": "", "verified_commit": ",".join(sorted(reruns.loc[sorted(rerun), "tags.git_commit"].unique())),
                        "date": today, "how": ("given as a rerun group" if commit in whole else "sample mismatched")
                        + f": dropped whole; {len(rerun)} of its configurations rerun at a commit (column sample), "
                        "the others kept only where another group has them"})
    good = others[~others["tags.git_commit"].isin(rejected)]
    one = good.sort_values(["has_signals", "clean", "start_time"], ascending=False)
    one = one.drop_duplicates("tags.config_hash").set_index("tags.config_hash")
    one = one[~one.index.isin(unresolved)]
    kept = one[~one.index.isin(take_rerun)].copy()
    kept["tags.verified_commit"] = kept["tags.git_commit"].map(verified)
    new = reruns.loc[sorted(take_rerun)].copy()
    new["config"] = new.index.map(configs)
    rows = pd.concat([kept, new]).reset_index().rename(columns={"index": "tags.config_hash"})
    cfg = rows["config"].map(lambda c: __import__("json").loads(c)["protocol"])
    rows["tags.protocol.split"] = cfg.map(lambda p: p.get("split", "adbench"))
    rows["tags.protocol.duplicate_small"] = cfg.map(lambda p: str(bool(p["duplicate_small"])).lower())
    rows = store.with_fingerprints(rows.drop(columns=["has_signals", "clean", "source"], errors="ignore"))
    problems = store.check(rows)
    if problems:
        raise SystemExit("; ".join(problems))
    paths = store.write(rows, args.out)
    store.record_verification(args.out, records)
    left_out = runs["tags.config_hash"].nunique() - len(rows)
    print(f"store: {len(rows)} runs in {len(paths)} shards under {args.out}; {left_out} config hashes left out "
          f"(no rerun yet of groups {[*sorted(whole), *rejected]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
