"""The lease in the tracking store: which run of a config hash holds it, and the runner standing down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
from mlflow.entities import ViewType

from adbench_repro import lease, tracking
from adbench_repro.lease import Claim, holder

HOST = socket.gethostname()
NOW = 1_000_000.0


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_finished_run_holds_the_lease_before_any_running_one():
    claims = [Claim("r1", "RUNNING", 1, owner="elsewhere:1", heartbeat_s=NOW),
              Claim("f2", "FINISHED", 5, end_ms=9), Claim("f1", "FINISHED", 6, end_ms=8)]
    assert holder(claims, None, NOW, 300).run_id == "f1"  # the first to finish
    assert holder(claims, "r1", NOW, 300).run_id == "f1"
    # force=true: FINISHED runs that ended before this run started do not count
    assert holder(claims, "r1", NOW, 300, since_ms=10).run_id == "r1"


def test_the_earliest_live_running_run_holds_it_and_dead_ones_are_ignored():
    fresh, stale = NOW - 10, NOW - 301
    claims = [Claim("late", "RUNNING", 20, owner="elsewhere:1", heartbeat_s=fresh),
              Claim("stale", "RUNNING", 1, owner="elsewhere:1", heartbeat_s=stale),
              Claim("old-version", "RUNNING", 2),  # no heartbeat at all: a run of a killed older sweep
              Claim("dead", "RUNNING", 3, owner=f"{HOST}:{_dead_pid()}", heartbeat_s=fresh),
              Claim("killed", "KILLED", 0), Claim("failed", "FAILED", 0)]
    assert holder(claims, None, NOW, 300, host=HOST).run_id == "late"
    assert holder([*claims, Claim("me", "RUNNING", 10)], "me", NOW, 300, host=HOST).run_id == "me"
    alive = Claim("alive", "RUNNING", 5, owner=f"{HOST}:{os.getpid()}", heartbeat_s=fresh)
    assert holder([*claims, alive], None, NOW, 300, host=HOST).run_id == "alive"
    tie = [Claim("b", "RUNNING", 5, owner="x:1", heartbeat_s=fresh), Claim("a", "RUNNING", 5, owner="x:1",
                                                                             heartbeat_s=fresh)]
    assert holder(tie, None, NOW, 300).run_id == "a"  # same start time: the run id decides, for everyone


@pytest.fixture()
def store(tmp_path):
    client = tracking.client_for(f"sqlite:///{tmp_path}/mlflow.db")
    return client, tracking.ensure_experiment(client, "nng-mix")


def _tags(h: str = "h1") -> dict[str, str]:
    return {"config_hash": h, "dataset": "d"}


def test_second_claimant_stands_down_until_the_first_finishes_then_skips(store):
    client, exp = store
    first, none = lease.acquire(client, exp, _tags(), "a")
    assert first is not None and none is None
    second, who = lease.acquire(client, exp, _tags(), "b")
    assert second is None and (who.run_id, who.status) == (first.run_id, "RUNNING")
    assert first.end("FINISHED") is None
    third, who = lease.acquire(client, exp, _tags(), "c")
    assert third is None and (who.run_id, who.status) == (first.run_id, "FINISHED")
    runs = client.search_runs([exp], run_view_type=ViewType.ALL)  # the others saw the holder before writing
    assert [(r.info.status, r.info.lifecycle_stage) for r in runs] == [("FINISHED", "active")]
    other, _ = lease.acquire(client, exp, _tags("h2"), "d")  # another configuration is free
    assert other is not None
    forced, _ = lease.acquire(client, exp, _tags(), "e", force=True)  # force reruns a FINISHED configuration
    assert forced is not None and forced.end("FINISHED") is None


def test_a_run_that_lost_the_race_does_not_end_finished(store):
    client, exp = store
    mine, _ = lease.acquire(client, exp, _tags(), "mine")
    # a run of another process that started earlier but reached the store later (clocks, a busy store)
    owner = {lease.OWNER: f"{HOST}:{os.getppid()}", lease.HEARTBEAT: f"{time.time():.3f}"}
    earlier = client.create_run(exp, start_time=int(time.time() * 1000) - 60_000, tags={**_tags(), **owner})
    won = mine.end("FINISHED")
    assert won is not None and won.run_id == earlier.info.run_id
    assert client.get_run(mine.run_id).info.lifecycle_stage == "deleted"


def test_a_run_left_running_by_a_killed_process_is_taken_over(store):
    client, exp = store
    owner = {lease.OWNER: f"{HOST}:{_dead_pid()}", lease.HEARTBEAT: f"{time.time():.3f}"}
    client.create_run(exp, tags={**_tags(), **owner})
    taken, who = lease.acquire(client, exp, _tags(), "again")
    assert taken is not None and who is None


def test_the_heartbeat_keeps_the_lease_fresh(store):
    client, exp = store
    held, _ = lease.acquire(client, exp, _tags(), "beat", heartbeat_s=0.05)
    first = float(client.get_run(held.run_id).data.tags[lease.HEARTBEAT])
    time.sleep(0.5)
    assert float(client.get_run(held.run_id).data.tags[lease.HEARTBEAT]) > first
    held.end("FAILED")
    assert client.get_run(held.run_id).info.status == "FAILED"


def test_a_taken_over_run_ends_killed_with_the_reason(store):
    client, exp = store
    owner = {lease.OWNER: f"{HOST}:{_dead_pid()}", lease.NODE: lease.node_id(), lease.HEARTBEAT: f"{time.time():.3f}"}
    lost = client.create_run(exp, tags={**_tags(), **owner})
    taken, _ = lease.acquire(client, exp, _tags(), "again")
    old = client.get_run(lost.info.run_id)
    assert old.info.status == "KILLED"
    assert "is gone" in old.data.tags["error"] and taken.run_id in old.data.tags["error"]
    taken.end("FINISHED")
    runs = client.search_runs([exp], filter_string="attributes.status = 'FINISHED'")
    assert [r.info.run_id for r in runs] == [taken.run_id]


def test_a_pid_is_only_tested_on_the_node_that_wrote_it():
    fresh = NOW - 1
    dead_pid = _dead_pid()
    here = Claim("here", "RUNNING", 1, owner=f"{HOST}:{dead_pid}", heartbeat_s=fresh, node=lease.node_id())
    # same host name, another container (PID namespace) or machine (boot id): its pid says nothing here
    other = Claim("other", "RUNNING", 1, owner=f"{HOST}:{dead_pid}", heartbeat_s=fresh, node="other-boot/pid:[1]")
    assert lease.why_dead(here, NOW, 300, HOST, my_job="") == f"owner process {HOST}:{dead_pid} is gone"
    assert lease.why_dead(other, NOW, 300, HOST, my_job="") is None


def test_a_run_whose_slurm_job_ended_is_dead_at_once_and_a_requeued_task_takes_its_own_run_over():
    fresh = NOW - 1
    c = Claim("r", "RUNNING", 1, owner="node7:123", heartbeat_s=fresh, node="n7", slurm_job="43_0")
    states = {"43_0": "CANCELLED"}
    assert lease.why_dead(c, NOW, 300, job_state=states.get, my_job="") == "SLURM job 43_0 is CANCELLED"
    states["43_0"] = "RUNNING"
    assert lease.why_dead(c, NOW, 300, job_state=states.get, my_job="") is None
    assert "requeued" in lease.why_dead(c, NOW, 300, job_state=states.get, my_job="43_0")
    assert lease.why_dead(c, NOW, 300, job_state=lambda job: None, my_job="") is None  # SLURM cannot tell: heartbeat


def test_slurm_job_id_names_array_tasks_as_squeue_does():
    assert lease.slurm_job_id({"SLURM_JOB_ID": "44", "SLURM_ARRAY_JOB_ID": "43", "SLURM_ARRAY_TASK_ID": "1"}) == "43_1"
    assert lease.slurm_job_id({"SLURM_JOB_ID": "44"}) == "44"
    assert lease.slurm_job_id({}) == ""


def test_stale_time_under_three_heartbeats_is_refused_in_one_line(store):
    with pytest.raises(lease.LeaseTimingError, match=r"lease_stale_s=30 must be at least 3 heartbeats") as e:
        lease.check_timing(30, 30)
    assert "\n" not in str(e.value)
    lease.check_timing(90, 30)
    client, exp = store
    with pytest.raises(lease.LeaseTimingError):
        lease.acquire(client, exp, _tags(), "x", stale_s=30, heartbeat_s=30)


class _Flaky:
    """A client whose first ``n`` set_tag calls fail as a server that does not answer."""

    def __init__(self, client, n):
        self.client, self.n = client, n

    def __getattr__(self, name):
        return getattr(self.client, name)

    def set_tag(self, *args):
        if self.n > 0:
            self.n -= 1
            raise ConnectionError("Connection refused")
        return self.client.set_tag(*args)


def test_a_heartbeat_is_retried_until_written(store):
    client, exp = store
    held, _ = lease.acquire(client, exp, _tags(), "beat", heartbeat_s=60, stale_s=600)
    before = float(client.get_run(held.run_id).data.tags[lease.HEARTBEAT])
    held.client = _Flaky(client, 2)
    assert held.beat() is True and held.client.n == 0
    assert float(client.get_run(held.run_id).data.tags[lease.HEARTBEAT]) > before
    held.client, held.heartbeat_s = _Flaky(client, 100), 0.5  # a store gone for longer than a heartbeat
    assert held.beat() is False
    held.client = client
    held.end("FAILED")


def test_an_unreadable_heartbeat_counts_as_fresh():
    assert lease._heartbeat("", NOW) == NOW and lease._heartbeat(None, NOW) is None
    assert lease._heartbeat("12.5", NOW) == 12.5
