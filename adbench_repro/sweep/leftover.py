"""What is left of a sweep: its jobs' config hashes, those already FINISHED in the store (not submitted),
and the configurations skipped as "being run elsewhere" that are still not FINISHED when it ends."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Sequence

from omegaconf import OmegaConf

from .. import CONF_DIR, lease, tracking
from ..confighash import config_hash
from ..overrides import override_key

#: hydra.sweeper.on_elsewhere values: wait for those runs to end, fail (exit 1) at once, or ignore them
ELSEWHERE_MODES = ("wait", "fail", "ignore")


def job_hashes(compose: Callable[[list[str]], object], jobs: Sequence[Sequence[str]],
               conf_dir: str | Path = CONF_DIR) -> list[str]:
    """The config hash of each job (a list of overrides), as its run will compute it.

    ``compose(overrides)`` returns the job's config. Jobs that differ only in ``dataset=<id>`` and ``seed=``
    are composed once: the dataset node is read from ``conf/dataset/<id>.yaml`` and the seed set, as
    :func:`adbench_repro.aggregate.expected.config_hashes` does (thousands of jobs in seconds)."""
    conf_dir = Path(conf_dir)
    groups: dict[tuple, object] = {}
    datasets: dict[str, object] = {}
    out = []
    for job in jobs:
        rest = tuple(t for t in job if override_key(t) not in ("dataset", "seed"))
        ds = next((t.partition("=")[2] for t in job if override_key(t) == "dataset" and t.startswith("dataset=")), None)
        seed = next((t.partition("=")[2] for t in job if t.startswith("seed=")), None)
        path = conf_dir / "dataset" / f"{ds}.yaml" if ds else None
        if path is None or not path.is_file() or (seed is not None and not seed.lstrip("-").isdigit()):
            out.append(config_hash(compose(list(job))))
            continue
        key = (rest, seed is None)
        if key not in groups:
            base = compose(list(job))
            OmegaConf.set_struct(base, False)
            groups[key] = base
        base = groups[key]
        if ds not in datasets:
            datasets[ds] = OmegaConf.load(path)
        base.dataset = datasets[ds]
        if seed is not None:
            base.seed = int(seed)
        out.append(config_hash(base))
    return out


def run_state(client, run_id: str, stale_s: float) -> str:
    """``FINISHED``, ``RUNNING`` (alive by the lease's rule) or why the run will not finish."""
    try:
        run = tracking.with_retries(client.get_run, run_id)
    except Exception as exc:  # noqa: BLE001 - a deleted or unknown run
        return f"unreadable ({exc.__class__.__name__})"
    if run.info.status != "RUNNING":
        return run.info.status
    why = lease.why_dead(lease.claim_of(run, time.time()), time.time(), stale_s)
    return "RUNNING" if why is None else f"lost: {why}"


def unfinished_elsewhere(client, skipped: dict[str, str], stale_s: float, mode: str = "wait",
                         poll_s: float = 10.0, emit: Callable[[str], None] = print) -> dict[str, str]:
    """Of ``skipped`` (``{run_id: job description}``, configurations skipped as "being run elsewhere"), those
    whose run is not FINISHED: ``{description: state}``. ``mode="wait"`` first waits while any is RUNNING."""
    if mode not in ELSEWHERE_MODES:
        raise ValueError(f"hydra.sweeper.on_elsewhere must be one of {', '.join(ELSEWHERE_MODES)}, got {mode!r}")
    if mode == "ignore" or not skipped:
        return {}
    told = False
    while True:
        states = {rid: run_state(client, rid, stale_s) for rid in skipped}
        running = [rid for rid, s in states.items() if s == "RUNNING"]
        if mode != "wait" or not running:
            break
        if not told:
            emit(f"[sweep] waiting for {len(running)} configuration(s) being run elsewhere "
                 "(hydra.sweeper.on_elsewhere=fail does not wait)")
            told = True
        time.sleep(poll_s)
    return {skipped[rid]: s for rid, s in states.items() if s != "FINISHED"}
