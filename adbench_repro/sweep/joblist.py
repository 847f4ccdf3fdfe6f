"""Job-list files: a sweep given as an explicit list of configurations instead of a cartesian product.

A paper study is a union of products (Table I: the baseline without a multiplier plus seven
augmenters at 10x), which one Hydra override line cannot express. ``python -m adbench_repro.reproduce``
therefore writes the configurations still to run into a YAML file and starts ONE multirun with
``hydra.sweeper.jobs_file=<file>``: one worker pool, one start-up, the whole study load-balanced.
The file is a list with one entry per job, each a list of Hydra overrides or a mapping::

    # jobs file
    - [dataset=6_cardio, label_ratio=1pct, augmenter=none, detector=mlp, seed=0]
    - {dataset: 6_cardio, label_ratio: 1pct, augmenter: nng_mix, multiplier: 10, detector: mlp, seed: 0}

Overrides given on the command line apply to every job (a comma list there multiplies the jobs);
a key set both in the file and on the command line is an error, since either could be meant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..plan import override_key


class JobsFileError(ValueError):
    """A jobs file that cannot be read or whose entries are not override lists."""


def _entry_overrides(entry: Any, path: Path, i: int) -> list[str]:
    if isinstance(entry, dict):
        out = []
        for k, v in entry.items():
            if isinstance(v, (list, dict)):
                raise JobsFileError(f"{path}: job {i}: value of {k!r} must be a scalar, got {type(v).__name__}")
            out.append(f"{k}={'null' if v is None else str(v).lower() if isinstance(v, bool) else v}")
        return out
    if isinstance(entry, list) and all(isinstance(t, str) and "=" in t for t in entry):
        return list(entry)
    raise JobsFileError(f"{path}: job {i} must be a list of 'key=value' overrides or a mapping, got {entry!r}")


def read_jobs_file(path: str | Path) -> list[list[str]]:
    """The jobs of a jobs file, each a list of Hydra overrides; clear errors name the file and entry."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise JobsFileError(f"hydra.sweeper.jobs_file: {path} does not exist") from None
    except (OSError, yaml.YAMLError) as exc:
        raise JobsFileError(f"hydra.sweeper.jobs_file: cannot read {path}: {exc}") from None
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise JobsFileError(f"{path}: a jobs file is a YAML list of jobs, got {type(raw).__name__}")
    jobs = [_entry_overrides(entry, path, i) for i, entry in enumerate(raw)]
    for i, job in enumerate(jobs):
        keys = [override_key(t) for t in job]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise JobsFileError(f"{path}: job {i} sets {', '.join(dup)} more than once")
    return jobs


def write_jobs_file(path: str | Path, jobs: list[list[str]]) -> Path:
    """Write ``jobs`` (lists of overrides) as a jobs file; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# one job per entry: Hydra overrides (adbench_repro.sweep.joblist)\n"
                    + yaml.safe_dump([list(j) for j in jobs], default_flow_style=None, width=1000))
    return path


def combine(file_jobs: list[list[str]], cli_jobs: list[list[str]], path: str | Path = "jobs file") -> list[list[str]]:
    """Every file job with every command-line job appended (file jobs outer, in file order).

    A key present in both is an error: the command line must not silently replace a study's setting.
    """
    out = []
    for i, fj in enumerate(file_jobs):
        fkeys = {override_key(t) for t in fj}
        for cj in cli_jobs or [[]]:
            clash = sorted(fkeys & {override_key(t) for t in cj})
            if clash:
                raise JobsFileError(f"{path}: job {i} sets {', '.join(clash)}, which the command line also "
                                    f"sets; remove it from one of them")
            out.append([*fj, *cj])
    return out
