"""Fault tests of real multiruns (`python -m adbench_repro.run -m ...` in subprocesses).

Each sweep uses a fresh SQLite store under tmp_path, tiny Classical datasets and a small MLP, so
the whole file stays within a few minutes on 2 cores.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

TINY = ["39_vertebral", "14_glass", "45_wine", "42_WBC", "15_Hepatitis"]
CHEAP_MLP = ["augmenter=none", "detector=mlp", "detector.max_iter=5", "detector.hidden_layer_sizes=[8]"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for k in list(env):
        if k in ("MLFLOW_TRACKING_URI", "ADBENCH_DATA", "ADBENCH_THREADS") or k.startswith("ADBENCH_SWEEP"):
            env.pop(k)
    env["HYDRA_FULL_ERROR"] = "1"
    return env


def _cmd(tmp: Path, root: Path, uri: str, n_jobs: int, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "adbench_repro.run", "-m", f"data.root={root}", f"mlflow.tracking_uri={uri}",
            f"hydra.sweep.dir={tmp}/multirun", f"hydra.launcher.n_jobs={n_jobs}", *overrides]


def sweep(tmp: Path, root: Path, n_jobs: int, *overrides: str, uri: str | None = None,
          timeout: float = 300) -> subprocess.CompletedProcess:
    uri = uri or f"sqlite:///{tmp}/mlflow.db"
    return subprocess.run(_cmd(tmp, root, uri, n_jobs, *overrides), cwd=tmp, env=_env(), capture_output=True,
                          text=True, timeout=timeout)


def runs(uri: str):
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("nng-mix")
    assert exp is not None
    return client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=5000)


def by_status(all_runs) -> Counter:
    return Counter(r.info.status for r in all_runs)


def finished_aucroc(all_runs) -> dict[str, float]:
    out = {}
    for r in all_runs:
        if r.info.status == "FINISHED":
            h = r.data.tags["config_hash"]
            assert h not in out, f"two FINISHED runs for config {h}"
            out[h] = r.data.metrics["aucroc"]
    return out


@pytest.mark.slow  # real multi-process sweep, 25-55 s
def test_eight_workers_fresh_sqlite_store_lose_nothing(tmp_path, adbench_root):
    seeds = ",".join(str(s) for s in range(8))
    res = sweep(tmp_path, adbench_root, 8, f"dataset={','.join(TINY)}", f"seed={seeds}", *CHEAP_MLP)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "launching 40 jobs on 8 worker(s)" in res.stdout + res.stderr
    all_runs = runs(f"sqlite:///{tmp_path}/mlflow.db")
    assert by_status(all_runs) == Counter({"FINISHED": 40})
    assert len(finished_aucroc(all_runs)) == 40
    assert {(r.data.tags["dataset"], r.data.tags["seed"]) for r in all_runs} == {
        (d, str(s)) for d in TINY for s in range(8)}
    sweep_ids = {r.data.tags["sweep_id"] for r in all_runs}
    assert len(sweep_ids) == 1 and sweep_ids != {""}
    assert all(r.data.metrics["threads"] == 1 for r in all_runs)  # 8 workers on <= 8 cores
    assert "[sweep] summary: 40 jobs | finished 40 | skipped 0 | failed 0" in res.stdout


def test_failing_configuration_is_isolated_and_reported(tmp_path, adbench_root):
    root = tmp_path / "data"
    (root / "Classical").mkdir(parents=True)
    good = ["39_vertebral", "14_glass", "45_wine"]
    for name in good:
        (root / "Classical" / f"{name}.npz").symlink_to(adbench_root / "Classical" / f"{name}.npz")
    (root / "Classical" / "42_WBC.npz").write_bytes(b"this is not a zip archive")
    # dataset=classical expands to the 4 files present (one corrupt), warning about the rest
    res = sweep(tmp_path, root, 2, "dataset=classical", "seed=0", *CHEAP_MLP)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "are not under" in out and "6_cardio" in out
    assert "[sweep] summary: 4 jobs | finished 3 | skipped 0 | failed 1" in res.stdout
    failed_lines = [ln for ln in res.stdout.splitlines() if "FAILED #" in ln]
    assert len(failed_lines) == 1 and "dataset=42_WBC" in failed_lines[0] and "DataError" in failed_lines[0]
    # the summary names the job's own folder, which holds its log, and no traceback follows it
    log_dir = failed_lines[0].split("(log in ", 1)[1].split(")", 1)[0].rstrip("/")
    assert Path(log_dir).is_dir() and any(Path(log_dir).glob("*.log")) and Path(log_dir) != tmp_path
    assert res.returncode == 1 and "Traceback" not in res.stderr
    all_runs = runs(f"sqlite:///{tmp_path}/mlflow.db")
    # the data are checked before the run is created: a corrupt file leaves no run for the aggregator to count,
    # and the job's log names the file and the fault
    assert by_status(all_runs) == Counter({"FINISHED": 3})
    assert "42_WBC" not in {r.data.tags.get("dataset") for r in all_runs}
    log_text = "".join(p.read_text() for p in Path(log_dir).glob("*.log"))
    assert "42_WBC.npz" in log_text and "corrupt" in log_text
    # the rerun launches only the failed configuration again
    res2 = sweep(tmp_path, root, 2, "dataset=classical", "seed=0", *CHEAP_MLP)
    assert res2.returncode != 0
    assert "[sweep] summary: 4 jobs | finished 0 | skipped 3 | failed 1" in res2.stdout
    assert "[sweep]   skipped: 3 already FINISHED" in res2.stdout
    assert by_status(runs(f"sqlite:///{tmp_path}/mlflow.db")) == Counter({"FINISHED": 3})


def _count_finished(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("select count(*) from runs where status = 'FINISHED'").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow  # real multi-process sweep, 25-55 s
def test_sigkill_mid_sweep_then_restart_completes_exactly_once(tmp_path, adbench_root):
    configs = [f"dataset={','.join(TINY[:4])}", "seed=0,1,2,3", "augmenter=none", "detector=mlp",
               "detector.max_iter=60"]
    db = tmp_path / "mlflow.db"
    cmd = _cmd(tmp_path, adbench_root, f"sqlite:///{db}", 2, *configs)
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while _count_finished(db) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        done_at_kill = _count_finished(db)
        os.killpg(proc.pid, signal.SIGKILL)  # the parent and every worker
    finally:
        proc.wait(timeout=30)
    assert 3 <= done_at_kill < 16, f"the kill did not land mid-sweep ({done_at_kill} of 16 finished)"
    killed = by_status(runs(f"sqlite:///{db}"))
    assert set(killed) <= {"FINISHED", "RUNNING"}

    res = sweep(tmp_path, adbench_root, 2, *configs)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert f"skipped {killed['FINISHED']} | failed 0" in res.stdout
    assert f"[sweep]   skipped: {killed['FINISHED']} already FINISHED" in res.stdout
    all_runs = runs(f"sqlite:///{db}")
    assert len(finished_aucroc(all_runs)) == 16  # one FINISHED run per configuration, no duplicates
    assert by_status(all_runs)["FINISHED"] == 16
    # runs cut by the kill are ended KILLED by the runs that took their configurations over (never counted);
    # nothing is left RUNNING
    taken_over = [r for r in all_runs if r.info.status == "KILLED" and r.info.lifecycle_stage == "active"]
    assert len(taken_over) == killed.get("RUNNING", 0) and by_status(all_runs).get("RUNNING", 0) == 0
    assert all(r.data.tags["error"].startswith("LeaseLost: owner process") for r in taken_over)


@pytest.mark.slow  # real multi-process sweep, 25-55 s
def test_one_and_two_workers_give_identical_aucrocs(tmp_path, adbench_root):
    overrides = ["dataset=39_vertebral,42_WBC", "seed=0,1", "augmenter=nng_mix", "multiplier=2", "detector=mlp",
                 "detector.max_iter=20"]
    results = {}
    for n_jobs in (1, 2):
        tmp = tmp_path / f"n{n_jobs}"
        tmp.mkdir()
        res = sweep(tmp, adbench_root, n_jobs, *overrides)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        results[n_jobs] = finished_aucroc(runs(f"sqlite:///{tmp}/mlflow.db"))
    assert len(results[1]) == 4
    assert results[1] == results[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # ~40 s, mostly the server's start-up
def test_sweep_logs_to_a_remote_tracking_server(tmp_path, adbench_root):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path}/server.db", "--artifacts-destination", str(tmp_path / "art")],
        cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not come up on {uri} (exit code {server.poll()})")
            time.sleep(0.5)
        res = sweep(tmp_path, adbench_root, 2, "dataset=39_vertebral,14_glass", "seed=0", *CHEAP_MLP, uri=uri)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        all_runs = runs(uri)
        assert by_status(all_runs) == Counter({"FINISHED": 2})
        assert {r.data.tags["dataset"] for r in all_runs} == {"39_vertebral", "14_glass"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=15)


def test_dry_run_lists_the_jobs_and_runs_nothing(tmp_path, adbench_root):
    res = sweep(tmp_path, adbench_root, 2, "dataset=39_vertebral,14_glass", "multiplier=1,2,3", "augmenter=mixup",
                "detector=mlp", "hydra.sweeper.dry_run=true")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "dry run: 6 job(s)" in res.stdout
    assert sum("would run: " in line for line in res.stdout.splitlines()) == 6
    assert not (tmp_path / "mlflow.db").exists()  # nothing ran, no store was made


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


@pytest.mark.slow  # real multi-process sweep, 25-55 s
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killing_only_the_sweep_parent_leaves_no_worker_behind(tmp_path, adbench_root):
    configs = [f"dataset={','.join(TINY[:4])}", "seed=0,1,2,3", "augmenter=none", "detector=mlp",
               "detector.max_iter=60"]
    db = tmp_path / "mlflow.db"
    proc = subprocess.Popen(_cmd(tmp_path, adbench_root, f"sqlite:///{db}", 2, *configs), cwd=tmp_path, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while _count_finished(db) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        assert len(_group_members(proc.pid)) >= 3  # parent and its 2 workers
        proc.kill()  # the parent only (kill -9 <pid>): the workers must notice and exit
    finally:
        proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while _group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _group_members(proc.pid)
    for pid in left:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes of the killed sweep still alive: {left}"
    assert set(by_status(runs(f"sqlite:///{db}"))) <= {"FINISHED", "RUNNING", "KILLED"}


@pytest.mark.slow  # real multi-process sweep, 25-55 s
def test_jobs_file_sweep_runs_a_repeated_configuration_once(tmp_path, adbench_root):
    jobs = tmp_path / "jobs.yaml"
    # augmenter=none ignores the multiplier: jobs 0 and 1 are one configuration (run once: see lease.py)
    jobs.write_text("- [dataset=39_vertebral, augmenter=none, multiplier=1]\n"
                    "- {dataset: 39_vertebral, augmenter: none, multiplier: 2}\n"
                    "- [dataset=14_glass, augmenter=mixup, multiplier=2]\n")
    res = sweep(tmp_path, adbench_root, 2, f"hydra.sweeper.jobs_file={jobs}", "detector=mlp", "detector.max_iter=5",
                "seed=0,1")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "[sweep] summary: 6 jobs | finished 4 | skipped 2 | failed 0" in res.stdout
    all_runs = runs(f"sqlite:///{tmp_path}/mlflow.db")
    assert by_status(all_runs) == Counter({"FINISHED": 4})
    assert len(finished_aucroc(all_runs)) == 4
    assert (tmp_path / "multirun" / "jobs.yaml").is_file()  # the sweep dir keeps the job list it ran
    # a key set in the file and on the command line is refused, naming the file
    clash = sweep(tmp_path, adbench_root, 2, f"hydra.sweeper.jobs_file={jobs}", "dataset=45_wine")
    assert clash.returncode != 0 and "jobs.yaml: job 0 sets dataset" in clash.stdout + clash.stderr


@pytest.mark.parametrize("launcher,repetitions", [("local", 1), pytest.param("local", 3, marks=pytest.mark.slow),
                                                   pytest.param("joblib", 3, marks=pytest.mark.slow)])
def test_two_sweeps_on_one_fresh_store_finish_each_configuration_once(tmp_path, adbench_root, launcher, repetitions):
    # 12 configurations in common, started together on one new SQLite store; the race is repeated under `slow`
    configs = [*CHEAP_MLP, f"hydra/launcher={launcher}"]
    orders = {"a": [f"dataset={','.join(TINY[:4])}", "seed=0,1,2"], "b": [f"dataset={','.join(TINY[3::-1])}", "seed=2,1,0"]}
    for rep in range(repetitions):
        tmp = tmp_path / f"rep{rep}"
        tmp.mkdir()
        uri = f"sqlite:///{tmp}/mlflow.db"
        procs = [subprocess.Popen(_cmd(tmp / name, adbench_root, uri, 2, *order, *configs), cwd=tmp, env=_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name, order in orders.items()]  # the same 12 configurations, in opposite orders
        outs = [p.communicate(timeout=300) for p in procs]
        for p, (out, err) in zip(procs, outs):
            assert p.returncode == 0, out[-3000:] + err[-3000:]
            assert "warn" not in (out + err).lower() and "error" not in (out + err).lower(), out + err
        all_runs = runs(uri)  # every view: stood-down runs are deleted, not left RUNNING
        finished = Counter(r.data.tags["config_hash"] for r in all_runs if r.info.status == "FINISHED")
        assert len(finished) == 12 and set(finished.values()) == {1}, f"repetition {rep}: {finished}"
        assert all(r.info.lifecycle_stage == "deleted" for r in all_runs if r.info.status != "FINISHED")
