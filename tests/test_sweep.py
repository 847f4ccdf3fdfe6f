"""Sweep building blocks: dataset-family expansion, pool sizing, progress/summary, config composition."""

from __future__ import annotations

import fnmatch
import io
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.utils import JobReturn, JobStatus

from adbench_repro.datasets.catalog import FAMILIES, all_datasets
from adbench_repro.sweep.datasets import expand_dataset_value, rewrite_dataset_override
from adbench_repro.sweep.progress import (FAILED, FINISHED, SKIPPED, JobFailed, JobOutcome, SweepProgress,
                                          format_summary, outcome_of, varying_keys)
from adbench_repro.sweep.workers import pool_size, worker_env

CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")


def _partial_root(tmp_path: Path, adbench_root: Path, classical: list[str]) -> Path:
    """A data root holding links to a few real Classical files only."""
    (tmp_path / "Classical").mkdir()
    for name in classical:
        (tmp_path / "Classical" / f"{name}.npz").symlink_to(adbench_root / "Classical" / f"{name}.npz")
    return tmp_path


def test_family_expands_to_present_datasets_and_warns_missing(tmp_path, adbench_root, caplog):
    present = ["39_vertebral", "14_glass", "45_wine"]
    root = _partial_root(tmp_path, adbench_root, present)
    with caplog.at_level(logging.WARNING, logger="adbench_repro.sweep.datasets"):
        out = rewrite_dataset_override(["seed=0,1", "dataset=classical", "augmenter=none"], root)
    assert out[0] == "seed=0,1" and out[2] == "augmenter=none"
    # catalogue order, only the present files
    expected = [n for n in FAMILIES["classical"] if n in present]
    assert out[1] == "dataset=" + ",".join(expected)
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert "6_cardio" in warning and str(len(FAMILIES["classical"]) - 3) in warning
    assert "39_vertebral" not in warning


def test_family_mixes_with_ids_and_drops_repeats(tmp_path, adbench_root):
    root = _partial_root(tmp_path, adbench_root, ["39_vertebral", "14_glass"])
    ids, missing = expand_dataset_value(["20news_3", "classical", "39_vertebral"], root)
    assert ids == ["20news_3", "14_glass", "39_vertebral"]
    assert set(missing) == {"classical"} and "14_glass" not in missing["classical"]


def test_family_against_real_root(adbench_root):
    ids, missing = expand_dataset_value(["nlp"], adbench_root)
    on_disk = sorted(p.stem for p in (adbench_root / "NLP_by_BERT").glob("*.npz") if p.stem in FAMILIES["nlp"])
    assert sorted(ids) == on_disk and len(ids) + len(missing["nlp"]) == len(FAMILIES["nlp"])


def test_family_with_nothing_present_is_an_error(tmp_path):
    (tmp_path / "Classical").mkdir()
    with pytest.raises(ValueError, match="no dataset of family 'cv'"):
        expand_dataset_value(["cv"], tmp_path)


def test_glob_keeps_hydra_meaning_and_never_yields_a_family(tmp_path):
    out = rewrite_dataset_override(["dataset=glob(*_c*,exclude=10_*)"], tmp_path)  # no file needed for glob
    ids = out[0].removeprefix("dataset=").split(",")
    names = [d.name for d in all_datasets()]
    expected = [n for n in names if fnmatch.fnmatch(n, "*_c*") and not fnmatch.fnmatch(n, "10_*")]
    assert ids == expected and "6_cardio" in ids and "10_cover" not in ids
    out = rewrite_dataset_override(["dataset=glob(c*)"], tmp_path)
    assert "classical" not in out[0] and "cv" not in out[0]


def test_other_overrides_untouched(tmp_path):
    args = ["dataset.name=x", "+dataset=y", "seed=range(3)"]
    assert rewrite_dataset_override(args, tmp_path) == args


@pytest.mark.parametrize("cores,n_jobs,expected", [
    (16, None, (16, 1)), (16, 4, (4, 4)), (16, 3, (3, 5)), (2, 8, (8, 1)), (8, -1, (8, 1)), (8, -2, (7, 1)),
])
def test_pool_size_spreads_cores(cores, n_jobs, expected):
    assert pool_size(n_jobs, None, n_tasks=100, cores=cores) == expected


def test_pool_size_caps_workers_at_tasks_and_checks_threads():
    assert pool_size(None, None, n_tasks=3, cores=16) == (3, 5)
    assert pool_size(4, 2, n_tasks=10, cores=16) == (4, 2)
    with pytest.raises(ValueError, match="threads_per_job"):
        pool_size(4, 0, n_tasks=10, cores=16)
    env = worker_env(3)
    assert env["ADBENCH_THREADS"] == "3" and env["OMP_NUM_THREADS"] == "3"


