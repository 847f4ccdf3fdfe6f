"""Benchmark: a QUICK study-like sweep with 1 worker (1 thread, then all cores per run), with one
worker per core, and with Hydra's joblib launcher (the reference) on all cores, all in this run;
then a tracking stress test.

Sweep: small Classical datasets x augmenters (none, mixup, nng_mix at 10x) x detectors (mlp,
catboost, deepsad at their configured settings, as the QUICK=1 studies run them), seeds 0-2; one multirun per variant into a fresh, pre-created
SQLite store. Printed per variant: wall time (the whole `python -m adbench_repro.run -m ...`
process), runs per minute, speed-up over 1 worker, and the harness overhead per run = (wall - time
inside detector fit and augmenter generate, read from the runs' fit_s/generate_s metrics) / runs:
start-up, imports, Hydra, data loading, scoring, MLflow (also per worker-second: (wall x workers -
inside) / runs). Checked: every configuration FINISHED exactly once; AUCROCs compared per detector
across variants (Deep SAD's can move in late digits with the number of torch threads per run).

Stress: 8 workers x 5 runs each (8 seeds x 5 datasets, cheap MLP) against a fresh SQLite store,
counting FINISHED/FAILED runs, duplicates and the transient-lock retries logged by the workers.

    python scripts/bench_sweep.py              # writes results/bench/sweep.txt
    python scripts/bench_sweep.py --no-write   # prints only
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
DATASETS = ["39_vertebral", "42_WBC", "14_glass", "45_wine", "29_Pima"]
AUGMENTERS = ["none", "mixup", "nng_mix"]
# the detectors at their configured (paper) settings, as the QUICK=1 studies run them; catboost also
# gets thread_count = threads per run explicitly (its -1 default now means the same: the run's thread budget)
QUICK_DETECTORS: dict[str, dict] = {"mlp": {}, "catboost": {}, "deepsad": {}}



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
    for k in ("MLFLOW_TRACKING_URI", "ADBENCH_SWEEP_ID", "ADBENCH_THREADS"):
        e.pop(k, None)
    return e


def run_sweep(workdir: Path, overrides: list[str], launcher: list[str]) -> tuple[float, str, int]:
    """Run one multirun in ``workdir``; (wall seconds, output, return code)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "adbench_repro.run", "-m", f"mlflow.tracking_uri=sqlite:///{workdir}/mlflow.db",
           f"hydra.sweep.dir={workdir}/multirun", *launcher, *overrides]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=workdir, env=env(), capture_output=True, text=True)
    return time.perf_counter() - t0, res.stdout + res.stderr, res.returncode


def store_runs(workdir: Path):
    client = MlflowClient(tracking_uri=f"sqlite:///{workdir}/mlflow.db")
    exp = client.get_experiment_by_name("nng-mix")
    return client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=5000) if exp else []


def write_quick_detectors(conf_dir: Path, threads: int) -> list[str]:
    """``detector/<name>_quick.yaml`` configs (few epochs) in ``conf_dir``; their names."""
    (conf_dir / "detector").mkdir(parents=True, exist_ok=True)
    names = []
    for det, params in QUICK_DETECTORS.items():
        params = dict(params, **({"thread_count": threads} if det == "catboost" else {}))
        body = "".join(f"{k}: {v}\n" for k, v in params.items())
        (conf_dir / "detector" / f"{det}_quick.yaml").write_text(f"defaults:\n  - {det}\n  - _self_\n{body}")
        names.append(f"{det}_quick")
    return names


def create_store(workdir: Path) -> float:
    """Create the SQLite store's tables and the experiment (a one-off, not a per-run cost); seconds."""
    from adbench_repro import tracking

    workdir.mkdir(parents=True)
    t0 = time.perf_counter()
    client = MlflowClient(tracking_uri=f"sqlite:///{workdir}/mlflow.db")
    tracking.ensure_experiment(client, "nng-mix")
    return time.perf_counter() - t0


