"""``mlflow ui`` on a real store, seen through headless Chromium (slow; skipped without ``chromium``).

What MLflow 3.17's UI does with our experiments (checked against its bundled JavaScript and in a browser):

* The experiment tag ``mlflow.experimentKind`` no longer picks the experiment's page. A global "GenAI | Model
  training" switch does: the URL parameter ``workflowType`` (``genai`` / ``machine_learning``), else the
  browser's localStorage ``mlflow.workflowType_v1`` (written when one clicks the switch in the sidebar), else
  ``genai``. So a fresh browser that follows the experiment's link (``/#/experiments/<id>``) lands on the GenAI
  "Overview" page (traces, all empty); ``/#/experiments/<id>?workflowType=machine_learning`` lands on the runs
  table (it redirects to ``/#/experiments/<id>/runs?...``).
* The runs table shows no metric column by default (Run Name, Created, Dataset, Duration, Source, Models).
  Which columns show is UI state, kept per browser in localStorage or in a saved view; no URL parameter
  selects columns (``orderByKey=metrics.`aucroc``` sorts by AUCROC but does not show it). A saved view is an
  experiment tag ``mlflow.sharedViewState.<key>`` (what "Views > Save as new view" writes) and
  ``/#/experiments/<id>/runs?viewStateShareKey=<key>`` opens it; it must be the ``/runs`` URL, since the
  redirect from ``/#/experiments/<id>`` drops the parameter.

Our experiments carry such a view (``tracking.runs_view_tag``), and ``make mlflow-ui`` prints its URL
(``tracking.ui_url``); this test opens exactly that.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from adbench_repro import tracking
from helpers import run_cli, runs_in_store

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mlflow ui exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow ui did not answer {url} within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


class Page(HTMLParser):
    """A rendered DOM: its title, its text, and the cells of the runs table (an ag-grid: header cells
    ``role=columnheader`` and cells ``role=gridcell``, both with ``col-id``; a row's ``row-id`` is the run id)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
            "track", "wbr"}

    def __init__(self, html: str):
        super().__init__()
        self.title, self.text = "", []
        self.headers: dict[str, str] = {}  # col-id -> header text
        self.cells: dict[tuple[str, str], list[str]] = {}  # (run id, col-id) -> the cell's text pieces
        self._stack: list[dict] = []
        self.feed(html)
        self.close()
        self.body = " ".join(" ".join(self.text).split())

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        a = dict(attrs)
        capture = a.get("col-id") is not None and a.get("role") in ("gridcell", "columnheader")
        row = next((f["row"] for f in reversed(self._stack) if f["row"]), None)
        self._stack.append({"tag": tag, "role": a.get("role"), "col": a.get("col-id"), "row": a.get("row-id") or row,
                            "buf": [] if capture else None})

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self._stack:
            f = self._stack.pop()
            if f["buf"] is not None:
                pieces = [p.strip() for p in f["buf"] if p.strip()]
                if f["role"] == "columnheader":
                    self.headers[f["col"]] = " ".join(pieces)
                elif f["row"]:
                    self.cells[(f["row"], f["col"])] = pieces
            if f["tag"] == tag:
                break

    def handle_data(self, data):
        tags = [f["tag"] for f in self._stack]
        if "script" in tags or "style" in tags:
            return
        if tags[-2:] == ["head", "title"]:  # not the <title> of an SVG icon
            self.title += data
            return
        self.text.append(data)
        for f in self._stack:
            if f["buf"] is not None:
                f["buf"].append(data)


def chromium_cmd(url: str, profile: Path, budget_ms: int) -> list[str]:
    """Headless Chromium, a fresh profile (a first visit: no localStorage), the DOM after ``budget_ms`` of
    virtual time."""
    return [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1600,900",
            f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", "--dump-dom", url]


def render_until(url: str, ready, tmp_path: Path, timeout: float = 150) -> Page:
    """Render ``url`` in a fresh browser until ``ready(page)`` holds (a longer virtual-time budget each try);
    returns the last page either way, for the assertions to report on."""
    deadline, budget = time.monotonic() + timeout, 10_000
    while True:
        profile = Path(tempfile.mkdtemp(prefix="chrome-profile-", dir=tmp_path))
        proc = subprocess.run(chromium_cmd(url, profile, budget), capture_output=True, text=True, timeout=120)
        page = Page(proc.stdout)
        if ready(page) or time.monotonic() + 20 > deadline:
            return page
        budget = min(2 * budget, 60_000)
        time.sleep(1)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium) to render the MLflow UI")
def test_mlflow_ui_opens_runs_table_with_aucroc(tmp_path, adbench_root):
    store = f"sqlite:///{tmp_path}/mlflow.db"
    for dataset in ("45_wine", "14_glass"):
        proc = run_cli([f"dataset={dataset}", "detector=mlp", "augmenter=none", f"mlflow.tracking_uri={store}",
                        f"hydra.run.dir={tmp_path}/out/{dataset}"], cwd=tmp_path, env={"ADBENCH_DATA": str(adbench_root)})
        assert proc.returncode == 0, proc.stderr[-3000:]
    runs = runs_in_store(store)
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
    exp_id = runs[0].info.experiment_id
    expected = {r.info.run_id: (r.info.run_name, r.data.metrics["aucroc"]) for r in runs}

    port, log = free_port(), tmp_path / "mlflow-ui.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", store, "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            # no job runner (its huey consumers are 7 more processes), no telemetry
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true",
                 "DO_NOT_TRACK": "true"})
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/", server, log)

        def shows_runs(page: Page) -> bool:
            return all((rid, "attributes.`Run Name`") in page.cells for rid in expected)

        # 1. the experiment, as a training experiment: the runs table, not the GenAI overview/traces page
        page = render_until(f"{base}/#/experiments/{exp_id}?workflowType=machine_learning", shows_runs, tmp_path)
        assert page.title.startswith("Runs"), (page.title, page.body[:1500])
        assert "attributes.`Run Name`" in page.headers, (page.headers, page.body[:1500])
        for rid, (name, _) in expected.items():
            assert name in page.cells.get((rid, "attributes.`Run Name`"), []), (rid, name, page.body[:1500])
        assert "No data available" not in page.body and "Overview" not in page.title, page.body[:1500]

        # 2. the AUCROC view our experiments carry: an aucroc column with each run's value
        def shows_aucroc(page: Page) -> bool:
            return shows_runs(page) and all((rid, "metrics.`aucroc`") in page.cells for rid in expected)

        url = tracking.ui_url(exp_id, base)  # what `make mlflow-ui` prints
        page = render_until(url, shows_aucroc, tmp_path)
        assert page.title.startswith("Runs"), (page.title, page.body[:1500])
        assert page.headers.get("metrics.`aucroc`") == "aucroc", (page.headers, page.body[:1500])
        for rid, (name, aucroc) in expected.items():
            assert name in page.cells.get((rid, "attributes.`Run Name`"), []), (rid, name, page.body[:1500])
            shown = page.cells.get((rid, "metrics.`aucroc`"))
            assert shown and abs(float(" ".join(shown)) - aucroc) < 1e-3, (name, shown, aucroc)
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """End the server and whatever it started (its own process group)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:  # stragglers of the group, if any
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return
