"""Publish an aggregated study to the tracking store, so that the MLflow UI (a shared server included) shows it.

A study is one run of the experiment ``<runs experiment>-studies`` (``nng-mix-studies`` for ``nng-mix``), named
after the study (``table1``, ``table1 (QUICK)``). Its artifacts mirror what the aggregator wrote under
``results/``: the table (``<study>.md``, ``.csv``, ``.tex``, and ``<study>.html``, the table as a page: MLflow's
markdown viewer shows the table's ``<u>``/``<sup>`` as text), the statistics (``<study>_stats.md``), the figures
(``figures/<study>.png``, ``figures/<study>_cd_<row>.png``), for a user's study the runs used (``runs/<study>.csv.gz``) and, for
the paper's and this project's studies (``kind: paper|beyond``), ``claims.md`` (and ``leakage.md`` after the
Table I studies). Its tags: ``study``, ``study_view`` (``full`` or ``quick``), ``study_kind``, ``runs_used``,
``git_commit`` (:func:`adbench_repro.provenance.git_commit`) and ``content_sha256``; its description
(``mlflow.note.content``, the run page's overview) says what it is and where the table is.

**One run per study and view.** Re-aggregating makes a new run, and then deletes the study's earlier runs
(MLflow's soft delete: the UI's "Deleted" filter still lists them and can restore them; ``mlflow gc`` removes
them for good); the new run's tag ``replaces`` names them. When nothing changed (same files, tags and commit)
the existing run is kept as it is. A table that uses no runs is not published (it would replace the study's
run with an empty one). A failure to publish never loses the table: it is reported in one line and the files
stay under ``results/``.

Set ``ADBENCH_NO_PUBLISH=1`` (or give the aggregator ``--no-publish``) to skip publishing, e.g. offline. A local
SQLite store that does not exist yet is never created by publishing.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from .. import paths, provenance, tracking
from ..studies import Study

#: the studies' experiment is the runs' experiment with this suffix (``nng-mix`` -> ``nng-mix-studies``)
STUDIES_SUFFIX = "-studies"
#: set to 1/true/yes to skip publishing
NO_PUBLISH_ENV = "ADBENCH_NO_PUBLISH"
#: where ``make mlflow-ui`` serves a local store
LOCAL_UI = "http://127.0.0.1:5000"
#: the saved view of the studies experiment's runs table (see :data:`tracking.RUNS_VIEW_STATE`)
STUDIES_VIEW_KEY = "studies"
STUDIES_VIEW_STATE = {"selectedColumns": ["tags.`study`", "tags.`study_view`", "tags.`study_kind`",
                                          "tags.`runs_used`", "tags.`git_commit`"],
                      "orderByKey": "attributes.start_time", "orderByAsc": False}
#: the studies experiment's description (shown above its runs table)
STUDIES_NOTE = ("One run per study (and view: full or QUICK), made by `python -m adbench_repro.aggregate` or "
                "`make reproduce-<study>`: its table, statistics, figures and critical-difference diagrams, and for "
                "the paper's studies `claims.md`, as artifacts. The runs behind them are in the experiment "
                "`{runs}`. Re-aggregating replaces a study's run (earlier ones are deleted, restorable).")


@dataclass
class PublishedStudy:
    """Where a study was published: its run, experiment, UI link (its table's page) and artifact paths."""

    run_id: str
    experiment_id: str
    url: str
    artifacts: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # earlier runs of the study, now deleted
    unchanged: bool = False  # the study's run already held exactly this content: kept, nothing logged


def studies_experiment(runs_experiment: str) -> str:
    """The experiment that holds the studies of the runs' experiment ``runs_experiment``."""
    return f"{runs_experiment}{STUDIES_SUFFIX}"


def study_view(study: Study) -> str:
    """``quick`` for a study's QUICK view (:meth:`Study.quick_view`, titled "QUICK ..."), else ``full``."""
    return "quick" if study.title.startswith("QUICK") else "full"


def run_name(study: Study) -> str:
    """The study run's name: the study's, with `` (QUICK)`` for its QUICK view."""
    return study.name + (" (QUICK)" if study_view(study) == "quick" else "")


def ui_base(tracking_uri: str) -> str:
    """The UI's address for a store: a tracking server's own address, else where ``make mlflow-ui`` serves."""
    return tracking_uri.rstrip("/") if tracking_uri.startswith(("http://", "https://")) else LOCAL_UI


def run_url(base: str, experiment_id: str, run_id: str, artifact: str | None = None) -> str:
    """The UI page of a run's artifacts, with ``artifact`` (a path inside the run) open, in the UI's "Model
    training" mode (MLflow 3 opens GenAI's sidebar otherwise, see :func:`tracking.ui_url`)."""
    url = f"{base}/#/experiments/{experiment_id}/runs/{run_id}/artifacts"
    return (f"{url}/{artifact}" if artifact else url) + "?workflowType=machine_learning"


def study_artifacts(result, out_dir: str | Path, study: Study) -> dict[str, Path]:
    """``{artifact path: local file}``: what the aggregator wrote for ``study`` under ``out_dir`` (``result``: its
    AggregateResult, whose ``outputs`` say whether a figure, claims or leakage page was written; see the module
    docstring). Raises ValueError naming a file the aggregator should have written but did not."""
    out_dir, name = Path(out_dir), study.name
    outputs = getattr(result, "outputs", {}) or {}
    wanted = {f"{name}.md": out_dir / f"{name}.md", f"{name}.csv": out_dir / f"{name}.csv",
              f"{name}.tex": out_dir / f"{name}.tex"}
    if "runs" in outputs:  # a user's study's run export (the paper's runs are in the committed store)
        wanted[f"runs/{name}.csv.gz"] = out_dir / "runs" / f"{name}.csv.gz"
    if "figure" in outputs:
        wanted[f"figures/{name}.png"] = out_dir / "figures" / f"{name}.png"
    stats = getattr(result.table, "stats", None)
    if stats is not None:
        wanted[f"{name}_stats.md"] = out_dir / f"{name}_stats.md"
        for row in stats.friedman:
            wanted[f"figures/{name}_cd_{row}.png"] = out_dir / "figures" / f"{name}_cd_{row}.png"
    if study.kind in ("paper", "beyond"):  # the paper's pages, when written: only its own and this project's studies
        for key in ("claims", "leakage"):
            if key in outputs:
                wanted[f"{key}.md"] = out_dir / f"{key}.md"
    missing = [str(p) for p in wanted.values() if not p.is_file()]
    if missing:
        raise ValueError(f"study {name!r}: {', '.join(missing)} not written by the aggregator; nothing published")
    return wanted


#: the inline HTML that the aggregator's markdown uses (second best underlined, test markers); kept as HTML
_KEPT_TAGS = re.compile(r"&lt;(/?)(u|sup|sub)&gt;")
_CSS = ("body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:14px;margin:16px;color:#1f272d}"
        "table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d1d9e1;padding:4px 8px;text-align:left}"
        "th{background:#f5f7f8}code{background:#f5f7f8;padding:0 3px}h1{font-size:20px}")


def _inline(text: str) -> str:
    out = _KEPT_TAGS.sub(r"<\1\2>", html.escape(text, quote=False))
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', out)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def markdown_html(md: str, title: str) -> str:
    """The aggregator's markdown (headings, pipe tables, bullet lists, paragraphs; bold, code, links, and its
    ``<u>``/``<sup>`` tags) as a standalone HTML page: MLflow's markdown viewer shows inline HTML as text, its
    HTML viewer renders a page."""
    lines, body, i = md.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"(#{1,6})\s+(.*)", line)
        if not line.strip():
            i += 1
        elif heading:
            n = len(heading[1])
            body.append(f"<h{n}>{_inline(heading[2])}</h{n}>")
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            rows = [r for r in rows if not all(re.fullmatch(r":?-+:?", c) for c in r)]  # the rule under the header
            body.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in rows[0]) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
                        + "</table>")
        elif re.match(r"[-*] ", line):
            items = []
            while i < len(lines) and (re.match(r"[-*] ", lines[i]) or (items and lines[i].startswith("  "))):
                if re.match(r"[-*] ", lines[i]):
                    items.append(lines[i][2:])
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            body.append("<ul>" + "".join(f"<li>{_inline(t)}</li>" for t in items) + "</ul>")
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not re.match(r"(#{1,6}\s|\||[-*] )", lines[i]):
                para.append(lines[i].strip())
                i += 1
            body.append(f"<p>{_inline(' '.join(para))}</p>")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def _note(study: Study, result, commit: str, artifacts: dict[str, Path]) -> str:
    """The run's description (the run page's overview): what the study is, what produced it and where the table
    is (MLflow's description renders the table's ``<u>``/``<sup>`` as text, and long tables do not fit a tag)."""
    return (f"**{study.title}** (`{study.name}`, a {study.kind} study): {result.table.runs_used} runs used, commit "
            f"`{commit}`. The table: Artifacts > `{study.name}.html` (also `.md`, `.csv`, `.tex`). Artifacts: "
            + ", ".join(f"`{a}`" for a in artifacts) + ".")


