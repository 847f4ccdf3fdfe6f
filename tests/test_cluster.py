"""End to end on a real single-node SLURM and a PostgreSQL-backed ``mlflow server`` (scripts/local_cluster.sh):
a sweep through ``hydra/launcher=slurm``, one task cancelled mid-run, a summary naming it, a rerun.

Slow and needs root and Debian's slurm-wlm, slurmdbd, munge, mariadb-server and postgresql
(``sudo scripts/local_cluster.sh install``); skipped with the reason where the cluster cannot start.
Run with ``make test-cluster``. The services it started are stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "local_cluster.sh"
CLUSTER_DIR = os.environ.get("CLUSTER_DIR", "/tmp/adbench-cluster")
URI = f"http://127.0.0.1:{os.environ.get('MLFLOW_PORT', '5055')}"
SLOW = "22_magic.gamma"  # Deep SAD with many epochs: long enough to be cancelled mid-run


def _cluster_running() -> bool:
    try:
        return subprocess.run([str(SCRIPT), "status"], capture_output=True, text=True, timeout=30,
                              env={**os.environ, "CLUSTER_DIR": CLUSTER_DIR}).stdout.count("idle") > 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0:
        pytest.skip("the local SLURM cluster needs root (scripts/local_cluster.sh up)")
    if shutil.which("slurmctld") is None or shutil.which("pg_ctlcluster") is None:
        pytest.skip("slurm-wlm/postgresql not installed: sudo scripts/local_cluster.sh install")
    pytest.importorskip("submitit", reason="the slurm extra is not installed: pip install -e '.[slurm,server]'")
    pytest.importorskip("psycopg2", reason="the server extra is not installed: pip install -e '.[server]'")
    was_up = _cluster_running()
    env = {**os.environ, "CLUSTER_DIR": CLUSTER_DIR, "PYTHON": sys.executable}
    up = subprocess.run([str(SCRIPT), "up"], capture_output=True, text=True, timeout=600, env=env)
    if up.returncode != 0:
        pytest.skip(f"SLURM could not start here: {(up.stderr or up.stdout).strip().splitlines()[-1:]}")
    yield {**os.environ, "SLURM_CONF": f"{CLUSTER_DIR}/slurm.conf", "MLFLOW_TRACKING_URI": URI}
    if not was_up:
        subprocess.run([str(SCRIPT), "down"], capture_output=True, timeout=120, env=env)


def _sweep(env, tmp: Path, name: str, experiment: str, jobs: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "adbench_repro.run", "-m", "hydra/launcher=slurm",
           "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1", "hydra.launcher.timeout_min=15",
           "hydra.launcher.poll_s=2", f"hydra.sweep.dir={tmp / name}", f"hydra.sweeper.jobs_file={jobs}",
           f"mlflow.experiment_name={experiment}"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_cancelled_task_is_named_in_the_summary_and_a_rerun_finishes_each_configuration_once(cluster, tmp_path):
    from mlflow.tracking import MlflowClient

    experiment = f"e2e-{uuid.uuid4().hex[:8]}"
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text("- [dataset=14_glass, augmenter=none, detector=mlp, seed=0]\n"
                    "- [dataset=42_WBC, augmenter=none, detector=mlp, seed=0]\n"
                    f"- [dataset={SLOW}, augmenter=none, detector=deepsad, detector.epochs=2000, seed=0]\n")
    client = MlflowClient(URI)

    first = _sweep(cluster, tmp_path, "first", experiment, jobs)
    slurm_job, deadline = None, time.time() + 300
    while slurm_job is None and time.time() < deadline and first.poll() is None:
        exp = client.get_experiment_by_name(experiment)
        runs = client.search_runs([exp.experiment_id], f"tags.dataset = '{SLOW}' and attributes.status = 'RUNNING'") \
            if exp else []
        slurm_job = runs[0].data.tags.get("lease.slurm_job") if runs else None
        time.sleep(1)
    assert slurm_job, "the slow run never appeared RUNNING with its SLURM job in the store"
    subprocess.run(["scancel", slurm_job], env=cluster, check=True)
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 1, out
    assert "Traceback" not in out, out
    summary = out[out.index("[sweep] summary"):]
    assert f"FAILED #2 dataset={SLOW}" in summary and f"SLURM task {slurm_job} CANCELLED" in summary, out
    assert "finished 2 | skipped 0 | failed 1" in summary, out

    exp_id = client.get_experiment_by_name(experiment).experiment_id
    cancelled = client.search_runs([exp_id], f"tags.dataset = '{SLOW}'")
    assert [r.info.status for r in cancelled] == ["KILLED"]
    assert "SIGTERM" in cancelled[0].data.tags["error"]

    second = _sweep(cluster, tmp_path, "second", experiment, jobs)
    out, _ = second.communicate(timeout=600)
    assert second.returncode == 0, out
    assert "2 of 3 job(s) already FINISHED" in out and "1 to launch" in out, out

    runs = client.search_runs([exp_id], max_results=100)
    finished = [r.data.tags["config_hash"] for r in runs if r.info.status == "FINISHED"]
    assert len(finished) == 3 and len(set(finished)) == 3
    assert client.get_run(cancelled[0].info.run_id).info.status == "KILLED"
    assert len({r.data.tags["sweep_id"] for r in runs}) == 2  # one per sweep, never shared

    third = _sweep(cluster, tmp_path, "third", experiment, jobs)
    out, _ = third.communicate(timeout=120)
    assert third.returncode == 0 and "3 of 3 job(s) already FINISHED" in out and "0 to launch" in out, out
    assert "submitted" not in out, out  # nothing went to SLURM
