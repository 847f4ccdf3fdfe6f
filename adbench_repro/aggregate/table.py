"""From matched runs to table cells: per dataset mean/std over seeds, then the mean over datasets.

Levels of the result (one long DataFrame, see :func:`build_table`):
``dataset`` (one row x column x dataset: mean and std over seeds), ``cell`` (row x column: mean over the
datasets that have runs) and ``average`` (the Average row: mean of the cells of a column over the rows
that have every column, or over the rows present when none has; the spec's ``extra_rows`` left out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..studies import Study

AVERAGE = "Average"
METRIC = "aucroc"
#: the paper's per-row values average a whole dataset family; ours are compared with them only when at least
#: this share of the study's files has runs here (Classical: 43 of 47 locally; CV 21 of 61 and NLP 1 of 13 are not)
MIN_COVERAGE = 0.9


@dataclass
class StudyTable:
    """The aggregated study: long cells, the row/column order, paper values and coverage notes."""

    study: Study
    long: pd.DataFrame                   # level,row,column,dataset,value,std_seeds,sd_of_seed_means,n_seeds,...
    records: pd.DataFrame                # one row per (run, column): row,column,dataset,seed,value,run_id
    rows: list[str]
    columns: list[str]
    missing_datasets: list[str] = field(default_factory=list)
    runs_used: int = 0
    runs_unmatched: int = 0
    stats: object = None                 # aggregate.stats.StudyStats when the spec asks for tests
    average_rows: list[str] = field(default_factory=list)  # rows with every column (what Average averages)
    paper_comparable: bool = True        # False: too few of the family's files here (see MIN_COVERAGE)
    origins: pd.DataFrame | None = None  # a user's study: per column, runs reused / made here (.origin)
    origins_known_new: bool = False      # origins tell the runs this command made from earlier ones

    def value(self, row: str, column: str, level: str = "cell") -> float:
        """The reproduced value of one cell (NaN when missing)."""
        hit = self.long[(self.long["level"] == level) & (self.long["row"] == row) & (self.long["column"] == column)]
        return float(hit["value"].iloc[0]) if len(hit) else float("nan")


def records_from_runs(study: Study, runs: pd.DataFrame, expected: dict[str, list[dict]]) -> pd.DataFrame:
    """One record per (run, column) for the runs whose config hash the study expects."""
    out = []
    datasets = set(study.datasets)
    for run in runs.to_dict("records"):
        h = run.get("tags.config_hash")
        for config in expected.get(h, []):
            if config["dataset"] not in datasets:
                continue
            value = run.get(f"metrics.{METRIC}")
            if value is None or pd.isna(value):
                raise ValueError(f"FINISHED run {run['run_id']} ({run.get('source', '')}) has no {METRIC} metric")
            for col in study.column_for(config):
                out.append({"row": str(config[study.rows]), "column": col.label, "dataset": config["dataset"],
                            "seed": int(config["seed"]), "value": float(value),
                            "run_id": run["run_id"], "config_hash": h})
    cols = ["row", "column", "dataset", "seed", "value", "run_id", "config_hash"]
    df = pd.DataFrame(out, columns=cols)
    clash = df[df.duplicated(["row", "column", "dataset", "seed"], keep=False)]
    if len(clash):
        first = clash.iloc[0]
        raise ValueError(f"study {study.name!r}: configurations {sorted(set(clash['config_hash']))[:4]} all fill "
                         f"cell ({first['row']}, {first['column']}) of {first['dataset']} seed {first['seed']}; "
                         "make the column matches of the spec more specific")
    return df


def load_paper(study: Study, repo_root: Path) -> pd.DataFrame | None:
    """The paper's numbers for ``study`` as (row, column, value), or None when it has none."""
    if not study.paper:
        return None
    path = Path(study.paper)
    path = path if path.is_absolute() else repo_root / path
    df = pd.read_csv(path)
    if study.rows not in df.columns or "column" not in df.columns or "value" not in df.columns:
        raise ValueError(f"{path}: expected columns {study.rows!r}, 'column', 'value' (study {study.name})")
    labels = {c.label for c in study.columns}
    unknown = sorted(set(df["column"]) - labels)
    if unknown:
        raise ValueError(f"{path}: columns {unknown} are not columns of study {study.name!r}")
    return df.rename(columns={study.rows: "row"})[["row", "column", "value"]].astype({"row": str})


def expected_rows(study: Study, paper: pd.DataFrame | None) -> list[str]:
    """Row keys in display order: the spec's rows, in the paper's order where the paper has them."""
    if study.rows == "dataset":
        rows = list(study.datasets)
    else:
        rows = [str(v) for v in dict.fromkeys(v for b in study.sweeps for v in b[study.rows])]
    if paper is None:
        return rows
    in_paper = [r for r in dict.fromkeys(paper["row"]) if r in rows]
    return in_paper + [r for r in rows if r not in in_paper]