def _digest(artifacts: dict[str, Path], tags: dict[str, str]) -> str:
    h = hashlib.sha256(json.dumps(tags, sort_keys=True).encode())
    for path in sorted(artifacts):
        h.update(path.encode() + b"\0" + artifacts[path].read_bytes() + b"\0")
    return h.hexdigest()


def ensure_studies_experiment(client, name: str, runs_experiment: str) -> str:
    """The id of the studies experiment ``name``, created (race-safe) with its runs view and description."""
    tags = {f"mlflow.sharedViewState.{STUDIES_VIEW_KEY}": json.dumps(
                {"name": "Studies", "createdAt": 0, "updatedAt": 0, "state": json.dumps(STUDIES_VIEW_STATE)}),
            "mlflow.note.content": STUDIES_NOTE.format(runs=runs_experiment)}

    def get_or_create() -> str:
        exp = client.get_experiment_by_name(name)
        if exp is not None:
            if exp.lifecycle_stage == "deleted":
                raise MlflowException(f"MLflow experiment {name!r} is deleted; restore it to publish studies")
            return exp.experiment_id
        try:
            return client.create_experiment(name, tags=tags, artifact_location=tracking.artifact_location(client))
        except MlflowException as exc:
            if "already exists" in str(exc).lower() or "unique constraint" in str(exc).lower():
                return client.get_experiment_by_name(name).experiment_id
            raise

    return tracking.with_retries(get_or_create)


