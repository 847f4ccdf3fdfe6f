"""A study in MLflow (adbench_repro/aggregate/publish.py): aggregating a small synthetic study logs it as one run
of ``<experiment>-studies`` with its table, statistics, figures and (for the paper's kinds) claims as artifacts,
tagged with its study, commit and runs used; re-aggregating replaces it; read back from a SQLite store and
through a real ``mlflow server``'s REST API (the calls the UI makes)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest
import yaml

pytest.importorskip("mlflow")
from hydra import compose, initialize_config_dir  # noqa: E402
from mlflow.entities import Metric, Param, ViewType  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from adbench_repro import provenance  # noqa: E402
from adbench_repro.aggregate import aggregate_study, collect_runs  # noqa: E402
from helpers import identity_tags  # noqa: E402
from adbench_repro.aggregate.__main__ import main  # noqa: E402
from adbench_repro.aggregate.expected import CONF_DIR, HYDRA_NEUTRAL  # noqa: E402
from adbench_repro.aggregate.publish import (NO_PUBLISH_ENV, markdown_html, publish_study,  # noqa: E402
                                             studies_experiment)
from adbench_repro.confighash import config_hash  # noqa: E402
from adbench_repro.studies import load_study, to_override_list  # noqa: E402
from test_mlflow_ui import free_port, stop, wait_for_http  # noqa: E402

DATASETS = ["14_glass", "42_WBC", "45_wine", "39_vertebral", "29_Pima"]
COLUMNS = {"Baseline": ("none", 0), "Mixup": ("mixup", 10), "NNG-Mix": ("nng_mix", 10)}
PNG = b"\x89PNG\r\n\x1a\n"


def spec(name: str, kind: str | None) -> dict:
    """A study of MLP with three columns on five datasets, seed 0, with paired tests and a figure."""
    out = {"name": name, "title": f"Publish test study {name}", "datasets": DATASETS, "rows": "detector",
           "sweeps": [{"label_ratio": ["1pct"], "augmenter": ["none"], "detector": ["mlp"], "seed": [0]},
                      {"label_ratio": ["1pct"], "augmenter": ["mixup", "nng_mix"], "multiplier": [10],
                       "detector": ["mlp"], "seed": [0]}],
           "columns": [{"label": c, "match": {"augmenter": a}} for c, (a, _) in COLUMNS.items()],
           "compare": {"baseline": "Baseline", "reference": "NNG-Mix"},
           "figure": {"layout": "seeds", "x_label": "generator"},
           "quick": {"datasets": DATASETS[:3], "seeds": [0], "detectors": ["mlp"]}}
    if kind:
        out["kind"] = kind
    return out


@functools.lru_cache(maxsize=None)
def hash_of(dataset: str, column: str) -> str:
    """The identity tags (config hash, config, fingerprints) of the MLP run of ``column`` on ``dataset``."""
    aug, mult = COLUMNS[column]
    c = {"dataset": dataset, "label_ratio": "1pct", "augmenter": aug, "multiplier": mult, "detector": "mlp",
         "seed": 0}
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return identity_tags(compose(config_name="config", overrides=[*HYDRA_NEUTRAL, *to_override_list(c)]))


def log_runs(uri: str, datasets: list[str], shift: float = 0.0) -> int:
    """Log one FINISHED run per (dataset, column) with a made-up AUCROC; returns how many."""
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("nng-mix")
    exp_id = exp.experiment_id if exp else client.create_experiment("nng-mix")
    n = 0
    for i, ds in enumerate(datasets):
        for j, (col, (aug, mult)) in enumerate(COLUMNS.items()):
            tags = {"dataset": ds, "label_ratio": "1pct", "augmenter": aug, "multiplier": str(mult),
                    "detector": "mlp", "seed": "0", **hash_of(ds, col)}
            run = client.create_run(exp_id, tags=tags)
            client.log_batch(run.info.run_id, metrics=[Metric("aucroc", 0.6 + 0.05 * j + 0.01 * i + shift, 0, 0)],
                             params=[Param("seed", "0")])
            client.set_terminated(run.info.run_id, "FINISHED")
            n += 1
    return n


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("publish")
    specs = {}
    for name, kind in (("pubpaper", "beyond"), ("pubuser", None)):
        specs[name] = root / f"{name}.yaml"
        specs[name].write_text(yaml.safe_dump(spec(name, kind), sort_keys=False))
    n = log_runs(f"sqlite:///{root}/base.db", DATASETS)
    shutil.copy(root / "base.db", root / "mlflow.db")
    return {"root": root, "uri": f"sqlite:///{root}/mlflow.db", "specs": specs, "n": n}


def fresh_store(setup, folder) -> dict:
    """``setup`` with a store of its own in ``folder``: a copy of the base store (its 15 runs, no study yet)."""
    shutil.copy(setup["root"] / "base.db", folder / "mlflow.db")
    return {**setup, "uri": f"sqlite:///{folder}/mlflow.db"}


def aggregate(setup, name: str, out, quick: bool = False):
    study = load_study(setup["specs"][name])
    if quick:
        study = study.quick_view()
    return study, aggregate_study(study, collect_runs(setup["uri"], "nng-mix", committed=False), out_dir=out)


@functools.lru_cache(maxsize=None)
def _aggregated(root, name: str):
    return aggregate({"specs": {name: root / f"{name}.yaml"}, "uri": f"sqlite:///{root}/base.db"}, name,
                     root / f"out_{name}")


def aggregated(setup, name: str, out):
    """``name`` aggregated from the 15 base runs (once per module) and its files copied to ``out``."""
    study, result = _aggregated(setup["root"], name)
    shutil.copytree(setup["root"] / f"out_{name}", out, dirs_exist_ok=True)
    return study, result


def studies_runs(uri: str, view=ViewType.ACTIVE_ONLY):
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(studies_experiment("nng-mix"))
    return [] if exp is None else client.search_runs([exp.experiment_id], run_view_type=view)


def artifact_paths(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    out = set()
    for f in client.list_artifacts(run_id, path):
        out |= artifact_paths(client, run_id, f.path) if f.is_dir else {f.path}
    return out


def test_publish_logs_the_study_as_one_run(setup, tmp_path, capsys):
    study, result = aggregated(setup, "pubpaper", tmp_path)
    published = publish_study(result, tmp_path, study, setup["uri"])
    assert published is not None and not published.unchanged and published.replaced == []
    out = capsys.readouterr().out
    assert published.run_id in out and published.url in out
    assert published.url == (f"http://127.0.0.1:5000/#/experiments/{published.experiment_id}/runs/"
                             f"{published.run_id}/artifacts/pubpaper.html?workflowType=machine_learning")

    runs = [r for r in studies_runs(setup["uri"]) if r.data.tags["study"] == "pubpaper"]
    assert [r.info.run_id for r in runs] == [published.run_id]
    run = runs[0]
    assert run.info.status == "FINISHED" and run.info.run_name == "pubpaper"
    tags = run.data.tags
    assert tags["runs_used"] == str(setup["n"]) == str(result.table.runs_used)
    assert tags["git_commit"] == provenance.git_commit() and tags["study_view"] == "full"
    assert tags["study_kind"] == "beyond"
    assert f"{setup['n']} runs used" in tags["mlflow.note.content"] and "pubpaper.html" in tags["mlflow.note.content"]

    client = MlflowClient(tracking_uri=setup["uri"])
    paths = artifact_paths(client, run.info.run_id)
    assert {"pubpaper.md", "pubpaper.html", "pubpaper.csv", "pubpaper.tex", "pubpaper_stats.md", "figures/pubpaper.png",
            "figures/pubpaper_cd_mlp.png", "claims.md"} == paths  # its runs are in the committed store
    assert "compute.md" not in paths  # the machine's compute page is not the study's
    local = client.download_artifacts(run.info.run_id, "pubpaper.md", str(tmp_path / "dl"))
    assert open(local).read() == (tmp_path / "pubpaper.md").read_text()
    page = open(client.download_artifacts(run.info.run_id, "pubpaper.html", str(tmp_path / "dl"))).read()
    best = max(result.table.value("mlp", c) for c in COLUMNS)  # NNG-Mix by construction, bold in the page
    assert f"<td><strong>{best:.3f}</strong>" in page and "<th>NNG-Mix</th>" in page
    assert not (tmp_path / "pubpaper.html").exists()  # the page is made for MLflow only, not under results/
    png = client.download_artifacts(run.info.run_id, "figures/pubpaper_cd_mlp.png", str(tmp_path / "dl"))
    assert open(png, "rb").read()[:8] == PNG


def test_reaggregating_replaces_the_run_and_quick_is_its_own(setup, tmp_path):
    local = fresh_store(setup, tmp_path)
    uri = local["uri"]
    study, result = aggregated(setup, "pubuser", tmp_path / "a")
    first = publish_study(result, tmp_path / "a", study, uri)
    assert first is not None

    # nothing changed: the run stays as it is
    study, result = aggregate(local, "pubuser", tmp_path / "b")  # a real re-aggregation: same bytes
    same = publish_study(result, tmp_path / "b", study, uri)
    assert same.unchanged and same.run_id == first.run_id

    # newer runs of one dataset (they supersede the earlier ones): a new run, the earlier one deleted (restorable)
    log_runs(uri, DATASETS[:1], shift=0.1)
    study, result = aggregate(local, "pubuser", tmp_path / "c")
    second = publish_study(result, tmp_path / "c", study, uri)
    assert second.run_id != first.run_id and second.replaced == [first.run_id]
    active = studies_runs(uri)
    assert [r.info.run_id for r in active] == [second.run_id]
    assert active[0].data.tags["replaces"] == first.run_id
    assert active[0].data.tags["runs_used"] == str(result.table.runs_used) == "15"
    deleted = studies_runs(uri, ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [first.run_id]

    # the QUICK view is a run of its own, next to the full one
    study, result = aggregate(local, "pubuser", tmp_path / "q", quick=True)
    quick = publish_study(result, tmp_path / "q", study, uri)
    assert quick.run_id != second.run_id and quick.replaced == []
    names = {r.info.run_name: r.data.tags["study_view"] for r in studies_runs(uri)}
    assert names == {"pubuser": "full", "pubuser (QUICK)": "quick"}
    assert studies_runs(uri, ViewType.ACTIVE_ONLY)[0].data.tags["runs_used"] == "9"  # 3 QUICK datasets


def test_user_study_gets_no_paper_pages(setup, tmp_path):
    study, result = aggregated(setup, "pubuser", tmp_path)
    published = publish_study(result, tmp_path, study, setup["uri"])
    paths = set(published.artifacts)
    assert "pubuser.md" in paths and "figures/pubuser.png" in paths
    assert "claims.md" not in paths and "leakage.md" not in paths


def test_skipping_and_refusals(setup, tmp_path, monkeypatch, capsys):
    study, result = aggregated(setup, "pubuser", tmp_path)
    # offline: nothing is logged
    monkeypatch.setenv(NO_PUBLISH_ENV, "1")
    assert publish_study(result, tmp_path, study, f"sqlite:///{tmp_path}/other.db") is None
    monkeypatch.delenv(NO_PUBLISH_ENV)
    # publishing never creates a SQLite store
    assert publish_study(result, tmp_path, study, f"sqlite:///{tmp_path}/none.db") is None
    assert not (tmp_path / "none.db").exists()
    assert "no store at" in capsys.readouterr().err
    # a table without runs (e.g. wrong overrides) does not replace the study's run
    empty = aggregate_study(study, collect_runs(setup["uri"], "nng-mix", committed=False).iloc[0:0], out_dir=tmp_path / "empty")
    assert empty.table.runs_used == 0
    assert publish_study(empty, tmp_path / "empty", study, setup["uri"]) is None
    assert "uses no runs" in capsys.readouterr().err
    # a file the aggregator should have written is missing: one line, nothing logged, no traceback
    (tmp_path / "pubuser_stats.md").unlink()
    before = len(studies_runs(setup["uri"]))
    assert publish_study(result, tmp_path, study, setup["uri"]) is None
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pubuser_stats.md" in err and "not written" in err
    assert len(studies_runs(setup["uri"])) == before
    # a tracking server that does not answer: one line, the table stays
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    study, result = aggregated(setup, "pubuser", tmp_path)
    assert publish_study(result, tmp_path, study, f"http://127.0.0.1:{free_port()}") is None
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not published to MLflow" in err
    assert (tmp_path / "pubuser.md").is_file()


def test_cli_publishes_unless_told_not_to(setup, tmp_path, capsys):
    uri = fresh_store(setup, tmp_path)["uri"]
    spec_path = str(setup["specs"]["pubuser"])
    assert main([spec_path, "--tracking-uri", uri, "--out", str(tmp_path / "x"), "--no-publish"]) == 0
    assert studies_runs(uri) == []
    assert main([spec_path, "--tracking-uri", uri, "--out", str(tmp_path / "x")]) == 0
    out = capsys.readouterr().out
    runs = studies_runs(uri)
    assert len(runs) == 1 and f"run {runs[0].info.run_id}" in out and "/artifacts/pubuser.html" in out


def test_markdown_page_keeps_the_tables_marks_and_escapes_the_rest():
    md = ("# Title & more\n\nStudy `x`, best in **bold**, second <u>underlined</u>; p < 0.05.\n\n"
          "| Detector | A | B |\n|---|---|---|\n| mlp | **0.800**<sup>b</sup> | <u>0.700</u> |\n\n"
          "- one item\n  continued\n- [link](other.md) <script>x</script>\n")
    page = markdown_html(md, "t")
    assert "<h1>Title &amp; more</h1>" in page and "<code>x</code>" in page and "p &lt; 0.05" in page
    assert "<tr><th>Detector</th><th>A</th><th>B</th></tr>" in page and "---" not in page
    assert "<td><strong>0.800</strong><sup>b</sup></td><td><u>0.700</u></td>" in page
    assert "<li>one item continued</li>" in page and '<a href="other.md">link</a>' in page
    assert "<script>" not in page and "&lt;script&gt;" in page


def rest(base: str, endpoint: str, **params) -> bytes:
    with urllib.request.urlopen(f"{base}/{endpoint}?{urllib.parse.urlencode(params)}", timeout=30) as r:
        assert r.status == 200
        return r.read()


def listed(base: str, run_id: str, path: str = "") -> set[str]:
    """The run's artifact files, listed by the server (``/ajax-api/2.0/mlflow/artifacts/list``, as the UI does)."""
    files = json.loads(rest(base, "ajax-api/2.0/mlflow/artifacts/list", run_id=run_id, path=path)).get("files", [])
    out = set()
    for f in files:
        out |= listed(base, run_id, f["path"]) if f["is_dir"] else {f["path"]}
    return out


