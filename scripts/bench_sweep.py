"""Benchmark: one realistic sweep (48 runs of seconds each) through each launcher, in the same run.

The sweep is issue 12's: 8 Classical datasets x deepsad/catboost/mlp x none/nng_mix (10x), 1% labeled,
seed 0, threads=1 per run. Each variant is the whole ``python -m adbench_repro.run -m ...`` command
(start-up, composing, every run, MLflow writes, exit) into a fresh SQLite store. Printed per variant:
wall time of the command, the span of its runs (first start to last end, from the store), the time
spent inside the runs' generate+fit, the ratio of its wall time to the single worker's (the
reference: no process parallelism) and a check that every configuration ended FINISHED exactly once.
The AUCROCs of all variants are compared (same config and seed: same result with threads=1).

    python scripts/bench_sweep.py                  # writes results/bench/sweep.txt
    python scripts/bench_sweep.py --no-write --variants pool,one_worker
    python scripts/bench_sweep.py --rounds 3       # interleaved rounds (order rotated each round), medians

With ``--rounds N`` every round runs each variant once, the order rotated by one each round so that no
variant always goes first (a slow drift in the machine's load then falls on every variant alike); the
table gives the median over rounds, each round is listed, and the launcher decision follows from the
medians: the pool launcher earns its place only if it saves at least 5 % of the sweep's wall time
against Hydra's joblib launcher.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from mlflow.tracking import MlflowClient

from adbench_repro.provenance import cpu_model

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASETS = "19_landsat,30_satellite,26_optdigits,6_cardio,22_magic.gamma,31_satimage-2,18_Ionosphere,7_Cardiotocography"
SWEEP = [f"dataset={DATASETS}", "label_ratio=1pct", "detector=deepsad,catboost,mlp", "augmenter=none,nng_mix",
         "multiplier=10", "seed=0", "threads=1"]
#: name -> (extra overrides, what it is)
VARIANTS = {
    "pool": (["hydra/launcher=local", "hydra.launcher.n_jobs=2"], "the default launcher: 2 worker processes"),
    "joblib": (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], "Hydra's joblib (loky) launcher, 2 workers"),
    "one_worker": (["hydra/launcher=local", "hydra.launcher.n_jobs=1"], "reference: every run in the sweep process"),
}


def data_root() -> Path:
    for c in (os.environ.get("ADBENCH_DATA"), REPO_ROOT / "data" / "adbench", REPO_ROOT.parent / "shared" / "adbench"):
        if c and (Path(c) / "Classical").is_dir():
            return Path(c).resolve()
    sys.exit("ADBench data not found: set ADBENCH_DATA or run `make data`")


def run_variant(name: str, workdir: Path, root: Path) -> dict:
    """Run the sweep with variant ``name`` into a fresh store under ``workdir``; its figures."""
    workdir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "ADBENCH_THREADS")}
    cmd = [sys.executable, "-m", "adbench_repro.run", "-m", *SWEEP, *VARIANTS[name][0], f"data.root={root}",
           f"mlflow.tracking_uri=sqlite:///{workdir}/mlflow.db", f"hydra.sweep.dir={workdir}/multirun"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"variant {name} failed (exit {res.returncode}):\n{(res.stdout + res.stderr)[-3000:]}")
    client = MlflowClient(f"sqlite:///{workdir}/mlflow.db")
    exp = client.get_experiment_by_name("nng-mix")
    runs = client.search_runs([exp.experiment_id], max_results=10_000)
    finished = [r for r in runs if r.info.status == "FINISHED"]
    per_hash = Counter(r.data.tags["config_hash"] for r in finished)
    return {
        "wall": wall,
        "span": (max(r.info.end_time for r in finished) - min(r.info.start_time for r in finished)) / 1000,
        "inside": sum(r.data.metrics.get("fit_s", 0) + r.data.metrics.get("generate_s", 0) for r in finished),
        "finished": len(finished), "distinct": len(per_hash), "other": len(runs) - len(finished),
        "twice": sum(n > 1 for n in per_hash.values()),
        "aucroc": {r.data.tags["config_hash"]: r.data.metrics["aucroc"] for r in finished},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma list of {', '.join(VARIANTS)}")
    ap.add_argument("--no-write", action="store_true", help="print only (default: also results/bench/sweep.txt)")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds, order rotated each round (default 1)")
    args = ap.parse_args()
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        sys.exit(f"--variants: unknown {', '.join(unknown)} (choose from {', '.join(VARIANTS)})")
    root = data_root()
    out = [f"# bench_sweep: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu_model()}, "
           f"{len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}",
           f"# sweep: {' '.join(SWEEP)}  (48 configurations)"]
    rounds: list[dict[str, dict]] = []
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            rounds.append({})
            for name in order:
                print(f"round {r + 1}/{args.rounds}: running {name} ...", flush=True)
                rounds[-1][name] = run_variant(name, Path(tmp) / f"r{r}_{name}", root)
    results = {name: {k: statistics.median(rd[name][k] for rd in rounds) for k in ("wall", "span", "inside")}
               | {k: rounds[-1][name][k] for k in ("finished", "twice", "aucroc")} for name in names}
    ref = results.get("one_worker")
    out.append(f"# {args.rounds} round(s), order rotated each round; figures are medians over the rounds")
    out.append(f"{'variant':<11} {'wall s':>7} {'runs span s':>11} {'in fit+gen s':>12} {'vs 1 worker':>11}  "
               f"{'FINISHED':>8} {'twice':>5}  what")
    for name, r in results.items():
        ratio = f"{ref['wall'] / r['wall']:.2f}x" if ref else "-"
        out.append(f"{name:<11} {r['wall']:7.1f} {r['span']:11.1f} {r['inside']:12.1f} {ratio:>11}  "
                   f"{r['finished']:>8} {r['twice']:>5}  {VARIANTS[name][1]}")
    for i, rd in enumerate(rounds):
        out.append(f"# round {i + 1} wall s (in run order): "
                   + " | ".join(f"{n} {v['wall']:.1f}" for n, v in rd.items()))
    every = [rd[n]["aucroc"] for rd in rounds for n in rd]
    first = every[0]
    worst = max(abs(a.get(h, float("nan")) - v) for a in every for h, v in first.items())
    out.append(f"# largest AUCROC difference between variants and rounds for the same configuration: {worst:.2e}")
    if "pool" in results and "joblib" in results:
        gain = (results["joblib"]["wall"] - results["pool"]["wall"]) / results["joblib"]["wall"]
        keep = gain >= 0.05
        out.append(f"# decision: the pool launcher saves {100 * gain:.1f}% of the sweep's wall time against Hydra's "
                   f"joblib launcher (median over {args.rounds} round(s)); the bar is 5%: "
                   + ("keep the pool launcher" if keep else "make joblib the default and delete the pool launcher"))
    text = "\n".join(out)
    print(text)
    if not args.no_write:
        path = REPO_ROOT / "results" / "bench" / "sweep.txt"
        path.write_text(text + "\n")
        print(f"written: {path}")


if __name__ == "__main__":
    main()
