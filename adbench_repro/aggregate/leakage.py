"""``results/leakage.md``: do test rows seen in training move the paper's results?

The audit of :mod:`adbench_repro.datasets.audit`; then Table I (ADBench's split) against two controls on the
12 small datasets that ADBench resamples: ``table1_grouped`` (the same resampled data, every copy of a source
row on one side of the split: only the leakage goes) and ``table1_dedup`` (no resampling: the leakage and
most of the data go). Every test treats a dataset as one block: AUCROC is averaged over the seeds (and, for
"all detectors", over the detectors) within a dataset first, then compared over the datasets by the paired
Wilcoxon signed-rank test, Holm-corrected per family. Last, the natural duplicates of the large datasets.
Written from the runs whenever ``table1``, ``table1_dedup`` or ``table1_grouped`` is aggregated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets.loader import resolve_data_root
from .stats import ALPHA, holm, min_wilcoxon_p, wilcoxon_holm

BASELINE, REFERENCE = "Baseline", "NNG-Mix"
KEYS = ["row", "column", "dataset", "seed"]
ALL = "all detectors"
#: the controls, in report order: (study, what it changes)
CONTROLS = {
    "table1_grouped": "grouped split (`protocol.split=grouped`): the same resampled 1000 rows and labeled counts, "
                      "every copy of a source row on one side; only the train/test copies go",
    "table1_dedup": "no resampling (`protocol.duplicate_small=false`): the copies go, and with them most of the "
                    "data (train ~705 rows → 56-537, test 300 → 24-231)",
}
#: a large dataset is listed under natural duplicates when at least this share of its test rows is seen
NATURAL_MIN = 0.01


def _paired(a: pd.Series, b: pd.Series) -> dict:
    """Block-paired comparison of two per-dataset series (b - a): n, mean difference, W/T/L and Wilcoxon p."""
    m = pd.concat({"b": b, "a": a}, axis=1).dropna()
    if len(m) < 2:
        return {"n": len(m), "mean_diff": np.nan, "wins": 0, "ties": 0, "losses": 0, "p": np.nan}
    line = wilcoxon_holm(m, [("b", "a")], rope=None).iloc[0]
    return {k: line[k] for k in ("n", "mean_diff", "wins", "ties", "losses", "p")}


def _per_dataset(both: pd.DataFrame, side: str, row: str | None, column: str) -> pd.Series:
    """Per dataset, the value of ``side`` averaged over seeds (and over detectors when ``row`` is None)."""
    sub = both[both["column"] == column] if row is None else both[(both["row"] == row) & (both["column"] == column)]
    return sub.groupby(["dataset", "row"])[side].mean().groupby("dataset").mean()


def _fmt_p(p: float) -> str:
    return "—" if pd.isna(p) else f"{p:.2g}"


def control_section(table1: pd.DataFrame, control: pd.DataFrame, name: str, what: str, columns: list[str]) -> list[str]:
    """The comparison of Table I (ADBench's split) with one control, on their common runs' settings."""
    both = table1[KEYS + ["value"]].merge(control[KEYS + ["value"]], on=KEYS, suffixes=("_adb", "_ctl"))
    lines = [f"## Table I vs `{name}`: {what}", ""]
    if both.empty:
        return lines + [f"No common runs yet (`make reproduce-{name}`).", ""]
    rows = list(dict.fromkeys(both["row"]))
    datasets = sorted(set(both["dataset"]))
    seeds = both.groupby("row")["seed"].nunique()
    lines += [f"{len(datasets)} datasets; seeds per detector: "
              + ", ".join(f"{r} {seeds[r]} ({sorted(set(both.loc[both['row'] == r, 'seed']))})" for r in rows)
              + ". Only the (detector, column, dataset, seed) present on both sides are compared.", "",
              "Mean AUCROC over the datasets (seed-averaged), ADBench's split → control, and the block-paired "
              "test of control − ADBench (one block per dataset; Holm over the cells of this table):", "",
              "| detector | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    cells, tests = {}, []
    for r in [*rows, ALL]:
        for c in columns:
            a = _per_dataset(both, "value_adb", None if r == ALL else r, c)
            b = _per_dataset(both, "value_ctl", None if r == ALL else r, c)
            t = _paired(a, b)
            cells[r, c] = (a.mean() if len(a) else np.nan, b.mean() if len(b) else np.nan, t)
            tests.append((r, c))
    ps = np.array([cells[k][2]["p"] for k in tests], dtype=float)
    adj = np.full(len(ps), np.nan)
    ok = ~np.isnan(ps)
    if ok.any():
        adj[ok] = holm(ps[ok])
    for k, p in zip(tests, adj):
        cells[k][2]["p_holm"] = p
    for r in [*rows, ALL]:
        out = []
        for c in columns:
            a, b, t = cells[r, c]
            if pd.isna(a) or pd.isna(b):
                out.append("—")
                continue
            star = "*" if not pd.isna(t["p_holm"]) and t["p_holm"] < ALPHA else ""
            out.append(f"{a:.3f} → {b:.3f} ({b - a:+.3f}{star}, p {_fmt_p(t['p_holm'])})")
        lines.append(f"| {r} | " + " | ".join(out) + " |")
    n_min = len(datasets)
    lines += ["", f"(* Holm p < {ALPHA}. With {n_min} datasets the smallest attainable two-sided p of the exact "
              f"Wilcoxon test is {min_wilcoxon_p(n_min):.2g}.)", ""]

    # does NNG-Mix's gain over the baseline differ between the two splits?
    lines += [f"NNG-Mix's gain over the baseline (NNG-Mix − Baseline, per dataset, seed-averaged), ADBench's split "
              f"vs `{name}`, block-paired over the datasets (Holm over the lines):", "",
              "| detector | datasets | gain, ADBench split | gain, control | control − ADBench | W/T/L | Holm p |",
              "|---|---|---|---|---|---|---|"]
    gl = []
    for r in [*rows, ALL]:
        rr = None if r == ALL else r
        g_adb = _per_dataset(both, "value_adb", rr, REFERENCE) - _per_dataset(both, "value_adb", rr, BASELINE)
        g_ctl = _per_dataset(both, "value_ctl", rr, REFERENCE) - _per_dataset(both, "value_ctl", rr, BASELINE)
        gl.append((r, g_adb.dropna(), g_ctl.dropna(), _paired(g_adb, g_ctl)))
    ps = np.array([t["p"] for *_, t in gl], dtype=float)
    adj = np.full(len(ps), np.nan)
    if (~np.isnan(ps)).any():
        adj[~np.isnan(ps)] = holm(ps[~np.isnan(ps)])
    for (r, ga, gc, t), p in zip(gl, adj):
        if t["n"] == 0:
            lines.append(f"| {r} | 0 | — | — | — | — | — |")
            continue
        lines.append(f"| {r} | {t['n']} | {ga.mean():+.3f} | {gc.mean():+.3f} | {t['mean_diff']:+.3f} "
                     f"| {t['wins']}/{t['ties']}/{t['losses']} | {_fmt_p(p)} |")
    overall = gl[-1]
    lines += ["", f"**`{name}`.** Over all detectors, AUCROC moves by "
              f"{np.nanmean([cells[ALL, c][1] - cells[ALL, c][0] for c in columns]):+.3f} on average over the "
              f"columns; NNG-Mix's gain over the baseline is {overall[1].mean():+.3f} with ADBench's split and "
              f"{overall[2].mean():+.3f} with the control (Holm p {_fmt_p(adj[-1])}: "
              f"{'a significant' if not np.isnan(adj[-1]) and adj[-1] < ALPHA else 'no significant'} change).", ""]
    return lines


def natural_duplicates_section(audit_rows, table1: pd.DataFrame) -> list[str]:
    """Large datasets whose files repeat rows across train and test, and whether leaving them out moves
    Table I's per-detector NNG-Mix vs Baseline test."""
    from ..studies import available_studies, load_study

    nat = sorted([r for r in audit_rows if not r.duplicated and r.seen_with >= NATURAL_MIN], key=lambda r: -r.seen_with)
    lines = ["## Natural duplicates in the datasets that are not resampled", ""]
    if not nat:
        return lines + ["None above 1 % of the test rows.", ""]
    studies = {}
    for s in available_studies():
        try:
            studies[s] = set(load_study(s).datasets)
        except Exception:  # noqa: BLE001 - a broken spec is reported by its own study
            continue
    lines += [f"Without any resampling, these files repeat rows, and the copies fall on both sides of the split "
              f"(share of test rows with an exact copy in the detector's training rows, seed 0, at least "
              f"{NATURAL_MIN:.0%}):", "",
              "| dataset | rows | test rows seen | repeated rows in the file | studies using it |", "|---|---|---|---|---|"]
    for r in nat:
        used = [s for s, ds in studies.items() if r.dataset in ds]
        lines.append(f"| {r.dataset} | {r.rows} | {r.seen_with:.1%} | {r.self_duplicates:.1%} | {', '.join(used) or '—'} |")
    heavy = [r.dataset for r in nat if r.seen_with >= 0.1]
    lines += ["", "Each is one of the Classical datasets, so it weighs 1/43 in a Table I average and one block of 43 "
              "in the paired tests. Removing the duplicates needs a rerun; its largest possible effect on a verdict is "
              f"bounded by leaving those datasets out altogether. With the {len(heavy)} datasets over 10 % "
              f"({', '.join(heavy)}) left out of Table I (NNG-Mix − Baseline, per detector, seed-averaged, "
              "block-paired Wilcoxon, uncorrected):", "",
              "| detector | all datasets: n, gain, p | without them: n, gain, p | same verdict at 0.05 |", "|---|---|---|---|"]
    if table1.empty:
        return lines + ["", "(no Table I runs)", ""]
    for r in dict.fromkeys(table1["row"]):
        sub = table1[table1["row"] == r]
        m = sub.groupby(["dataset", "column"])["value"].mean().unstack("column")
        if BASELINE not in m or REFERENCE not in m:
            continue
        m = m[[REFERENCE, BASELINE]].dropna()
        t_all = _paired(m[BASELINE], m[REFERENCE])
        keep = m[~m.index.isin(heavy)]
        t_out = _paired(keep[BASELINE], keep[REFERENCE])
        same = (t_all["p"] < ALPHA) == (t_out["p"] < ALPHA) and np.sign(t_all["mean_diff"]) == np.sign(t_out["mean_diff"])
        lines.append(f"| {r} | {t_all['n']}, {t_all['mean_diff']:+.3f}, {_fmt_p(t_all['p'])} | {t_out['n']}, "
                     f"{t_out['mean_diff']:+.3f}, {_fmt_p(t_out['p'])} | {'yes' if same else '**no**'} |")
    return lines + [""]


def leakage_markdown(table1: pd.DataFrame, controls: dict[str, pd.DataFrame], columns: list[str],
                     data_root=None) -> str:
    """The leakage report. ``table1``: the records (row, column, dataset, seed, value) of Table I (ADBench's
    split); ``controls``: those of ``table1_grouped`` / ``table1_dedup`` (either may be empty)."""
    from ..datasets.audit import audit, audit_markdown

    lines = ["# Leakage audit: test rows the detector saw in training", "",
             "Generated by `python -m adbench_repro.aggregate table1_grouped` (or `table1`, `table1_dedup`); do not edit.",
             "", "ADBench resamples every dataset of fewer than 1000 rows *with replacement* to 1000 rows before the "
             "70/30 split (`protocol.duplicate_small=true`, the default, as in the paper), so copies of a row land "
             "in both training and test. `python -m adbench_repro.datasets --audit`:", ""]
    audit_rows = []
    try:
        audit_rows, pairs = audit(resolve_data_root(data_root))
        lines.append(audit_markdown(audit_rows, pairs))
    except Exception as exc:  # noqa: BLE001 - the data may be absent where tables are rebuilt from exports
        lines += [f"(audit not available: {exc})", ""]
    for name, what in CONTROLS.items():
        lines += control_section(table1, controls.get(name, pd.DataFrame(columns=KEYS + ["value"])), name, what, columns)
    lines += natural_duplicates_section(audit_rows, table1)
    return "\n".join(lines).rstrip() + "\n"


def write_leakage(out_dir: str | Path, table1: pd.DataFrame, controls: dict[str, pd.DataFrame], columns: list[str],
                  data_root=None) -> Path:
    """Write ``<out_dir>/leakage.md``; returns its path."""
    path = Path(out_dir) / "leakage.md"
    path.write_text(leakage_markdown(table1, controls, columns, data_root))
    return path
