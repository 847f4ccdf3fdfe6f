"""One answer to "is this configuration done, or being done?": a lease kept in the tracking store.

A run starts RUNNING with its config hash, its owner and a heartbeat (a tag rewritten every
``heartbeat_s`` while it runs, with retries). The owner is ``host:pid`` plus where that pid means
something (``lease.node``: the boot id and PID namespace of its machine) and, where there is one, the
scheduler's handle on it (``lease.slurm_job``, ``lease.ray_task``). Among the runs of one config hash, a
FINISHED run holds the lease; failing that, the earliest *live* RUNNING run (by start time, then run id)
does. A RUNNING run is dead when

* its heartbeat is older than ``stale_s`` (a lost machine), or at once when
* its owner is a process of this machine and PID namespace that no longer exists (``kill -9``), or
* its SLURM job is no longer alive (``squeue``/``sacct``: cancelled, timed out, preempted, node failed),
  or it is an earlier incarnation of the caller's own SLURM job (a requeued task).

A dead run is ignored, its configuration is taken over, and the run that takes it over ends it KILLED
with an ``error`` tag saying why. A run that does not hold the lease stands down (its run is deleted)
before doing any work, and once more before it would end FINISHED, so each configuration ends FINISHED
once however many sweeps, launchers or machines share the store. ``force=true`` ignores FINISHED runs
that ended before this one started. A run that asks for an output older runs lack (the held-out signals,
``validation.holdout``: :mod:`.outputs`) counts only the runs tagged with it, FINISHED or RUNNING.

The rule rests on three assumptions, checked where they can be:

* **Clocks agree** within ``stale_s - heartbeat_s`` (270 s by default): a heartbeat is written with the
  writer's clock and judged with the reader's. :func:`check_timing` refuses ``stale_s`` under 3 heartbeats.
* **A pid means one process per node id**: a pid is only tested on the machine (boot id) and PID namespace
  that wrote it, so containers sharing a host name do not see each other's runs as dead.
* **A linearizable store** (SQLite, a PostgreSQL/MySQL-backed server): the file store writes tags by
  truncate-then-write, so a reader can see an empty heartbeat (read here as fresh); the sweeper warns.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from . import tracking
from .outputs import OUTPUT_TAGS, tags_satisfy
from .validate import ConfigError

log = logging.getLogger(__name__)

OWNER, HEARTBEAT, NODE, TOKEN = "lease.owner", "lease.heartbeat", "lease.node", "lease.token"
SLURM_JOB, RAY_TASK = "lease.slurm_job", "lease.ray_task"
#: SLURM job states in which a task may still be working (anything else: it is gone)
SLURM_ALIVE = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD",
               "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "SPECIAL_EXIT"}
MIN_BEATS = 3  # lease_stale_s must span at least this many heartbeats


class LeaseTimingError(ConfigError):
    """``lease_stale_s`` too short for ``lease_heartbeat_s``."""


def check_timing(stale_s: float, heartbeat_s: float) -> None:
    """Refuse a stale time under :data:`MIN_BEATS` heartbeats (a live run would be taken for dead)."""
    if heartbeat_s <= 0:
        raise LeaseTimingError(f"mlflow.lease_heartbeat_s={heartbeat_s:g} must be > 0")
    if stale_s < MIN_BEATS * heartbeat_s:
        raise LeaseTimingError(
            f"mlflow.lease_stale_s={stale_s:g} must be at least {MIN_BEATS} heartbeats "
            f"({MIN_BEATS} x mlflow.lease_heartbeat_s={heartbeat_s:g} = {MIN_BEATS * heartbeat_s:g} s): "
            "raise lease_stale_s or lower lease_heartbeat_s")


@dataclass(frozen=True)
class Claim:
    """What the lease rule reads of one run."""

    run_id: str
    status: str
    start_ms: int
    end_ms: int | None = None
    owner: str = ""
    heartbeat_s: float | None = None
    node: str = ""
    slurm_job: str = ""


@functools.lru_cache(maxsize=1)
def node_id() -> str:
    """This machine's boot id and PID namespace: where a pid names one process."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = socket.gethostname()
    try:
        ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        ns = "pid:?"
    return f"{boot}/{ns}"