def publish_study(result, out_dir: str | Path, study: Study, tracking_uri: str | None,
                  experiment: str = "nng-mix") -> PublishedStudy | None:
    """Log the aggregated ``study`` (its files under ``out_dir``, written by ``aggregate_study``; ``result``:
    its AggregateResult) as one run of the studies experiment of ``experiment`` in the store at
    ``tracking_uri`` (None: ``$MLFLOW_TRACKING_URI``, else the project's store), replacing the study's earlier
    run, and print the run's UI link. Returns None, saying why in one line, when skipped
    (``ADBENCH_NO_PUBLISH``, a table without runs, no such SQLite store) or when the store refuses (the files
    stay as written)."""
    from .runs import resolve_tracking_uri

    if os.environ.get(NO_PUBLISH_ENV, "").strip().lower() in ("1", "true", "yes"):
        return None
    uri = resolve_tracking_uri(tracking_uri)
    if not result.table.runs_used:  # an empty table would replace the study's run with nothing
        print(f"{study.name}: not published to MLflow: the table uses no runs", file=sys.stderr)
        return None
    db = tracking.sqlite_path(uri)
    if db is not None and not db.is_file():
        print(f"{study.name}: not published to MLflow: no store at {uri}", file=sys.stderr)
        return None
    try:
        published = _publish(result, Path(out_dir), study, uri, experiment)
    except (MlflowException, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"{study.name}: not published to MLflow ({uri}): {first}; the table is under {out_dir} "
              f"({NO_PUBLISH_ENV}=1 skips publishing)", file=sys.stderr)
        return None
    what = "unchanged" if published.unchanged else (
        f"replaces {len(published.replaced)} earlier run(s)" if published.replaced else "new")
    how = "" if ui_base(uri) != LOCAL_UI else (
        " (serve it with `make mlflow-ui`)" if paths.is_project_store(uri)
        else f" (serve it with `MLFLOW_TRACKING_URI={uri} make mlflow-ui`)")
    print(f"{study.name}: published to MLflow {uri} [{studies_experiment(experiment)}], run {published.run_id} "
          f"({what}); open {published.url}{how}")
    return published


