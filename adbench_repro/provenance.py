"""Where a result came from: git commit, package version and the sweep that made it."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from . import __version__

PACKAGE_DIR = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """``git describe --always --dirty`` of the checkout holding this package, or ``unknown``."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=10, check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_version() -> str:
    return __version__


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo), for benchmark records."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


SWEEP_ID_ENV = "ADBENCH_SWEEP_ID"


def new_sweep_id(sweep_dir: str) -> str:
    """A sweep id unique across machines and sweeps started in the same second: the absolute sweep dir
    plus a random suffix. The sweeper puts it in :data:`SWEEP_ID_ENV`, inherited by every job's process
    (pool workers, joblib, SLURM tasks through sbatch's exported environment)."""
    import uuid

    return f"{os.path.abspath(sweep_dir)}#{uuid.uuid4().hex[:8]}"


def current_sweep_id(sweep_dir: str = "") -> str:
    """The sweep id of this job: :data:`SWEEP_ID_ENV`, else ``sweep_dir`` (a sweep started elsewhere)."""
    return os.environ.get(SWEEP_ID_ENV) or sweep_dir
