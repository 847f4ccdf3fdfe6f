"""One answer to "is this configuration done, or being done?": a lease kept in the tracking store.

A run starts RUNNING with its config hash, its owner (``host:pid``) and a heartbeat (a tag rewritten
every ``heartbeat_s`` while it runs). Among the runs of one config hash, a FINISHED run holds the
lease; failing that, the earliest *live* RUNNING run (by start time, then run id) does. A RUNNING run
is dead when its heartbeat is older than ``stale_s`` (a killed machine) or when its owner is a process
of this host that no longer exists (``kill -9``): it is ignored and the configuration can be taken over.
A run that does not hold the lease stands down (its run is deleted) before doing any work, and once
more before it would end FINISHED, so each configuration ends FINISHED once however many sweeps,
launchers or machines share the store. The same rule serves every launcher: it needs nothing but
the store. ``force=true`` ignores FINISHED runs that ended before this one started.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

from . import tracking

log = logging.getLogger(__name__)

OWNER, HEARTBEAT = "lease.owner", "lease.heartbeat"


@dataclass(frozen=True)
class Claim:
    """What the lease rule reads of one run."""

    run_id: str
    status: str
    start_ms: int
    end_ms: int | None = None
    owner: str = ""
    heartbeat_s: float | None = None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process not yet reaped is a zombie: gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def is_live(c: Claim, now_s: float, stale_s: float, host: str | None = None) -> bool:
    """Whether RUNNING claim ``c`` is still being worked on (fresh heartbeat, owner not known dead)."""
    if c.heartbeat_s is None or now_s - c.heartbeat_s > stale_s:
        return False
    owner_host, _, pid = c.owner.rpartition(":")
    if owner_host == (host or socket.gethostname()) and pid.isdigit():
        return _pid_alive(int(pid))
    return True


def holder(claims: list[Claim], me: str | None, now_s: float, stale_s: float, since_ms: int | None = None,
           host: str | None = None) -> Claim | None:
    """The claim holding the lease among ``claims`` (one config hash): a FINISHED run (ended at or after
    ``since_ms`` when given), else the earliest live RUNNING run; ``me`` counts as live. None: nobody."""
    finished = [c for c in claims if c.status == "FINISHED" and c.run_id != me
                and (since_ms is None or (c.end_ms or 0) >= since_ms)]
    if finished:
        return min(finished, key=lambda c: (c.end_ms or 0, c.run_id))
    running = [c for c in claims if c.status == "RUNNING" and (c.run_id == me or is_live(c, now_s, stale_s, host))]
    return min(running, key=lambda c: (c.start_ms, c.run_id)) if running else None


def claims_of(client, experiment_id: str, config_hash: str) -> list[Claim]:
    """The RUNNING and FINISHED runs of ``config_hash`` in the experiment, as claims."""
    runs = tracking.with_retries(client.search_runs, [experiment_id],
                                 filter_string=f"tags.config_hash = '{config_hash}'", max_results=1000)
    out = []
    for r in runs:
        if r.info.status in ("RUNNING", "FINISHED"):
            hb = r.data.tags.get(HEARTBEAT)
            out.append(Claim(r.info.run_id, r.info.status, int(r.info.start_time or 0), r.info.end_time,
                             r.data.tags.get(OWNER, ""), float(hb) if hb else None))
    return out


class Lease:
    """A held lease: keeps the run's heartbeat fresh until :meth:`end`."""

    def __init__(self, client, experiment_id: str, run_id: str, config_hash: str, start_ms: int, force: bool,
                 stale_s: float, heartbeat_s: float) -> None:
        self.client, self.experiment_id, self.run_id = client, experiment_id, run_id
        self.config_hash, self.start_ms, self.force, self.stale_s = config_hash, start_ms, force, stale_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(heartbeat_s,), name="adbench-lease", daemon=True)
        self._thread.start()

    def _beat(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            try:
                self.client.set_tag(self.run_id, HEARTBEAT, f"{time.time():.3f}")
            except Exception as exc:  # noqa: BLE001 - a missed beat only ages the lease
                log.debug("heartbeat of run %s not written: %s", self.run_id, exc)

    def holder(self) -> Claim | None:
        """Who holds the lease now (``self`` when this run still does)."""
        return holder(claims_of(self.client, self.experiment_id, self.config_hash), self.run_id, time.time(),
                      self.stale_s, self.start_ms if self.force else None)

    def end(self, status: str) -> Claim | None:
        """Stop the heartbeat and end the run with ``status``. A run about to end FINISHED first checks that
        it still holds the lease; if another run does, this one is deleted and that run is returned."""
        self._stop.set()
        if status == "FINISHED":
            other = self.holder()
            if other is not None and other.run_id != self.run_id:
                _stand_down(self.client, self.run_id)
                return other
        tracking.with_retries(self.client.set_terminated, self.run_id, status)
        return None


def _stand_down(client, run_id: str) -> None:
    """End a run that does not hold its lease: KILLED, then deleted (out of the UI and every search)."""
    tracking.with_retries(client.set_terminated, run_id, "KILLED")
    tracking.with_retries(client.delete_run, run_id)


def acquire(client, experiment_id: str, tags: dict[str, str], run_name: str, force: bool = False,
            stale_s: float = 300.0, heartbeat_s: float = 30.0) -> tuple[Lease | None, Claim | None]:
    """``(lease, None)`` when this process should run the configuration of ``tags["config_hash"]`` (a
    RUNNING run now exists for it), else ``(None, holder)``: the FINISHED or live RUNNING run that has it."""
    h = tags["config_hash"]
    now = time.time()
    if not force:  # the common case of a resumed sweep: done already, nothing is written
        done = holder(claims_of(client, experiment_id, h), None, now, stale_s)
        if done is not None:
            return None, done
    owner = {OWNER: f"{socket.gethostname()}:{os.getpid()}", HEARTBEAT: f"{now:.3f}"}
    run = tracking.with_retries(client.create_run, experiment_id, tags={**tags, **owner}, run_name=run_name)
    me, start_ms = run.info.run_id, int(run.info.start_time)
    who = holder(claims_of(client, experiment_id, h), me, time.time(), stale_s, start_ms if force else None)
    if who is not None and who.run_id != me:
        _stand_down(client, me)
        return None, who
    return Lease(client, experiment_id, me, h, start_ms, force, stale_s, heartbeat_s), None
