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
