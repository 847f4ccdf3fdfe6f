"""The lab-scale sweep path without a cluster: SLURM arrays within MaxArraySize, lost tasks as failed jobs,
configurations left out when FINISHED, "being run elsewhere" at the end, unique sweep ids, signals."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from adbench_repro import lease, tracking
from adbench_repro.confighash import config_hash
from adbench_repro.sweep import leftover
from adbench_repro.sweep.progress import FAILED, FINISHED, KILLED, SweepProgress, outcome_of

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = str(ROOT / "conf")
CHEAP_MLP = ["augmenter=none", "detector=mlp", "detector.max_iter=5", "detector.hidden_layer_sizes=[8]"]


def _env() -> dict[str, str]:
    """This checkout's code in subprocesses (also when the venv's editable install points elsewhere)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLFLOW_TRACKING_URI", "ADBENCH_DATA", "ADBENCH_THREADS", "ADBENCH_SWEEP_ID")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _run(tmp: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adbench_repro.run", *args], cwd=tmp, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------- arrays and lost tasks
slurm_launcher = pytest.importorskip("hydra_plugins.adbench_repro_plugins.slurm_launcher")


def test_arrays_stay_within_max_array_size():
    chunks = slurm_launcher.array_chunks(1720, 1000)
    assert [(r.start, r.stop) for r in chunks] == [(0, 1000), (1000, 1720)]
    assert sum(len(r) for r in slurm_launcher.array_chunks(7, 3)) == 7
    plan = slurm_launcher.array_plan(1720, 1000, 64)
    assert plan[1] == "array 2/2: jobs #1000-#1719 (sbatch --array=0-719%64: 720 tasks, at most 64 at once)"
    assert slurm_launcher.array_plan(1, 1000, 64) == ["job 1/1: job #0 (sbatch: a plain job, 1 task)"]  # as submitit does
    with pytest.raises(ValueError, match="max_array_size must be >= 1"):
        slurm_launcher.array_chunks(3, 0)
    if hasattr(slurm_launcher, "AdbenchSlurmLauncher"):
        with pytest.raises(ValueError, match=r"timeout_min=1 \(60 s\) must exceed hydra.launcher.signal_delay_s=120"):
            slurm_launcher.AdbenchSlurmLauncher(timeout_min=1, signal_delay_s=120, submitit_folder="x")


class _Watcher:
    """submitit's watcher of a sweep's jobs: ``update()`` is one sacct call for all of them."""

    def __init__(self, states: dict[str, list[str]]):
        self.states, self.sacct_calls = states, 0

    def update(self):
        self.sacct_calls += 1

    def get_state(self, job_id, mode="standard"):
        seq = self.states[job_id]
        return seq[min(self.sacct_calls, len(seq)) - 1] if self.sacct_calls else "UNKNOWN"

    def is_done(self, job_id, mode="standard"):
        return self.get_state(job_id).split()[0] not in ("PENDING", "RUNNING", "UNKNOWN")


class _Job:
    """What the launcher reads of a submitit job: job_id, watcher, paths (log, result file), results()."""

    def __init__(self, job_id, watcher, result=None):
        self.job_id, self.watcher, self._result = job_id, watcher, result
        has_result = lambda: result is not None and watcher.get_state(job_id) == "COMPLETED"  # noqa: E731
        self.paths = SimpleNamespace(stdout=Path(f"/sweep/.submitit/{job_id}/{job_id}_0_log.out"),
                                     result_pickle=SimpleNamespace(exists=has_result))

    def results(self):  # submitit waits 15 s here for a result file that a lost task never writes
        assert self.paths.result_pickle.exists(), f"results() of {self.job_id}, which has no result, would wait 15 s"
        return [self._result]


def _ok():
    from hydra.core.utils import JobReturn, JobStatus

    ok = JobReturn(overrides=["dataset=14_glass", "seed=0"], status=JobStatus.COMPLETED)
    ok.return_value = {"status": "finished", "run_id": "r", "aucroc": 0.9, "aucpr": 0.5}
    return ok


OVERRIDES = [["dataset=6_cardio", "seed=0"], ["dataset=14_glass", "seed=0"], ["dataset=42_WBC", "seed=0"]]


