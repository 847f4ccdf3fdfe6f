"""What is left of a sweep: the configurations skipped as "being run elsewhere" that are still not FINISHED
when it ends (their state is the lease's answer, :func:`adbench_repro.lease.state`)."""

from __future__ import annotations

import time
from typing import Callable

from .. import lease

#: hydra.sweeper.on_elsewhere values: wait for those runs to end, fail (exit 1) at once, or ignore them
ELSEWHERE_MODES = ("wait", "fail", "ignore")


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
        states = {rid: lease.state(client, rid, stale_s) for rid in skipped}
        running = [rid for rid, s in states.items() if s == "RUNNING"]
        if mode != "wait" or not running:
            break
        if not told:
            emit(f"[sweep] waiting for {len(running)} configuration(s) being run elsewhere "
                 "(hydra.sweeper.on_elsewhere=fail does not wait)")
            told = True
        time.sleep(poll_s)
    return {skipped[rid]: s for rid, s in states.items() if s != "FINISHED"}