def measure(name: str, tmp: Path, root: Path, datasets: list[str], seeds: str, launcher: list[str], workers: int,
            threads: int) -> dict:
    """The whole sweep for one variant, into a fresh (pre-created) store."""
    work = tmp / re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
    store_s = create_store(work)
    detectors = write_quick_detectors(work / "conf", threads)
    overrides = [f"data.root={root}", f"hydra.searchpath=[file://{work}/conf]", f"dataset={','.join(datasets)}",
                 "label_ratio=1pct", "multiplier=10", f"seed={seeds}", f"augmenter={','.join(AUGMENTERS)}",
                 f"detector={','.join(detectors)}"]
    wall, out, rc = run_sweep(work, overrides, launcher)
    if rc != 0:
        print(f"  !! {name}: sweep exited {rc}:\n{out[-3000:]}")
    all_runs = store_runs(work)
    status = Counter(r.info.status for r in all_runs)
    inside = sum(r.data.metrics.get("fit_s", 0.0) + r.data.metrics.get("generate_s", 0.0) for r in all_runs)
    auc = {(r.data.tags["dataset"], r.data.tags["augmenter"], r.data.tags["detector"], r.data.tags["seed"]):
           r.data.metrics.get("aucroc")
           for r in all_runs if r.info.status == "FINISHED"}
    n = max(1, status["FINISHED"])
    return {"name": name, "wall": wall, "runs": status["FINISHED"], "status": dict(status), "inside": inside,
            "overhead": (wall - inside) / n, "overhead_ws": (wall * workers - inside) / n, "auc": auc, "rc": rc,
            "store_s": store_s,
            "distinct": len({r.data.tags["config_hash"] for r in all_runs if r.info.status == "FINISHED"})}


def stress(tmp: Path, root: Path) -> str:
    """8 workers x 5 runs on a fresh SQLite store created by the sweep itself; outcomes and lock retries."""
    work = tmp / "stress"
    overrides = [f"data.root={root}", f"dataset={','.join(DATASETS)}", "seed=0,1,2,3,4,5,6,7", "augmenter=none",
                 "detector=mlp", "detector.max_iter=5", "detector.hidden_layer_sizes=[8]",
                 "hydra.verbose=adbench_repro.tracking"]
    wall, out, rc = run_sweep(work, overrides, ["hydra.launcher.n_jobs=8"])
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
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--seeds", default="0,1,2", help="comma list (more seeds amortise start-up)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--no-joblib", action="store_true", help="skip the joblib-launcher reference")
    ap.add_argument("--no-stress", action="store_true", help="skip the 8-worker tracking stress test")
    args = ap.parse_args()
    root, n = data_root(), cores()
    datasets = args.datasets.split(",")
    load = os.getloadavg()
    lines = [f"# bench_sweep  {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}",
             f"machine: {n} cores ({cpu_model()}), python {platform.python_version()}, "
             f"load average before start {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}",
             f"sweep: {len(datasets)} datasets ({', '.join(datasets)}) x augmenters {AUGMENTERS} (10x) x detectors "
             f"{list(QUICK_DETECTORS)} at their configured settings, label_ratio=1pct, seeds {args.seeds}: one multirun per variant into a fresh, "
             f"pre-created SQLite store (store creation is a one-off, reported apart)",
             "overhead = (wall - time inside detector fit + augmenter generate) / runs (meaningful for 1 worker); "
             "worker-s = (wall x workers - inside) / runs; wall = the whole `python -m adbench_repro.run -m` process"]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmpdir:
        tmp = Path(tmpdir)
        # speed-ups are against the first variant: one run at a time, one thread, so that only the
        # process parallelism differs; the second is a single worker at its default (all cores per run)
        variants = [("pool, 1 worker x 1 thread", ["hydra.launcher.n_jobs=1", "hydra.launcher.threads_per_job=1"],
                     1, 1),
                    (f"pool, 1 worker x {n} threads (default)", ["hydra.launcher.n_jobs=1"], 1, n),
                    (f"pool, {n} workers x 1 thread (default)", [f"hydra.launcher.n_jobs={n}"], n, 1)]
        if not args.no_joblib:
            variants.append((f"joblib launcher (reference), {n} workers",
                             ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={n}"], n, 1))
        results = []
        for name, launcher, workers, threads in variants:
            r = measure(name, tmp, root, datasets, args.seeds, launcher, workers, threads)
            results.append(r)
            base = results[0]["wall"]
            line = (f"{name:<40s} wall {r['wall']:6.1f} s | runs {r['runs']:3d} ({r['distinct']} distinct, exit "
                    f"{r['rc']}) | {60 * r['runs'] / r['wall']:5.1f} runs/min | speed-up x{base / r['wall']:.2f} | "
                    f"inside {r['inside']:5.1f} s | overhead {r['overhead']:.2f} s/run ({r['overhead_ws']:.2f} "
                    f"worker-s/run) | store creation {r['store_s']:.1f} s")
            print(line, flush=True)
            lines.append(line)
        for det in QUICK_DETECTORS:
            keys = [k for k in results[0]["auc"] if k[2] == f"{det}_quick"]
            same = all(r["auc"].get(k) == results[0]["auc"][k] for r in results for k in keys)
            lines.append(f"AUCROCs of {det} identical across variants: {same} ({len(keys)} configurations)")
        ok = all(r["runs"] == r["distinct"] == sum(r["status"].values()) for r in results)
        lines.append(f"every configuration FINISHED exactly once in every variant: {ok}")
        print("\n".join(lines[-(len(QUICK_DETECTORS) + 1):]), flush=True)
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