def slurm_job_id(env: dict | None = None) -> str:
    """This process's SLURM job as ``squeue``/``sacct`` name it (``<array job>_<task>`` for an array task)."""
    env = os.environ if env is None else env
    if env.get("SLURM_ARRAY_JOB_ID") and env.get("SLURM_ARRAY_TASK_ID"):
        return f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
    return env.get("SLURM_JOB_ID", "")


def ray_task_id() -> str:
    """The Ray task running this process's job, if any (Ray imported only when already loaded)."""
    import sys

    if "ray" not in sys.modules:
        return ""
    try:
        ctx = sys.modules["ray"].get_runtime_context()
        return str(ctx.get_task_id() or "")
    except Exception:  # noqa: BLE001 - not in a Ray worker
        return ""


def slurm_state(job: str) -> str | None:
    """The SLURM state of ``job`` (``squeue``, then ``sacct``), or None when SLURM cannot tell."""
    if not job or shutil.which("squeue") is None:
        return None
    try:
        out = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True, timeout=20)
        if out.returncode == 0 and out.stdout.split():
            return out.stdout.split()[0].strip().upper()
        if shutil.which("sacct"):
            out = subprocess.run(["sacct", "-n", "-X", "-P", "-j", job, "-o", "State"], capture_output=True,
                                 text=True, timeout=20)
            states = out.stdout.split()
            if out.returncode == 0 and states:
                return states[-1].split()[0].upper()  # "CANCELLED by 0" -> CANCELLED
    except (OSError, subprocess.SubprocessError):
        return None
    return None


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


def why_dead(c: Claim, now_s: float, stale_s: float, host: str | None = None,
             job_state: Callable[[str], str | None] = slurm_state, my_job: str | None = None) -> str | None:
    """Why RUNNING claim ``c`` is no longer being worked on, or None when it may still be."""
    if c.heartbeat_s is None:
        return "no heartbeat"
    if now_s - c.heartbeat_s > stale_s:
        return f"heartbeat {now_s - c.heartbeat_s:.0f} s old (lease_stale_s={stale_s:g})"
    owner_host, _, pid = c.owner.rpartition(":")
    same_node = c.node == node_id() if c.node else owner_host == (host or socket.gethostname())
    if same_node and pid.isdigit() and not _pid_alive(int(pid)):
        return f"owner process {c.owner} is gone"
    if c.slurm_job:
        mine = slurm_job_id() if my_job is None else my_job
        if c.slurm_job == mine:
            return f"an earlier incarnation of SLURM job {mine} (requeued)"
        state = job_state(c.slurm_job)
        if state is not None and state not in SLURM_ALIVE:
            return f"SLURM job {c.slurm_job} is {state}"
    return None


def holder(claims: list[Claim], me: str | None, now_s: float, stale_s: float, since_ms: int | None = None,
           host: str | None = None, dead: dict[str, str] | None = None, **kw) -> Claim | None:
    """The claim holding the lease among ``claims`` (one config hash): a FINISHED run (ended at or after
    ``since_ms`` when given), else the earliest live RUNNING run; ``me`` counts as live. None: nobody.
    ``dead``, when given, receives ``{run_id: why}`` for the RUNNING runs found dead."""
    finished = [c for c in claims if c.status == "FINISHED" and c.run_id != me
                and (since_ms is None or (c.end_ms or 0) >= since_ms)]
    if finished:
        return min(finished, key=lambda c: (c.end_ms or 0, c.run_id))
    running = []
    for c in claims:
        if c.status != "RUNNING":
            continue
        why = None if c.run_id == me else why_dead(c, now_s, stale_s, host, **kw)
        if why is None:
            running.append(c)
        elif dead is not None:
            dead[c.run_id] = why
    return min(running, key=lambda c: (c.start_ms, c.run_id)) if running else None


