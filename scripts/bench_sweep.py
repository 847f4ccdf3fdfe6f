"""Benchmark: a paper study (default: the QUICK Table I study, 160 runs) run through the harness
with 1 worker (1 thread, then all cores per run) and with one worker per core, all in this run;
then a tracking stress test.

Each variant is the whole ``python -m adbench_repro.reproduce <study> --quick --no-aggregate`` command
(planning, one multirun, worker start-up, every run, MLflow writes) into a fresh SQLite store.
Printed per variant: wall time, runs per minute, speed-up over 1 worker x 1 thread (so that only
the process parallelism differs; the single worker at its default of all cores per run is shown
too), and the harness overhead per run = (wall - time inside detector fit and augmenter generate,
read from the runs' fit_s/generate_s metrics) / runs: start-up, imports, Hydra composition, data
loading, scoring, MLflow (also per worker-second: (wall x workers - inside) / runs). Checked: every
configuration FINISHED exactly once; AUCROCs compared per detector across variants (Deep SAD's
can move in late digits with the number of torch threads per run).

Stress: 8 workers x 5 runs each (8 seeds x 5 datasets, cheap MLP) against a fresh SQLite store,
counting FINISHED/FAILED runs, duplicates and the transient-lock retries logged by the workers.

    python scripts/bench_sweep.py              # writes results/bench/sweep.txt
    python scripts/bench_sweep.py --no-write   # prints only
    python scripts/bench_sweep.py --detectors xgbod,catboost --datasets 6_cardio,44_Wilt
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

from adbench_repro.provenance import cpu_model

REPO_ROOT = Path(__file__).resolve().parents[1]
STRESS_DATASETS = ["39_vertebral", "42_WBC", "14_glass", "45_wine", "29_Pima"]



def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def data_root() -> Path:
    for c in (os.environ.get("ADBENCH_DATA"), REPO_ROOT / "data" / "adbench", REPO_ROOT.parent / "shared" / "adbench"):
        if c and (Path(c) / "Classical").is_dir():
            return Path(c).resolve()
    sys.exit("ADBench data not found: set ADBENCH_DATA or run `make data`")


def env() -> dict[str, str]:
    e = dict(os.environ)
    for k in list(e):
        if k in ("MLFLOW_TRACKING_URI", "ADBENCH_THREADS") or k.startswith("ADBENCH_SWEEP"):
            e.pop(k)
    return e


def run_study(workdir: Path, args: argparse.Namespace, extra: list[str], root: Path) -> tuple[float, str, int]:
    """``reproduce <study> --quick --no-aggregate`` into a fresh store in ``workdir``; (wall s, output, rc)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "adbench_repro.reproduce", args.study, "--quick", "--no-aggregate",
           *(["--detectors", args.detectors] if args.detectors else []),
           *(["--datasets", args.datasets] if args.datasets else []),
           f"data.root={root}", f"mlflow.tracking_uri=sqlite:///{workdir}/mlflow.db",
           f"hydra.sweep.dir={workdir}/multirun", *extra]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=workdir, env=env(), capture_output=True, text=True)
    return time.perf_counter() - t0, res.stdout + res.stderr, res.returncode


def store_runs(workdir: Path):
    client = MlflowClient(tracking_uri=f"sqlite:///{workdir}/mlflow.db")
    exp = client.get_experiment_by_name("nng-mix")
    return client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=50000) if exp else []


def measure(name: str, tmp: Path, root: Path, args: argparse.Namespace, extra: list[str], workers: int) -> dict:
    """The whole study for one variant, into a fresh store (created by the command itself)."""
    work = tmp / re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")  # fresh per variant and round
    wall, out, rc = run_study(work, args, extra, root)
    if rc != 0:
        print(f"  !! {name}: exited {rc}:\n{out[-3000:]}")
    all_runs = store_runs(work)
    status = Counter(r.info.status for r in all_runs)
    inside = sum(r.data.metrics.get("fit_s", 0.0) + r.data.metrics.get("generate_s", 0.0) for r in all_runs)
    auc = {r.data.tags["config_hash"]: (r.data.tags["detector"], r.data.metrics.get("aucroc"))
           for r in all_runs if r.info.status == "FINISHED"}
    n = max(1, status["FINISHED"])
    return {"name": name, "wall": wall, "runs": status["FINISHED"], "status": dict(status), "inside": inside,
            "overhead": (wall - inside) / n, "overhead_ws": (wall * workers - inside) / n, "auc": auc, "rc": rc,
            "distinct": len({r.data.tags["config_hash"] for r in all_runs if r.info.status == "FINISHED"})}


