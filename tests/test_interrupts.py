"""Signals, with real processes: a run ends KILLED however many SIGTERMs arrive; Ctrl-C or SIGTERM of a local
multirun or of ``reproduce`` stops it, ends the runs in progress KILLED and prints the summary, exit 130, no
traceback; a tracking store that cannot be used is refused in one line before any work."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adbench_repro import tracking
from adbench_repro.sweep.joblist import write_jobs_file

ROOT = Path(__file__).resolve().parents[1]
# Deep SAD for many epochs: long enough to be interrupted mid-run, and a Python loop that sees signals
SLOW = ["dataset=14_glass", "augmenter=none", "detector=deepsad", "detector.epochs=100000"]
CHEAP = ["augmenter=none", "detector=mlp", "detector.max_iter=5", "detector.hidden_layer_sizes=[8]"]
SENTENCE = {"SIGTERM": "interrupted by SIGTERM (cancelled, preempted or out of time)",
            "SIGINT": "interrupted by SIGINT (Ctrl-C)"}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ADBENCH_")) or k == "ADBENCH_HOME"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _start(tmp: Path, module: str, *args: str) -> subprocess.Popen:
    """``python -m module args`` in its own session (its own process group, as a terminal's job)."""
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=tmp, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _runs(uri: str) -> list:
    client = tracking.client_for(uri)  # under the store's lock: the sweep may be creating its tables
    exp = client.get_experiment_by_name("nng-mix")
    return client.search_runs([exp.experiment_id], max_results=1000) if exp else []


def _wait_running(proc: subprocess.Popen, uri: str, n: int, timeout: float = 240) -> None:
    """Wait until ``n`` slow (Deep SAD) runs are RUNNING in the store."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if sum(r.info.status == "RUNNING" and r.data.tags.get("detector") == "deepsad" for r in _runs(uri)) >= n:
                time.sleep(2)  # into the fit
                return
        except Exception:  # noqa: BLE001 - the store being created
            pass
        time.sleep(0.5)
    proc.kill()
    pytest.fail(f"{n} RUNNING run(s) never appeared:\n{proc.communicate()[0][-3000:]}")


def _group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    os.killpg(pgid, signal.SIGKILL)
    return False


def test_a_run_ends_killed_with_a_sentence_however_many_sigterms_arrive(tmp_path, adbench_root):
    uri = f"sqlite:///{tmp_path}/m.db"
    proc = _start(tmp_path, "adbench_repro.run", *SLOW, f"data.root={adbench_root}", f"mlflow.tracking_uri={uri}",
                  f"hydra.run.dir={tmp_path}/out")
    _wait_running(proc, uri, 1)
    sent = 0
    while proc.poll() is None and sent < 2000:  # a burst: signals keep arriving while the run is being ended
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            break
        sent += 1
        time.sleep(0.005)
    out = proc.communicate(timeout=60)[0]
    assert sent > 1, out
    assert proc.returncode == 130, out
    assert "Traceback" not in out, out
    [run] = _runs(uri)
    assert run.info.status == "KILLED", out
    assert run.data.tags["error"] == SENTENCE["SIGTERM"]


@pytest.mark.slow  # a real two-worker sweep interrupted mid-run, ~40 s
def test_ctrl_c_of_a_local_multirun_kills_the_runs_in_progress_and_prints_the_summary(tmp_path, adbench_root):
    uri = f"sqlite:///{tmp_path}/m.db"
    # two quick runs, then three slow ones on two workers: one is never started
    jobs = write_jobs_file(tmp_path / "jobs.yaml", [[f"dataset={d}", *CHEAP] for d in ("45_wine", "42_WBC")]
                           + [[*SLOW, f"seed={s}"] for s in range(3)])
    args = ["-m", f"hydra.sweeper.jobs_file={jobs}", "hydra.launcher.n_jobs=2", f"data.root={adbench_root}",
            f"mlflow.tracking_uri={uri}", f"hydra.sweep.dir={tmp_path}/sweep"]
    proc = _start(tmp_path, "adbench_repro.run", *args)
    _wait_running(proc, uri, 2)
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the sweep and its workers get SIGINT
    out = proc.communicate(timeout=120)[0]
    print(f"\nthe sweep printed its summary and ended {time.monotonic() - t0:.1f} s after Ctrl-C")
    assert proc.returncode == 130, out
    assert "Traceback" not in out, out
    assert "[sweep] summary: 5 jobs | finished 2 | skipped 0 | failed 0 | killed 2 | left 1" in out, out
    assert f"resume with: python -m adbench_repro.run {' '.join(args)}" in out, out
    assert _group_gone(proc.pid, 30), "a worker outlived the sweep"
    statuses = sorted(r.info.status for r in _runs(uri))
    assert statuses == ["FINISHED", "FINISHED", "KILLED", "KILLED"], out
    assert {r.data.tags["error"] for r in _runs(uri) if r.info.status == "KILLED"} == {SENTENCE["SIGINT"]}


@pytest.mark.slow  # a real study sweep on two workers, terminated mid-run, ~60 s
def test_sigterm_ends_reproduce_and_its_workers_with_the_runs_killed(tmp_path, adbench_root):
    uri = f"sqlite:///{tmp_path}/m.db"
    spec = tmp_path / "slow.yaml"
    spec.write_text("name: slow\ndatasets: [14_glass]\nrows: detector\nsweeps:\n"
                    "  - {label_ratio: [1pct], augmenter: [none], detector: [deepsad], seed: [0, 1, 2]}\n"
                    "columns:\n  - {label: Baseline, match: {augmenter: none}}\n")
    args = [str(spec), "--no-aggregate", "--no-committed", "--jobs", "2", "++detector.epochs=100000",
            f"data.root={adbench_root}", f"mlflow.tracking_uri={uri}", f"hydra.sweep.dir={tmp_path}/sweep"]
    proc = _start(tmp_path, "adbench_repro.reproduce", *args)
    _wait_running(proc, uri, 2)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)  # the parent alone, as `kill <pid>` or a scheduler does
    out = proc.communicate(timeout=120)[0]
    assert _group_gone(proc.pid, 30), "a worker outlived reproduce"
    print(f"\nreproduce and its workers ended {time.monotonic() - t0:.1f} s after SIGTERM")
    assert proc.returncode == 130, out
    assert "Traceback" not in out, out
    assert "[sweep] summary: 3 jobs | finished 0 | skipped 0 | failed 0 | killed 2 | left 1" in out, out
    assert f"resume with: python -m adbench_repro.reproduce {' '.join(args)}" in out, out
    runs = _runs(uri)
    assert sorted(r.info.status for r in runs) == ["KILLED", "KILLED"], out
    assert {r.data.tags["error"] for r in runs} == {SENTENCE["SIGTERM"]}


def test_a_second_signal_exits_at_once():
    code = ("import os, signal, time\n"
            "from adbench_repro import interrupts\n"
            "interrupts.exit_on_next_signal('bye')\n"
            "os.kill(os.getpid(), signal.SIGINT)\n"
            "time.sleep(30)\n")
    out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 130 and out.stderr.strip() == "bye"


def test_signals_while_a_run_is_being_ended_are_held_off():
    code = ("import os, signal, time\n"
            "from adbench_repro import interrupts\n"
            "interrupts.interrupt_on_signals()\n"
            "with interrupts.deferred():\n"
            "    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGTERM):\n"
            "        os.kill(os.getpid(), sig); time.sleep(0.05)\n"
            "    print('ended', interrupts.stopping())\n"
            "try:\n"
            "    os.kill(os.getpid(), signal.SIGUSR2); time.sleep(5)\n"
            "except KeyboardInterrupt as exc:\n"
            "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["ended True", "interrupted by SIGUSR2 (the time limit is near)"], out.stderr


@pytest.mark.parametrize("uri, says", [
    ("http://127.0.0.1:9", "does not answer (connection refused)"),
    ("postgresql://u:secret@127.0.0.1:5432/db", "driver is not installed"),
])
def test_an_unusable_tracking_store_is_refused_in_one_line_before_any_work(tmp_path, adbench_root, uri, says):
    if "postgresql" in uri and importlib.util.find_spec("psycopg"):
        pytest.skip("psycopg is installed here: the missing-driver case cannot be shown")
    for args in (["-m", "dataset=14_glass,45_wine", f"hydra.sweep.dir={tmp_path}/sweep"],
                 ["dataset=14_glass", f"hydra.run.dir={tmp_path}/out"]):
        proc = subprocess.run([sys.executable, "-m", "adbench_repro.run", *args, *CHEAP, f"data.root={adbench_root}"],
                              cwd=tmp_path, env={**_env(), "MLFLOW_TRACKING_URI": uri}, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert proc.stderr.strip().splitlines() == [proc.stderr.strip()], proc.stderr  # one line
        assert proc.stderr.startswith(f"error: tracking store {uri.replace(':secret@', ':***@')} ") and says in proc.stderr
        assert "[sweep]" not in proc.stdout  # refused before the sweep started