@pytest.mark.slow
def test_study_run_through_a_real_mlflow_server(setup, tmp_path):
    """A study published to the SQLite store that `make mlflow-ui` serves, and one published to the server
    itself (artifacts uploaded through it): both read back through the server's REST API."""
    local = fresh_store(setup, tmp_path)
    uri = local["uri"]
    study, result = aggregated(setup, "pubpaper", tmp_path / "local")
    via_store = publish_study(result, tmp_path / "local", study, uri)

    port, log = free_port(), tmp_path / "mlflow-server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri, "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1", "--artifacts-destination", str(tmp_path / "served")],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true",
                 "DO_NOT_TRACK": "true"})
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/health", server, log)
        # a study published through the server (a shared tracking server), to a studies experiment the server
        # creates (artifacts uploaded through it, to --artifacts-destination)
        study, result = aggregated(setup, "pubuser", tmp_path / "remote")
        via_server = publish_study(result, tmp_path / "remote", study, base, experiment="shared")
        assert via_server is not None and via_server.url.startswith(f"{base}/#/experiments/")
        exp = MlflowClient(tracking_uri=base).get_experiment_by_name(studies_experiment("shared"))
        assert exp.artifact_location.startswith("mlflow-artifacts:")

        for published, name, local_dir in ((via_store, "pubpaper", tmp_path / "local"),
                                           (via_server, "pubuser", tmp_path / "remote")):
            run = json.loads(rest(base, "api/2.0/mlflow/runs/get", run_id=published.run_id))["run"]
            tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
            assert tags["study"] == name and tags["runs_used"] == "15" and tags["git_commit"]
            files = listed(base, published.run_id)
            assert {f"{name}.md", f"{name}.csv", f"figures/{name}.png", f"figures/{name}_cd_mlp.png"} <= files
            assert ("claims.md" in files) == (name == "pubpaper")
            md = rest(base, "get-artifact", run_id=published.run_id, path=f"{name}.md")
            assert md == (local_dir / f"{name}.md").read_bytes()
            assert b"<table>" in rest(base, "get-artifact", run_id=published.run_id, path=f"{name}.html")
            assert rest(base, "get-artifact", run_id=published.run_id, path=f"figures/{name}.png")[:8] == PNG
        assert sorted(p.name for p in (tmp_path / "served").rglob("*.md")) == ["pubuser.md", "pubuser_stats.md"]
    finally:
        stop(server)
