"""One run per configuration in a sweep whose jobs are composed in the workers.

When the pool launcher composes each job in its worker (the default: composing is ~50 ms per job and
is then spread over the workers and overlapped with running), the sweep's parent does not know the
config hashes before launching. Repeated configurations (e.g. ``augmenter=none`` under several
multipliers) are then caught by a claim: the first job to reach a config hash creates
``<claims dir>/<hash>`` atomically (``O_EXCL``, which also works on a shared file system across SLURM
nodes) and runs; any later job with that hash is skipped. The sweeper picks a fresh claims dir per
sweep and hands it to the jobs in ``ADBENCH_SWEEP_CLAIMS``, so a restarted sweep never sees stale
claims of a killed one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

ENV_VAR = "ADBENCH_SWEEP_CLAIMS"


def new_claims_dir(sweep_dir: str | Path) -> Path:
    """A fresh, empty claims folder under ``sweep_dir`` for one sweep invocation."""
    path = Path(sweep_dir) / ".claims" / uuid.uuid4().hex
    path.mkdir(parents=True)
    return path


def claim(config_hash: str, holder: str = "") -> tuple[bool, str] | None:
    """Claim ``config_hash`` for this job; ``(True, "")`` if claimed, ``(False, holder)`` if another job
    of the sweep already holds it, None when no claims dir is set (not in such a sweep)."""
    root = os.environ.get(ENV_VAR)
    if not root:
        return None
    path = Path(root) / config_hash
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        try:
            return False, path.read_text().strip()
        except OSError:
            return False, ""
    except FileNotFoundError:
        raise FileNotFoundError(f"{ENV_VAR}={root}: the sweep's claims folder does not exist") from None
    with os.fdopen(fd, "w") as f:
        f.write(holder)
    return True, ""