def _heartbeat(value: str | None, now_s: float) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:  # a tag read mid-write (file store): being written means alive
        return now_s


def claims_of(client, experiment_id: str, config_hash: str, fingerprint: str | None = None,
              need: dict[str, str] | None = None) -> list[Claim]:
    """The RUNNING and FINISHED runs of ``config_hash`` in the experiment, as claims; with ``fingerprint``,
    only the runs made by code that behaves as today's (:mod:`.fingerprint`): the others are stale; with
    ``need`` (output tags, :func:`.outputs.required`), only the runs that carry them."""
    query = f"tags.config_hash = '{config_hash}'" + (f" and tags.fingerprint = '{fingerprint}'" if fingerprint else "")
    runs = tracking.with_retries(client.search_runs, [experiment_id], filter_string=query, max_results=1000)
    return [claim_of(r, time.time()) for r in runs
            if r.info.status in ("RUNNING", "FINISHED") and tags_satisfy(r.data.tags, need or {})]


def claim_of(run, now_s: float) -> Claim:
    """A run of the store (an MLflow ``Run``) as a claim."""
    t = run.data.tags
    return Claim(run.info.run_id, run.info.status, int(run.info.start_time or 0), run.info.end_time, t.get(OWNER, ""),
                 _heartbeat(t.get(HEARTBEAT), now_s), t.get(NODE, ""), t.get(SLURM_JOB, ""))


def done(client, experiment_id: str, planned, need: dict[str, str] | None = None) -> set[str]:
    """The config hashes among ``planned`` (:class:`..plan.Planned`) with a FINISHED run in the experiment made
    by code that behaves as today's (same fingerprint, :mod:`.fingerprint`) and carrying the output tags ``need``
    (:func:`.outputs.required`): the planners' "done?"."""
    from .fingerprint import combined, fingerprints

    finished: dict[str, set[str]] = {}
    for r in tracking.iter_finished_runs(client, experiment_id):
        h = r.data.tags.get("config_hash")
        if h and tags_satisfy(r.data.tags, need or {}):
            finished.setdefault(h, set()).add(r.data.tags.get("fingerprint", ""))
    return {p.config_hash for p in planned
            if p.config_hash in finished and combined(fingerprints(p.config)) in finished[p.config_hash]}


def state(client, run_id: str, stale_s: float) -> str:
    """``FINISHED``, ``RUNNING`` (alive by the lease's rule) or why the run will not finish."""
    try:
        run = tracking.with_retries(client.get_run, run_id)
    except Exception as exc:  # noqa: BLE001 - a deleted or unknown run
        return f"unreadable ({exc.__class__.__name__})"
    if run.info.status != "RUNNING":
        return run.info.status
    why = why_dead(claim_of(run, time.time()), time.time(), stale_s)
    return "RUNNING" if why is None else f"lost: {why}"