def _ret(status, value, overrides=("dataset=a", "seed=0")):
    r = JobReturn(overrides=list(overrides), status=status, working_dir="/tmp/j")
    r.return_value = value
    return r


def test_outcome_classification():
    assert outcome_of(0, _ret(JobStatus.COMPLETED, {"status": "finished", "aucroc": 0.75})).status == FINISHED
    assert outcome_of(0, _ret(JobStatus.COMPLETED, {"status": "finished", "aucroc": 0.75})).detail == "aucroc=0.7500"
    assert outcome_of(1, _ret(JobStatus.COMPLETED, {"status": "skipped", "run_id": "x"})).status == SKIPPED
    failed = outcome_of(2, _ret(JobStatus.FAILED, ValueError("bad k\nsecond line")))
    assert failed.status == FAILED and failed.detail == "ValueError: bad k"
    carried = outcome_of(3, _ret(JobStatus.FAILED, JobFailed("DataError: corrupt", "Traceback ...")))
    assert carried.detail == "DataError: corrupt"


def test_progress_eta_and_summary():
    now = [100.0]
    out = io.StringIO()
    p = SweepProgress(total=4, stream=out, clock=lambda: now[0], show_keys={"seed"})
    p.add(JobOutcome(-1, "dataset=a seed=9", SKIPPED, "already FINISHED"), pre_done=True, quiet=True)
    assert p.eta_s() is None  # nothing ran yet: no rate
    now[0] = 110.0
    p.add(JobOutcome(0, "dataset=a seed=0", FINISHED, "aucroc=0.9000"))
    assert p.eta_s() == pytest.approx(20.0)  # 10 s per run, 2 left
    now[0] = 130.0
    p.add(JobOutcome(1, "dataset=a seed=1", FAILED, "ValueError: bad"))
    line = out.getvalue().splitlines()[-1]
    assert "3/4 done" in line and "failed 1" in line and "ETA 0:00:15" in line
    assert line.endswith("#1 failed (ValueError: bad): seed=1")
    summary = p.summary()
    assert "finished 1 | skipped 1 | failed 1 | killed 0 | left 1" in summary
    assert "FAILED #1 dataset=a seed=1: ValueError: bad" in summary
    assert format_summary([], 0.0).startswith("[sweep] summary: 0 jobs")


def test_varying_keys():
    jobs = [["dataset=a", "seed=0", "x=1"], ["dataset=b", "seed=0", "x=1"], ["dataset=a", "seed=0"]]
    assert varying_keys(jobs) == {"dataset", "x"}


@pytest.fixture()
def hydra_conf():
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def test_default_config_uses_adbench_sweeper_and_pool_launcher(hydra_conf):
    cfg = compose("config", return_hydra_config=True)
    assert cfg.hydra.sweeper._target_.endswith("adbench_sweeper.AdbenchSweeper")
    assert cfg.hydra.launcher._target_.endswith("pool_launcher.PoolLauncher")
    assert cfg.hydra.launcher.n_jobs is None and cfg.hydra.launcher.threads_per_job is None