def stress(tmp: Path, root: Path) -> str:
    """8 workers x 5 runs on a fresh SQLite store created by the sweep itself; outcomes and lock retries."""
    work = tmp / "stress"
    overrides = [f"data.root={root}", f"dataset={','.join(STRESS_DATASETS)}", "seed=0,1,2,3,4,5,6,7", "augmenter=none",
                 "detector=mlp", "detector.max_iter=5", "detector.hidden_layer_sizes=[8]",
                 "hydra.verbose=adbench_repro.tracking"]
    work.mkdir(parents=True)
    cmd = [sys.executable, "-m", "adbench_repro.run", "-m", f"mlflow.tracking_uri=sqlite:///{work}/mlflow.db",
           f"hydra.sweep.dir={work}/multirun", "hydra.launcher.n_jobs=8", *overrides]
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, cwd=work, env=env(), capture_output=True, text=True).returncode
    wall = time.perf_counter() - t0
    all_runs = store_runs(work)
    status = Counter(r.info.status for r in all_runs)
    hashes = Counter(r.data.tags["config_hash"] for r in all_runs if r.info.status == "FINISHED")
    retries = sum(len(re.findall(r"transient tracking error", p.read_text(errors="replace")))
                  for p in (work / "multirun").rglob("*.log"))
    return (f"stress: 8 workers x 5 runs, fresh SQLite store: exit {rc}, {wall:.1f} s, runs {dict(status)}, "
            f"distinct FINISHED configs {len(hashes)}, duplicates {sum(v - 1 for v in hashes.values())}, "
            f"transient-lock retries {retries}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--study", default="table1")
    ap.add_argument("--detectors", default=None, help="comma list (default: the study's QUICK detectors)")
    ap.add_argument("--datasets", default=None, help="comma list (default: the study's QUICK datasets)")
    ap.add_argument("--repeats", type=int, default=3, help="rounds of all variants (best-of-N wall time per variant)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--joblib", action="store_true", help="also run Hydra's joblib launcher (reference) on all cores")
    ap.add_argument("--no-stress", action="store_true", help="skip the 8-worker tracking stress test")
    args = ap.parse_args()
    root, n = data_root(), cores()
    load = os.getloadavg()
    what = f"{args.study} QUICK" + (f", detectors {args.detectors}" if args.detectors else "") + \
        (f", datasets {args.datasets}" if args.datasets else "")
    lines = [f"# bench_sweep  {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}",
             f"machine: {n} cores ({cpu_model()}), python {platform.python_version()}, "
             f"load average before start {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}",
             f"study: {what}; each variant = `python -m adbench_repro.reproduce {args.study} --quick --no-aggregate` "
             f"(planning + one multirun) into a fresh SQLite store; {args.repeats} interleaved round(s), best kept",
             "overhead = (wall - time inside detector fit + augmenter generate) / runs (meaningful for 1 worker); "
             "worker-s = (wall x workers - inside) / runs"]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmpdir:
        tmp = Path(tmpdir)
        # speed-ups are against the first variant: one run at a time, one thread, so that only the
        # process parallelism differs; the second is a single worker at its default (all cores per run)
        variants = [("1 worker x 1 thread", ["--jobs", "1", "hydra.launcher.threads_per_job=1"], 1),
                    (f"1 worker x {n} threads (default)", ["--jobs", "1"], 1),
                    (f"{n} workers x 1 thread (default)", [], n)]
        if args.joblib:
            variants.append((f"joblib launcher (reference), {n} workers",
                             ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={n}"], n))
        # rounds interleave the variants so that a slow spell of the machine hits all of them; each
        # variant keeps its fastest round (the usual best-of-N), every round's wall time is printed too
        by_variant: dict[str, list[dict]] = {name: [] for name, _, _ in variants}
        for rnd in range(args.repeats):
            for name, extra, workers in variants:
                r = measure(f"{name} round {rnd}", tmp, root, args, extra, workers)
                by_variant[name].append(r)
                print(f"  round {rnd + 1}/{args.repeats}: {name}: {r['wall']:.1f} s (exit {r['rc']})", flush=True)
        results = []
        for name, _, _ in variants:
            r = min(by_variant[name], key=lambda x: x["wall"])
            results.append(r)
            base = results[0]["wall"]
            walls = ", ".join(f"{x['wall']:.1f}" for x in by_variant[name])
            line = (f"{name:<36s} wall {r['wall']:6.1f} s (best of {walls}) | runs {r['runs']:3d} ({r['distinct']} "
                    f"distinct, exit {r['rc']}) | {60 * r['runs'] / r['wall']:5.1f} runs/min | speed-up "
                    f"x{base / r['wall']:.2f} | inside {r['inside']:5.1f} s | overhead {r['overhead']:.2f} s/run "
                    f"({r['overhead_ws']:.2f} worker-s/run)")
            print(line, flush=True)
            lines.append(line)
        if args.repeats > 1:
            med = [sorted(x["wall"] for x in by_variant[name])[(args.repeats - 1) // 2] for name, _, _ in variants]
            lines.append("speed-ups on the median (lower-middle) round instead: "
                         + ", ".join(f"x{med[0] / m:.2f}" for m in med))
            print(lines[-1], flush=True)
        all_rounds = [x for name, _, _ in variants for x in by_variant[name]]
        detectors = sorted({d for d, _ in results[0]["auc"].values()})
        for det in detectors:
            keys = [k for k, (d, _) in results[0]["auc"].items() if d == det]
            same = all(r["auc"].get(k) == results[0]["auc"][k] for r in results for k in keys)
            lines.append(f"AUCROCs of {det} identical across variants: {same} ({len(keys)} configurations)")
        ok = all(r["runs"] == r["distinct"] == sum(r["status"].values()) and r["rc"] == 0 for r in all_rounds)
        lines.append(f"every configuration FINISHED exactly once in every variant and round, exit 0: {ok}")
        print("\n".join(lines[-(len(detectors) + 1):]), flush=True)
        if not args.no_stress:
            s = stress(tmp, root)
            print(s, flush=True)
            lines.append(s)
    load = os.getloadavg()
    lines.append(f"load average at the end {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} "
                 f"(above {n}: other jobs were sharing these {n} cores)")
    print(lines[-1])
    if not args.no_write:
        out = REPO_ROOT / "results" / "bench" / "sweep.txt"
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