def test_lost_tasks_are_failed_jobs_at_once_from_one_sacct_per_poll_not_tracebacks():
    pytest.importorskip("submitit")
    watcher = _Watcher({"43_0": ["CANCELLED by 0"], "43_1": ["RUNNING", "RUNNING", "COMPLETED"],
                        "43_2": ["PENDING", "TIMEOUT"]})
    jobs = [_Job("43_0", watcher), _Job("43_1", watcher, _ok()), _Job("43_2", watcher)]
    launcher = slurm_launcher.AdbenchSlurmLauncher(poll_s=0, submitit_folder="/sweep/.submitit/%j")
    launcher.progress = progress = SweepProgress(total=3, stream=open(os.devnull, "w"))
    results = launcher._collect(jobs, OVERRIDES, 0)
    assert watcher.sacct_calls == 3  # one per poll for all the tasks, however many
    outcomes = {o.index: o for o in progress.outcomes}
    assert [outcomes[i].status for i in range(3)] == [FAILED, FINISHED, FAILED]
    assert outcomes[0].detail == "SLURM task 43_0 CANCELLED by 0: it produced no result (see its log)"
    assert outcomes[0].working_dir == "/sweep/.submitit/43_0"
    assert outcomes[2].detail.startswith("SLURM task 43_2 TIMEOUT")
    assert [outcome_of(i, r).status for i, r in enumerate(results)] == [FAILED, FINISHED, FAILED]
    summary = progress.summary()
    assert "FAILED #0 dataset=6_cardio seed=0: SLURM task 43_0 CANCELLED" in summary
    assert "(log in /sweep/.submitit/43_0/)" in summary
    assert launcher.__getstate__()["progress"] is None