def _publish(result, out_dir: Path, study: Study, uri: str, experiment: str) -> PublishedStudy:
    if "'" in study.name:
        raise ValueError(f"study name {study.name!r} cannot be published (it has a quote)")
    artifacts = study_artifacts(result, out_dir, study)
    with tempfile.TemporaryDirectory(prefix="adbench_publish_") as tmp:  # the HTML page: never under results/
        page = Path(tmp) / f"{study.name}.html"
        page.write_text(markdown_html(artifacts[f"{study.name}.md"].read_text(), run_name(study)))
        artifacts[page.name] = page
        return _log_study(result, study, artifacts, uri, experiment)


def _log_study(result, study: Study, artifacts: dict[str, Path], uri: str, experiment: str) -> PublishedStudy:
    client = tracking.client_for(uri)
    exp_id = ensure_studies_experiment(client, studies_experiment(experiment), experiment)
    commit = provenance.git_commit()
    view = study_view(study)
    tags = {"study": study.name, "study_view": view, "study_kind": study.kind, "study_title": study.title,
            "runs_used": str(result.table.runs_used), "git_commit": commit,
            "package_version": provenance.package_version(), "runs_experiment": experiment}
    tags["content_sha256"] = _digest(artifacts, tags)
    base, page = ui_base(uri), f"{study.name}.html"
    earlier = tracking.with_retries(
        client.search_runs, [exp_id], filter_string=f"tags.study = '{study.name}' and tags.study_view = '{view}'",
        run_view_type=ViewType.ACTIVE_ONLY, max_results=1000, order_by=["attributes.start_time DESC"])
    latest = earlier[0] if earlier else None
    if (latest is not None and latest.info.status == "FINISHED"
            and latest.data.tags.get("content_sha256") == tags["content_sha256"]):  # nothing changed: keep it
        for old in earlier[1:]:
            tracking.with_retries(client.delete_run, old.info.run_id)
        return PublishedStudy(latest.info.run_id, exp_id, run_url(base, exp_id, latest.info.run_id, page),
                              list(artifacts), [r.info.run_id for r in earlier[1:]], unchanged=True)
    replaced = [r.info.run_id for r in earlier]
    if replaced:
        tags["replaces"] = ",".join(replaced)
    tags["mlflow.note.content"] = _note(study, result, commit, artifacts)
    run = tracking.with_retries(client.create_run, exp_id, tags=tags, run_name=run_name(study))
    run_id = run.info.run_id
    try:
        for path, local in artifacts.items():
            folder = str(Path(path).parent)
            tracking.with_retries(client.log_artifact, run_id, str(local), None if folder == "." else folder)
    except BaseException:
        tracking.with_retries(client.set_terminated, run_id, "FAILED")
        raise
    tracking.with_retries(client.set_terminated, run_id, "FINISHED")
    for old in replaced:
        tracking.with_retries(client.delete_run, old)
    return PublishedStudy(run_id, exp_id, run_url(base, exp_id, run_id, page), list(artifacts), replaced)