def test_slurm_launcher_composes(hydra_conf):
    cfg = compose("config", overrides=["hydra/launcher=slurm", "hydra.launcher.partition=cpu",
                                       "hydra.launcher.cpus_per_task=8"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_ == "hydra_plugins.adbench_repro_plugins.slurm_launcher.AdbenchSlurmLauncher"
    assert launcher.timeout_min == 240 and launcher.mem_gb == 16 and launcher.array_parallelism == 64
    assert launcher.max_array_size == 1000
    assert launcher.partition == "cpu"
    assert list(launcher.setup) == ["export ADBENCH_THREADS=8", "export OMP_NUM_THREADS=8"]


def test_ray_launcher_composes(hydra_conf):
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="optional extra: pip install -e .[ray]")
    cfg = compose("config", overrides=["hydra/launcher=ray_cluster", "hydra.launcher.ray.init.address=auto",
                                       "hydra.launcher.ray.remote.num_cpus=2"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_ == "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"
    assert launcher.ray.init.address == "auto"
    assert launcher.ray.remote.num_cpus == 2 and launcher.ray.remote.num_gpus == 0


def test_family_name_composes_for_the_parent_but_a_single_run_refuses_it(hydra_conf, tmp_path):
    from adbench_repro.run import run_experiment

    cfg = compose("config", overrides=["dataset=classical", f"mlflow.tracking_uri=sqlite:///{tmp_path}/m.db"])
    assert cfg.dataset.name == "classical"
    with pytest.raises(ValueError, match="dataset family; sweep it with -m"):
        run_experiment(cfg)


def test_plugins_are_discovered():
    from hydra.core.plugins import Plugins
    from hydra.plugins.launcher import Launcher
    from hydra.plugins.sweeper import Sweeper

    assert "PoolLauncher" in [p.__name__ for p in Plugins.instance().discover(Launcher)]
    assert "AdbenchSweeper" in [p.__name__ for p in Plugins.instance().discover(Sweeper)]


# ---------------------------------------------------------------- jobs files
from adbench_repro.sweep.joblist import JobsFileError, combine, read_jobs_file, write_jobs_file  # noqa: E402


def test_jobs_file_round_trip_and_mapping_entries(tmp_path):
    path = write_jobs_file(tmp_path / "jobs.yaml", [["dataset=6_cardio", "seed=0"], ["dataset=14_glass", "seed=1"]])
    assert read_jobs_file(path) == [["dataset=6_cardio", "seed=0"], ["dataset=14_glass", "seed=1"]]
    path.write_text("- {dataset: 6_cardio, multiplier: 10, augmenter.use_nn: false, x: null}\n")
    assert read_jobs_file(path) == [["dataset=6_cardio", "multiplier=10", "augmenter.use_nn=false", "x=null"]]


@pytest.mark.parametrize("text, message", [
    ("dataset: 6_cardio\n", "a YAML list of jobs"),
    ("- [dataset]\n", "job 0 must be a list of 'key=value'"),
    ("- [seed=0]\n- [seed=1, seed=2]\n", "job 1 sets seed more than once"),
    ("- {dataset: [a, b]}\n", "value of 'dataset' must be a scalar"),
    ("- [a=1\n", "cannot read"),
])
def test_bad_jobs_file_names_the_file(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(JobsFileError, match=message) as err:
        read_jobs_file(path)
    assert str(path) in str(err.value)


def test_missing_jobs_file_names_the_setting(tmp_path):
    with pytest.raises(JobsFileError, match=r"hydra.sweeper.jobs_file: .*nope.yaml does not exist"):
        read_jobs_file(tmp_path / "nope.yaml")


def test_combine_multiplies_by_command_line_jobs_and_refuses_clashes():
    file_jobs = [["dataset=a"], ["dataset=b"]]
    assert combine(file_jobs, [["seed=0"], ["seed=1"]]) == [
        ["dataset=a", "seed=0"], ["dataset=a", "seed=1"], ["dataset=b", "seed=0"], ["dataset=b", "seed=1"]]
    assert combine(file_jobs, []) == file_jobs
    with pytest.raises(JobsFileError, match="f.yaml: job 0 sets dataset, which the command line also sets"):
        combine(file_jobs, [["+dataset=c"]], "f.yaml")


# ---------------------------------------------------------------- parent watchdog
_CHILD = """
import os, sys, time
from adbench_repro.interrupts import busy
from adbench_repro.sweep.workers import watch_parent
watch_parent(interval_s=0.1, grace_s=5)
if sys.argv[2] == "busy":
    busy().__enter__()
try:
    time.sleep(60)
except KeyboardInterrupt:
    open(sys.argv[1], "w").write("interrupted")
    time.sleep(60)  # the watchdog ends the process after its grace period
"""
_PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2], sys.argv[3]])
print(child.pid, flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    from adbench_repro.lease import _pid_alive

    return _pid_alive(pid)


@pytest.mark.skipif(sys.platform != "linux", reason="uses /proc to see zombies")
@pytest.mark.parametrize("state", ["idle", "busy"])
def test_worker_ends_when_its_parent_is_killed(tmp_path, state):
    marker = tmp_path / "marker"
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, _CHILD, str(marker), state], stdout=subprocess.PIPE,
                              text=True)
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # the child has started its watchdog
    assert _alive(child)
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.monotonic() + 15
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive
    # an idle worker just exits; a busy one first has its job interrupted (its run ends KILLED)
    assert marker.exists() is (state == "busy")


def test_the_pool_launcher_hydra_loads_reports_each_job_itself():
    # Hydra's plugin scan re-executes plugin modules: the sweeper must recognise the launcher class it gets
    from hydra.core.plugins import Plugins
    from hydra.plugins.launcher import Launcher

    from adbench_repro.sweep.progress import ReportsProgress

    Plugins.instance().discover(Launcher)
    launcher = next(p for p in Plugins.instance().discover(Launcher) if p.__name__ == "PoolLauncher")
    assert isinstance(launcher(), ReportsProgress)