def test_an_interrupted_slurm_sweep_cancels_its_arrays_at_once_and_reports_running_tasks_killed(monkeypatch):
    pytest.importorskip("submitit")
    watcher = _Watcher({"7_0": ["RUNNING"], "7_1": ["PENDING"], "8": ["COMPLETED"]})
    watcher.update()
    jobs = [_Job("7_0", watcher), _Job("7_1", watcher), _Job("8", watcher, _ok())]
    calls = []
    monkeypatch.setattr(slurm_launcher.subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(slurm_launcher.interrupts, "exit_on_next_signal", lambda *a, **k: None)
    launcher = slurm_launcher.AdbenchSlurmLauncher(poll_s=0, submitit_folder="/sweep/.submitit/%j")
    launcher.progress = progress = SweepProgress(total=3, stream=open(os.devnull, "w"))
    launcher._cancel(jobs, OVERRIDES, 0, report=True)
    assert calls == [["scancel", "7", "8"]]  # one scancel for every array, not one per task
    assert [(o.index, o.status) for o in progress.outcomes] == [(0, KILLED), (2, FINISHED)]
    assert "killed 1 | left 1" in progress.summary()


def test_sbatch_refusals_name_the_setting_to_change():
    refusal = slurm_launcher.refusal
    err = ("Job submission failed\nsbatch: error: CPU count per node can not be satisfied\n"
           "sbatch: error: Batch job submission failed: Requested node configuration is not available")
    assert refusal(err, {"cpus_per_task": 4, "mem_gb": 16}) == (
        "SLURM refused the sweep's job: CPU count per node can not be satisfied; Batch job submission failed: "
        "Requested node configuration is not available: lower hydra.launcher.cpus_per_task (now 4) to the CPUs "
        "of a node (sinfo -o %c)")
    assert refusal("sbatch: error: Batch job submission failed: Invalid job array specification",
                   {"max_array_size": 1500}).endswith(
        "set hydra.launcher.max_array_size (now 1500) below the cluster's MaxArraySize (scontrol show config | "
        "grep MaxArraySize)")


def test_tasks_slurm_will_never_start_are_a_one_line_error_not_an_endless_wait(monkeypatch):
    pytest.importorskip("submitit")
    from adbench_repro.validate import ConfigError

    watcher = _Watcher({"9_0": ["PENDING"], "9_1": ["PENDING"]})
    jobs = [_Job("9_0", watcher), _Job("9_1", watcher)]
    asked = []
    monkeypatch.setattr(slurm_launcher.subprocess, "run", lambda cmd, **kw: asked.append(cmd) or SimpleNamespace(
        stdout="PartitionConfig\nPartitionConfig\n"))  # squeue's reason: more CPUs per task than a node has
    launcher = slurm_launcher.AdbenchSlurmLauncher(poll_s=0, submitit_folder="/sweep/.submitit/%j", cpus_per_task=4)
    with pytest.raises(ConfigError, match=r"SLURM refused the sweep's job: its tasks stay PENDING \(PartitionConfig\): "
                                          r"lower hydra.launcher.cpus_per_task \(now 4\)"):
        launcher._collect(jobs, OVERRIDES[:2], 0)
    assert asked == [["squeue", "-h", "-o", "%r", "-j", "9"]]  # one squeue for the array


def test_dry_run_of_a_slurm_sweep_shows_its_arrays_and_submits_nothing(tmp_path, adbench_root):
    pytest.importorskip("submitit")
    proc = _run(tmp_path, "-m", "hydra/launcher=slurm", "hydra.sweeper.dry_run=true",
                "hydra.launcher.max_array_size=3", "hydra.launcher.array_parallelism=2",
                f"mlflow.tracking_uri=sqlite:///{tmp_path}/m.db", f"data.root={adbench_root}",
                f"hydra.sweep.dir={tmp_path}/sweep", "dataset=14_glass,42_WBC,39_vertebral,45_wine", "seed=0,1",
                *CHEAP_MLP)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "0 of 8 job(s) already FINISHED" in out
    assert "would submit array 1/3: jobs #0-#2 (sbatch --array=0-2%2: 3 tasks, at most 2 at once)" in out
    assert "would submit array 3/3: jobs #6-#7 (sbatch --array=0-1%2: 2 tasks, at most 2 at once)" in out
    assert not (tmp_path / "sweep" / ".submitit").exists()


@pytest.mark.slow
def test_table_one_in_one_line_is_cut_into_arrays_slurm_accepts(tmp_path, adbench_root):
    pytest.importorskip("submitit")
    proc = _run(tmp_path, "-m", "hydra/launcher=slurm", "hydra.sweeper.dry_run=true",
                f"mlflow.tracking_uri=sqlite:///{tmp_path}/m.db", f"data.root={adbench_root}",
                f"hydra.sweep.dir={tmp_path}/sweep", "dataset=classical", "label_ratio=1pct",
                "augmenter=none,npos,rosas,mixup,cutout,cutmix,gaussian_noise,nng_mix", "multiplier=10",
                "detector=deepsad,xgbod,mlp,fttransformer,catboost", "seed=0", timeout=900)
    assert proc.returncode == 0, proc.stderr
    n = sum(1 for line in proc.stdout.splitlines() if line.startswith("[sweep] would run:"))
    arrays = [line for line in proc.stdout.splitlines() if line.startswith("[sweep] would submit array")]
    assert len(arrays) == -(-n // 1000) and all("%64" in a for a in arrays)
    assert all(int(a.split("--array=0-")[1].split("%")[0]) < 1000 for a in arrays)  # below MaxArraySize 1001


# ---------------------------------------------------------------- what is left
@pytest.fixture()
def hydra_conf():
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        yield lambda ov: compose("config", overrides=list(ov))
    GlobalHydra.instance().clear()


def job_hashes(hydra_conf, jobs):
    """The sweeper's plan of its jobs (:func:`plan.compose` with the sweep's own composer)."""
    from adbench_repro import plan

    return [p.config_hash for p in plan.compose(jobs, composer=hydra_conf)]


def test_job_hashes_match_a_full_composition_of_each_job(hydra_conf):
    jobs = [["dataset=14_glass", "augmenter=nng_mix", "detector=mlp", "seed=0"],
            ["dataset=42_WBC", "augmenter=nng_mix", "detector=mlp", "seed=3"],
            ["dataset=42_WBC", "augmenter=nng_mix", "detector=mlp"],
            ["dataset=14_glass", "augmenter=none", "detector=deepsad", "multiplier=5", "seed=1"]]
    assert job_hashes(hydra_conf, jobs) == [config_hash(hydra_conf(j)) for j in jobs]


def test_committed_runs_are_found_by_the_hashes_of_their_jobs(hydra_conf):
    """The sweeper's hashes of Table I's jobs on two datasets find their committed runs."""
    from adbench_repro import store
    from adbench_repro.studies import expand, load_study, to_override_list

    configs = [c for c in expand(load_study("table1"), datasets=["14_glass", "45_wine"], seeds=[0])
               if c["detector"] != "fttransformer"]
    hashes = job_hashes(hydra_conf, [to_override_list(c) for c in configs])
    committed = store.read()
    committed = committed[committed["tags.config_hash"].isin(hashes)]
    assert len(committed) == len(set(hashes)) > 50
    for h, c in zip(hashes, configs):
        row = committed[committed["tags.config_hash"] == h].iloc[0]
        assert (row["tags.dataset"], row["tags.detector"], row["tags.augmenter"]) == (
            c["dataset"], c["detector"], c["augmenter"])


def _live_run(client, exp, config_hash: str, pid: int) -> str:
    tags = {"config_hash": config_hash, lease.OWNER: f"{lease.socket.gethostname()}:{pid}",
            lease.NODE: lease.node_id(), lease.HEARTBEAT: f"{time.time():.3f}"}
    return client.create_run(exp, tags=tags).info.run_id


def test_configurations_being_run_elsewhere_are_waited_for_or_reported(tmp_path):
    client = tracking.client_for(f"sqlite:///{tmp_path}/m.db")
    exp = tracking.ensure_experiment(client, "nng-mix")
    alive = _live_run(client, exp, "h1", os.getpid())
    dead_proc = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_proc.wait()
    lost = _live_run(client, exp, "h2", dead_proc.pid)
    skipped = {alive: "dataset=a", lost: "dataset=b"}
    left = leftover.unfinished_elsewhere(client, skipped, 300, "fail")
    assert left["dataset=a"] == "RUNNING" and left["dataset=b"].startswith("lost: owner process")
    assert leftover.unfinished_elsewhere(client, skipped, 300, "ignore") == {}
    threading.Timer(1.0, client.set_terminated, (alive, "FINISHED")).start()
    said = []
    left = leftover.unfinished_elsewhere(client, skipped, 300, "wait", poll_s=0.2, emit=said.append)
    assert list(left) == ["dataset=b"] and "waiting for 1 configuration(s)" in said[0]
    with pytest.raises(ValueError, match="on_elsewhere must be one of wait, fail, ignore"):
        leftover.unfinished_elsewhere(client, skipped, 300, "later")


@pytest.mark.slow  # ~27 s
def test_a_rerun_launches_only_what_is_left_and_each_sweep_has_its_own_id(tmp_path, adbench_root):
    uri = f"sqlite:///{tmp_path}/m.db"
    args = ["-m", "hydra.sweeper.skip_finished=true", "hydra.launcher.n_jobs=1", f"mlflow.tracking_uri={uri}",
            f"data.root={adbench_root}", f"hydra.sweep.dir={tmp_path}/sweep", *CHEAP_MLP]
    first = _run(tmp_path, *args, "dataset=14_glass,42_WBC", "seed=0")
    assert first.returncode == 0, first.stderr
    again = _run(tmp_path, *args, "dataset=14_glass,42_WBC,39_vertebral", "seed=0")
    assert again.returncode == 0, again.stderr
    assert "2 of 3 job(s) already FINISHED" in again.stdout and "1 to launch" in again.stdout
    assert "skipped 2 | failed 0" in again.stdout and "2 already FINISHED (not launched)" in again.stdout
    runs = tracking.client_for(uri).search_runs([tracking.ensure_experiment(tracking.client_for(uri), "nng-mix")])
    assert sorted(r.info.status for r in runs) == ["FINISHED"] * 3
    ids = {r.data.tags["sweep_id"] for r in runs}  # same sweep dir, two sweeps: two ids
    assert len(ids) == 2 and all(i.startswith(f"{tmp_path}/sweep#") for i in ids)


def test_a_stale_time_under_three_heartbeats_is_refused_in_one_line(tmp_path, adbench_root):
    common = [f"mlflow.tracking_uri=sqlite:///{tmp_path}/m.db", f"data.root={adbench_root}", "mlflow.lease_stale_s=30"]
    for args in (["-m", f"hydra.sweep.dir={tmp_path}/sweep", "seed=0,1", *common],
                 [f"hydra.run.dir={tmp_path}/out", *common]):
        proc = _run(tmp_path, *args, *CHEAP_MLP)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.strip()]
        assert errors == ["error: mlflow.lease_stale_s=30 must be at least 3 heartbeats (3 x "
                          "mlflow.lease_heartbeat_s=30 = 90 s): raise lease_stale_s or lower lease_heartbeat_s"]


def test_sigterm_and_sigusr2_end_the_run_in_a_job_process_as_an_interrupt():
    code = ("import os, signal, sys, time\n"
            "from adbench_repro.interrupts import interrupt_on_signals\n"
            "interrupt_on_signals()\n"
            "try:\n"
            "    os.kill(os.getpid(), getattr(signal, sys.argv[1])); time.sleep(5); print('not interrupted')\n"
            "except KeyboardInterrupt as exc:\n"
            "    print(exc)\n")
    said = [subprocess.run([sys.executable, "-c", code, sig], env=_env(), capture_output=True, text=True,
                           timeout=60).stdout.strip() for sig in ("SIGTERM", "SIGUSR2")]
    assert said == ["interrupted by SIGTERM (cancelled, preempted or out of time)",
                    "interrupted by SIGUSR2 (the time limit is near)"]