def sd_of_seed_means(records: pd.DataFrame, row: str, column: str) -> float:
    """Std (ddof 1) over seeds of the dataset-averaged value of one cell, on the datasets that have every
    seed of the cell (NaN with fewer than 2 seeds): how much the cell moves from one seed to the next."""
    sub = records[(records["row"] == row) & (records["column"] == column)] if len(records) else records
    if sub.empty or sub["seed"].nunique() < 2:
        return np.nan
    m = sub.pivot_table(index="dataset", columns="seed", values="value", aggfunc="mean").dropna(how="any")
    return float(m.mean(axis=0).std(ddof=1)) if len(m) else np.nan


def build_table(study: Study, records: pd.DataFrame, paper: pd.DataFrame | None) -> StudyTable:
    """Aggregate ``records`` into the long table (see the module docstring)."""
    rows = expected_rows(study, paper)
    columns = [c.label for c in study.columns]
    if records.empty:
        per_ds = pd.DataFrame(columns=["row", "column", "dataset", "value", "std_seeds", "n_seeds"])
    else:
        g = records.groupby(["row", "column", "dataset"], sort=False)["value"]
        per_ds = g.agg(value="mean", std_seeds=lambda s: s.std(ddof=1) if len(s) > 1 else np.nan,
                       n_seeds="size").reset_index()
    per_ds["level"] = "dataset"
    per_ds["n_datasets"] = 1

    cells = []
    for r in rows:
        for c in columns:
            sub = per_ds[(per_ds["row"] == r) & (per_ds["column"] == c)]
            if len(sub):
                cells.append({"level": "cell", "row": r, "column": c, "dataset": "", "value": sub["value"].mean(),
                              "std_seeds": sub["std_seeds"].mean() if sub["std_seeds"].notna().any() else np.nan,
                              "sd_of_seed_means": sd_of_seed_means(records, r, c),
                              "n_seeds": int(sub["n_seeds"].max()), "n_datasets": len(sub)})
            else:
                cells.append({"level": "cell", "row": r, "column": c, "dataset": "", "value": np.nan,
                              "std_seeds": np.nan, "sd_of_seed_means": np.nan, "n_seeds": 0, "n_datasets": 0})
    cells = pd.DataFrame(cells)
    # the Average row averages the rows that have every column, so that all its cells average the same
    # detectors (as the paper's); without any such row, each column averages the rows it has (flagged)
    main = cells[~cells["row"].isin(study.extra_rows)]
    complete = [r for r in rows if r not in study.extra_rows and main[main["row"] == r]["value"].notna().all()]
    avgs, avg_rows = [], {}
    for c in columns:
        sub = main[(main["column"] == c) & main["value"].notna()]
        if complete:
            sub = sub[sub["row"].isin(complete)]
        avg_rows[c] = list(sub["row"])
        avgs.append({"level": "average", "row": AVERAGE, "column": c, "dataset": "",
                     "value": sub["value"].mean() if len(sub) else np.nan, "std_seeds": np.nan,
                     "n_seeds": int(sub["n_seeds"].max()) if len(sub) else 0,
                     "n_datasets": int(sub["n_datasets"].max()) if len(sub) else 0,
                     "n_rows": len(sub)})
    long = pd.concat([pd.DataFrame(avgs), cells, per_ds], ignore_index=True)
    long["n_rows"] = long.get("n_rows")
    if paper is not None:
        # like for like: the paper's Average is the mean of the paper's cells over the rows (detectors, or
        # datasets in Table VII) that our Average averages, not the paper's printed average over all its rows
        paper = paper[paper["row"] != AVERAGE]
        lookup = paper.set_index(["row", "column"])["value"]
        like = [{"row": AVERAGE, "column": c,
                 "value": float(np.mean([lookup[(r, c)] for r in avg_rows[c]]))
                 if avg_rows[c] and all((r, c) in lookup.index for r in avg_rows[c]) else np.nan}
                for c in columns]
        paper = pd.concat([paper, pd.DataFrame(like)], ignore_index=True)
        long = long.merge(paper.rename(columns={"value": "paper"}), on=["row", "column"], how="left")
        long.loc[long["level"] == "dataset", "paper"] = np.nan
    else:
        long["paper"] = np.nan
    present = set(records["dataset"]) if len(records) else set()
    comparable = study.rows == "dataset" or len(present) >= MIN_COVERAGE * len(study.datasets)
    long["diff"] = long["value"] - long["paper"] if comparable else np.nan
    order = ["level", "row", "column", "dataset", "value", "std_seeds", "sd_of_seed_means", "n_seeds", "n_datasets",
             "n_rows", "paper", "diff"]
    long = long[order]
    return StudyTable(study=study, long=long, records=records, rows=rows, columns=columns, average_rows=complete,
                      paper_comparable=comparable,
                      missing_datasets=[d for d in study.datasets if d not in present],
                      runs_used=records["run_id"].nunique() if len(records) else 0)