class Lease:
    """A held lease: keeps the run's heartbeat fresh until :meth:`end`."""

    def __init__(self, client, experiment_id: str, run_id: str, config_hash: str, start_ms: int, force: bool,
                 stale_s: float, heartbeat_s: float, fingerprint: str | None = None,
                 need: dict[str, str] | None = None) -> None:
        self.client, self.experiment_id, self.run_id = client, experiment_id, run_id
        self.config_hash, self.start_ms, self.force, self.stale_s = config_hash, start_ms, force, stale_s
        self.fingerprint, self.need = fingerprint, need
        self.heartbeat_s = heartbeat_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(heartbeat_s,), name="adbench-lease", daemon=True)
        self._thread.start()

    def beat(self) -> bool:
        """Write one heartbeat, retrying transient errors for up to about one heartbeat; True when written."""
        deadline = time.monotonic() + max(1.0, self.heartbeat_s)
        delay = 0.2
        while True:
            try:
                self.client.set_tag(self.run_id, HEARTBEAT, f"{time.time():.3f}")
                return True
            except Exception as exc:  # noqa: BLE001 - a missed beat only ages the lease
                if self._stop.is_set() or time.monotonic() + delay > deadline:
                    log.warning("heartbeat of run %s not written: %s", self.run_id, exc)
                    return False
                log.debug("heartbeat of run %s failed (%s); retrying in %.1f s", self.run_id, exc, delay)
                if self._stop.wait(delay):
                    return False
                delay = min(2 * delay, 5.0)

    def _beat(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.beat()

    def holder(self) -> Claim | None:
        """Who holds the lease now (``self`` when this run still does)."""
        return holder(claims_of(self.client, self.experiment_id, self.config_hash, self.fingerprint, self.need),
                      self.run_id, time.time(), self.stale_s, self.start_ms if self.force else None)

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


def _end_dead(client, dead: dict[str, str], by: str) -> None:
    """End the RUNNING runs found dead KILLED, with an ``error`` tag saying why and who took over."""
    for run_id, why in dead.items():
        try:
            tracking.with_retries(client.set_tag, run_id, "error", f"LeaseLost: {why}; taken over by run {by}")
            tracking.with_retries(client.set_terminated, run_id, "KILLED")
            log.info("run %s ended KILLED (%s); its configuration is taken over by run %s", run_id, why, by)
        except Exception as exc:  # noqa: BLE001 - the takeover stands either way
            log.warning("could not mark dead run %s KILLED: %s", run_id, exc)


def owner_tags(now_s: float) -> dict[str, str]:
    """The tags naming this process as a run's owner, and its first heartbeat."""
    tags = {OWNER: f"{socket.gethostname()}:{os.getpid()}", NODE: node_id(), TOKEN: uuid.uuid4().hex,
            HEARTBEAT: f"{now_s:.3f}"}
    if slurm_job_id():
        tags[SLURM_JOB] = slurm_job_id()
    if ray_task_id():
        tags[RAY_TASK] = ray_task_id()
    return tags


def acquire(client, experiment_id: str, tags: dict[str, str], run_name: str, force: bool = False,
            stale_s: float = 300.0, heartbeat_s: float = 30.0) -> tuple[Lease | None, Claim | None]:
    """``(lease, None)`` when this process should run the configuration of ``tags["config_hash"]`` (a
    RUNNING run now exists for it), else ``(None, holder)``: the FINISHED or live RUNNING run that has it.
    With ``tags["fingerprint"]``, only runs with that fingerprint count (a run of other code is stale); with an
    output tag (``validation.holdout``, :mod:`.outputs`), only runs that carry it.
    RUNNING runs found dead on the way are ended KILLED by the run that takes over."""
    check_timing(stale_s, heartbeat_s)
    h, fp = tags["config_hash"], tags.get("fingerprint")
    need = {k: tags[k] for k in OUTPUT_TAGS if k in tags}
    now = time.time()
    if not force:  # the common case of a resumed sweep: done already, nothing is written
        done = holder(claims_of(client, experiment_id, h, fp, need), None, now, stale_s)
        if done is not None:
            return None, done
    run = tracking.with_retries(client.create_run, experiment_id, tags={**tags, **owner_tags(now)},
                                run_name=run_name)
    me, start_ms = run.info.run_id, int(run.info.start_time)
    dead: dict[str, str] = {}
    who = holder(claims_of(client, experiment_id, h, fp, need), me, time.time(), stale_s, start_ms if force else None,
                 dead=dead)
    if who is not None and who.run_id != me:
        _stand_down(client, me)
        return None, who
    _end_dead(client, dead, me)
    return Lease(client, experiment_id, me, h, start_ms, force, stale_s, heartbeat_s, fp, need), None
