"""Aggregate finished MLflow runs into a study's table and figure (``python -m adbench_repro.aggregate``).

Pipeline: read the current FINISHED runs (the committed store ``results/store/``, the MLflow store and/or
exported ``.csv.gz`` files; one per config hash, stale ones dropped) -> keep runs whose config hash is one of
the study's configurations composed from ``conf/`` (:mod:`.expected`) -> per cell, mean over seeds per
dataset then over datasets (:mod:`.table`) -> write ``results/<study>.md|.csv|.tex`` (:mod:`.render`),
``results/figures/<study>.png`` (:mod:`.figures`), for a user's study the runs used to
``<out>/runs/<study>.csv.gz`` (:mod:`.runs`) and, for specs with ``compare``, the paired tests
(:mod:`.stats`) as markers in the table, ``results/<study>_stats.md`` and critical-difference diagrams. A spec
with ``selection`` tabulates selectors instead of its candidate columns (:mod:`.selection`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..studies import STUDY_DIR, Study, load_study
from .claims import write_claims
from .expected import CONF_DIR, expected_configs
from .leakage import write_leakage
from .selection import ORACLE_PER_SEED, held_out_complete, select, selection_markdown, selection_view
from .figures import plot_study
from .render import stats_to_markdown, to_markdown, write_outputs
from .stats import cd_diagram, study_stats
from .runs import (DEFAULT_EXPERIMENT, RunsError, compute_markdown, export_runs, latest_per_config, read_mlflow,
                   read_run_files, resolve_tracking_uri)
from .table import StudyTable, build_table, load_paper, records_from_runs

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Table I and its leakage controls (without resampling; grouped split; fully grouped split): aggregating any
#: writes leakage.md
LEAKAGE_STUDIES = ("table1", "table1_dedup", "table1_grouped", "table1_grouped_full")


@dataclass
class AggregateResult:
    """What :func:`aggregate_study` produced."""

    table: StudyTable
    outputs: dict[str, Path] = field(default_factory=dict)
    runs: pd.DataFrame | None = None


def collect_runs(tracking_uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT,
                 run_files: Iterable[str | Path] = (), use_store: bool = True,
                 committed: bool = True) -> pd.DataFrame:
    """The current runs (fingerprints matching today's code, :func:`..store.current`), one per config hash:
    the committed store's first (``committed``), then the tracking store's (``use_store``; latest per hash),
    then those of ``run_files``.

    A missing local SQLite store is an error only when nothing else is read.
    """
    from .. import store

    run_files = list(run_files)
    frames = [store.current(store.read())] if committed else []
    if use_store:
        try:
            frames.append(store.current(latest_per_config(read_mlflow(resolve_tracking_uri(tracking_uri), experiment))))
        except RunsError as exc:
            if not run_files and not committed:
                raise
            log.info("%s; using the committed runs%s", exc, " and the --runs files" if run_files else "")
    if run_files:
        frames.append(store.current(latest_per_config(read_run_files(run_files))))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["run_id", "status", "start_time", "end_time", "tags.config_hash"])
    return pd.concat(frames, ignore_index=True).drop_duplicates("tags.config_hash", keep="first").reset_index(drop=True)


def aggregate_study(study: str | Study, runs: pd.DataFrame, out_dir: str | Path | None = "results",
                    conf_dir: str | Path = CONF_DIR, repo_root: str | Path = REPO_ROOT,
                    study_dir: str | Path = STUDY_DIR, extra_overrides: Iterable[str] = (),
                    expected: dict[str, list[dict]] | None = None, pages: bool = True,
                    made_here: set[str] | None = None) -> AggregateResult:
    """Build the table of ``study`` from ``runs``; with ``out_dir`` write md/csv/tex, figures, statistics, a
    user study's run export and (``pages``, for paper and beyond studies) the claims and compute pages.

    ``extra_overrides``: Hydra overrides the runs were made with on top of the study (see ``reproduce``).
    ``expected``: ``{config_hash: [configuration, ...]}`` already composed by the caller (``reproduce``);
    None composes the study's configurations here (:func:`.expected.expected_configs`).
    ``made_here``: the config hashes the calling command ran; a user's study's table says, per column, how many
    runs were reused (committed store, tracking store) and how many made here (:mod:`.origin`).
    """
    if not isinstance(study, Study):
        study = load_study(study, study_dir)
    if expected is None:
        expected = expected_configs(study, conf_dir, list(extra_overrides))
    runs_all = runs
    runs = runs[runs["tags.config_hash"].isin(set(expected))] if len(runs) else runs
    records = records_from_runs(study, runs, expected)
    candidates = records
    if study.selection:  # the table shows selectors, each the candidate it picks (.selection)
        selected, notes = held_out_complete(study, select(study, candidates, runs))
        records = selected[selected["column"] != ORACLE_PER_SEED]  # reported beside the table, not in it
        study = selection_view(study, selected, notes)
    table = build_table(study, records, load_paper(study, Path(repo_root)))
    table.runs_used = candidates["run_id"].nunique() if len(candidates) else 0
    table.runs_unmatched = len(runs_all) - len(runs)
    if study.kind not in ("paper", "beyond") and len(candidates):
        from .origin import run_origins

        table.origins = run_origins(candidates, runs, made_here)
        table.origins_known_new = made_here is not None
    if study.compare and study.rows != "dataset":
        table.stats = study_stats(records, table.rows, table.columns, study.compare.get("baseline"),
                                  study.compare.get("reference"), study.extra_rows,
                                  row_columns=bool(study.selection))
    used = runs[runs["run_id"].isin(set(candidates["run_id"]))] if len(candidates) else runs.iloc[0:0]
    result = AggregateResult(table=table, runs=used)
    if out_dir is not None:
        out_dir = Path(out_dir)
        result.outputs = write_outputs(table, out_dir)
        if study.selection:
            md = result.outputs["md"]
            md.write_text(md.read_text() + "\n" + selection_markdown(study, selected, table.stats.pairwise))
        fig = plot_study(table, out_dir / "figures")
        if fig is not None:
            result.outputs["figure"] = fig
        own = study.kind not in ("paper", "beyond")
        if own:  # a user's study keeps the runs it used beside its table; the paper's are in results/store/
            result.outputs["runs"] = export_runs(used, out_dir / "runs" / f"{study.name}.csv.gz")
        if table.stats is not None:
            path = out_dir / f"{study.name}_stats.md"
            path.write_text(stats_to_markdown(table))
            result.outputs["stats"] = path
            for row, fr in table.stats.friedman.items():
                cd_diagram(fr, f"{study.name}: {row}", out_dir / "figures" / f"{study.name}_cd_{row}.png")
        if pages and not own:  # claims and compute pages are the paper's and this project's
            result.outputs["claims"] = write_claims(out_dir)
            (out_dir / "compute.md").write_text(compute_markdown())
            result.outputs["compute"] = out_dir / "compute.md"
        if study.name in LEAKAGE_STUDIES:  # Table I vs its controls on the small datasets
            found, table1_columns = {study.name: records}, table.columns
            for name in LEAKAGE_STUDIES:
                if name != study.name:
                    other = load_study(name, study_dir)
                    want = expected_configs(other, conf_dir, list(extra_overrides))
                    found[name] = records_from_runs(other, runs_all[runs_all["tags.config_hash"].isin(set(want))], want)
                    if name == "table1":  # the page compares Table I's columns, whichever study is aggregated
                        table1_columns = [c.label for c in other.columns]
            result.outputs["leakage"] = write_leakage(out_dir, found["table1"],
                                                      {k: v for k, v in found.items() if k != "table1"}, table1_columns)
    return result


__all__ = ["AggregateResult", "aggregate_study", "collect_runs", "to_markdown", "StudyTable", "RunsError"]
