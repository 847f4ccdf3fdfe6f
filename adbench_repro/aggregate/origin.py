"""Where a study's runs come from, column by column: reused from the committed store (``results/store/``) or the
tracking store, or made by the command that wrote the table; with the commits they were made at.

A user's study (``kind`` not ``paper``/``beyond``) states it under its table (:func:`origin_lines`), so that a
reader sees which cells are the project's committed runs and which were made on this machine.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

#: the ``source`` of a run read from the committed store (:func:`adbench_repro.store.read`)
COMMITTED = "results/store"
#: origin labels, in the order they are shown
ORIGINS = {"committed": "reused from the committed store (results/store/)",
           "tracking": "reused from the tracking store",
           "new": "made by this command",
           "files": "from --runs files"}


def short_commit(commit) -> str:
    """``9f2fd59757a3`` -> ``9f2fd59``; ``38cb33c0fdd5-dirty`` -> ``38cb33c (dirty)``; missing -> ``unknown``."""
    text = str(commit) if commit is not None and not pd.isna(commit) else "unknown"
    dirty = text.endswith("-dirty")
    base = text[: -len("-dirty")] if dirty else text
    base = base if base == "unknown" else base[:7]
    return f"{base} (dirty)" if dirty else base


def run_origins(records: pd.DataFrame, runs: pd.DataFrame, made_here: set[str] | None = None) -> pd.DataFrame:
    """Per column of ``records`` (one row per run and column, with ``run_id``): how many runs each origin gave
    and their commits. ``runs`` carries ``source`` (the committed store, a tracking URI or a file) and
    ``tags.git_commit``; ``made_here``: the config hashes the calling command ran (None: not known, every
    tracking-store run counts as reused). Columns: ``column``, ``runs``, one count per :data:`ORIGINS` key,
    ``commits`` (``"9f2fd59 x12, 38cb33c (dirty) x3"``). (The table names no store path, so that the same runs
    read from a copied store give the same page.)"""
    keep = ["run_id", "source", "tags.config_hash", "tags.git_commit"]
    info = runs.reindex(columns=keep).drop_duplicates("run_id")
    rows = records[["column", "run_id"]].drop_duplicates().merge(info, on="run_id", how="left")
    run_files = set()
    if "source" in runs.columns:
        run_files = {s for s in runs["source"].dropna().unique() if str(s).endswith((".csv", ".csv.gz"))}

    def origin(r) -> str:
        if r["source"] == COMMITTED:
            return "committed"
        if r["source"] in run_files:
            return "files"
        return "new" if made_here is not None and r["tags.config_hash"] in made_here else "tracking"

    rows["origin"] = rows.apply(origin, axis=1) if len(rows) else pd.Series(dtype=str)
    out = []
    for column in dict.fromkeys(records["column"]):
        mine = rows[rows["column"] == column]
        counts = Counter(mine["origin"])
        commits = Counter(short_commit(c) for c in mine["tags.git_commit"])
        out.append({"column": column, "runs": len(mine), **{k: counts.get(k, 0) for k in ORIGINS},
                    "commits": ", ".join(f"{c} x{n}" for c, n in sorted(commits.items(), key=lambda x: (-x[1], x[0])))})
    return pd.DataFrame(out, columns=["column", "runs", *ORIGINS, "commits"])


def origin_lines(origins: pd.DataFrame, known_new: bool) -> list[str]:
    """The Markdown section under a user study's table: one line per column (``known_new``: the command that
    wrote it said which runs it made, else runs of the tracking store are not told apart)."""
    shown = [k for k in ORIGINS if k in ("committed", "tracking") or (k == "new" and known_new) or origins[k].sum()]
    head = ["column", "runs", *[ORIGINS[k] for k in shown], "commits (short hash; dirty: uncommitted changes)"]
    lines = ["## Where the runs come from", "",
             "Per column: runs reused from the committed store or an earlier sweep in the tracking store, and runs "
             "made by the command that wrote this table" + ("" if known_new else " (not told apart here: "
             "written by `python -m adbench_repro.aggregate`, which runs nothing)") + ".", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in origins.to_dict("records"):
        lines.append("| " + " | ".join([str(r["column"]), str(r["runs"]), *[str(r[k]) for k in shown],
                                        r["commits"] or "—"]) + " |")
    return lines
