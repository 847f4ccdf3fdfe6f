"""``results/leakage.md``: do test rows seen in training move the paper's results?

The audit of :mod:`adbench_repro.datasets.audit`; then Table I (ADBench's split) against two controls on the
12 small datasets that ADBench resamples: ``table1_grouped`` (the same resampled data, every copy of a source
row on one side of the split: only the leakage goes) and ``table1_dedup`` (no resampling: the leakage and
most of the data go). Every test treats a dataset as one block: AUCROC is averaged over the seeds (and, for
"all detectors", over the detectors) within a dataset first, then compared over the datasets by the paired
Wilcoxon signed-rank test, Holm-corrected per family. Only the (detector, column) cells that have every seed
of the control's study on both sides, on every dataset, are compared (:func:`complete_cells`). Whether
NNG-Mix's gain over the baseline *stays the same* under a control is an equivalence question, tested with
both the Bayesian signed-rank test (ROPE ±:data:`EQUIV_MARGIN`) and TOST (paired t, ±:data:`EQUIV_MARGIN`)
over the datasets (:func:`gain_equivalence`); non-significance alone is never read as "unchanged". Then the
natural duplicates of the large datasets, the files' identical and label-conflicting rows, and the fully grouped
split (``table1_grouped_full``, ``protocol.split=grouped_identical``): does any of Table I's NNG-Mix vs Baseline
verdicts change?
Written from the runs whenever ``table1``, ``table1_dedup``, ``table1_grouped`` or ``table1_grouped_full`` is
aggregated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets.loader import resolve_data_root
from .stats import ALPHA, ROPE, bayes_signed_rank, holm, mc_side, mean_interval, min_wilcoxon_p, wilcoxon_holm

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
#: the fully grouped protocol's study (protocol.split=grouped_identical; every Classical dataset)
FULL = "table1_grouped_full"
#: the margin within which a change of NNG-Mix's gain counts as none (AUCROC; the project's ROPE)
EQUIV_MARGIN = ROPE
#: posterior probability that decides an equivalence (or a difference beyond the margin)
P_EQUIV = 0.95
#: seeded posterior draws of the Bayesian signed-rank test of the gain change (baycomp's default)
EQUIV_SAMPLES = 50_000
#: the words of an equivalence decision
EQUIVALENT, NOT_EQUIVALENT, UNDECIDED = "equivalent", "not equivalent", "undecided"


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


def tost_p(d: "np.ndarray | pd.Series", margin: float = EQUIV_MARGIN) -> float:
    """p-value of the two one-sided paired t-tests (TOST, Schuirmann 1987) that the mean of the paired
    differences ``d`` lies within ``(-margin, margin)``: the larger of the one-sided p-values of
    H0: mean <= -margin and H0: mean >= margin (n - 1 degrees of freedom). Small p: equivalent. NaN for fewer
    than 2 values; with every difference equal, 0 inside the margin and 1 outside."""
    from scipy.stats import t

    d = np.asarray(d, dtype=float)
    d = d[~np.isnan(d)]
    if len(d) < 2:
        return float("nan")
    m, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))
    if se == 0:
        return 0.0 if abs(m) < margin else 1.0
    p_low = float(t.sf((m + margin) / se, len(d) - 1))   # H0: mean <= -margin
    p_high = float(t.cdf((m - margin) / se, len(d) - 1))  # H0: mean >= +margin
    return max(p_low, p_high)


def gain_equivalence(g_adb: pd.Series, g_ctl: pd.Series, margin: float = EQUIV_MARGIN, seed: int = 0,
                     nsamples: int = EQUIV_SAMPLES) -> dict:
    """Is the change of a per-dataset gain (``g_ctl - g_adb``, paired by dataset) within ±``margin``?

    Two tests over the datasets: the Bayesian signed-rank test (:func:`.stats.bayes_signed_rank`, ROPE
    ±``margin``, ``nsamples`` seeded draws) and TOST (:func:`tost_p`, paired t). ``decision``:

    * :data:`EQUIVALENT` when both show it: P(within ±margin) >= :data:`P_EQUIV` beyond its Monte Carlo error
      (:func:`.stats.mc_side`) and TOST p < ALPHA;
    * :data:`NOT_EQUIVALENT` when the change is shown to exceed the margin: the whole 90 % Student-t interval
      of the mean change beyond ±margin (TOST's dual at ALPHA), or P(beyond the margin on one side) >=
      :data:`P_EQUIV` beyond its Monte Carlo error;
    * :data:`UNDECIDED` otherwise (including when the two equivalence tests disagree).

    Returns ``n, mean_change, ci90_low, ci90_high, p_lower, p_equivalent, p_higher`` (P(change < -margin),
    P(within), P(change > margin)), ``tost_p``, ``decision``."""
    m = pd.concat({"adb": g_adb, "ctl": g_ctl}, axis=1).dropna()
    d = (m["ctl"] - m["adb"]).to_numpy()
    out = {"n": len(d), "mean_change": float(d.mean()) if len(d) else np.nan}
    out["ci90_low"], out["ci90_high"] = mean_interval(d, 1 - 2 * ALPHA)
    bayes = bayes_signed_rank(m["adb"].to_numpy(), m["ctl"].to_numpy(), margin, seed, nsamples)
    out.update(p_lower=bayes["p_better"], p_equivalent=bayes["p_equivalent"], p_higher=bayes["p_worse"],
               tost_p=tost_p(d, margin), nsamples=nsamples)
    eq_bayes = mc_side(out["p_equivalent"], P_EQUIV, nsamples) > 0
    eq_tost = out["tost_p"] == out["tost_p"] and out["tost_p"] < ALPHA
    beyond = (out["ci90_low"] > margin or out["ci90_high"] < -margin
              or mc_side(out["p_lower"], P_EQUIV, nsamples) > 0 or mc_side(out["p_higher"], P_EQUIV, nsamples) > 0)
    out["decision"] = EQUIVALENT if eq_bayes and eq_tost else NOT_EQUIVALENT if beyond else UNDECIDED
    return out


def equivalence_words(e: dict, margin: float = EQUIV_MARGIN) -> str:
    """What an equivalence result shows, in words."""
    if e["n"] < 2:
        return "not tested (fewer than 2 datasets)"
    stats = (f"P(within ±{margin}) {e['p_equivalent']:.3f}, TOST p {_fmt_p(e['tost_p'])}, "
             f"90% CI of the change [{e['ci90_low']:+.3f}, {e['ci90_high']:+.3f}]")
    if e["decision"] == EQUIVALENT:
        return f"equivalent: the change is shown to lie within ±{margin} by both tests ({stats})"
    if e["decision"] == NOT_EQUIVALENT:
        return f"not equivalent: the gain is shown to change by more than {margin} ({stats})"
    return (f"undecided: neither a change within ±{margin} nor one beyond it is shown, so the gain is not shown "
            f"unchanged ({stats})")


def complete_cells(both: pd.DataFrame, seeds: list[int] | None, datasets: list[str] | None = None) -> pd.DataFrame:
    """``(row, column, seeds, complete)`` per cell of ``both`` (records present on both sides): a cell is
    complete when every dataset (``datasets``, default those of ``both``) has every one of ``seeds``
    (default: the seeds present anywhere in ``both``)."""
    seeds = sorted(set(both["seed"])) if seeds is None else sorted(set(seeds))
    datasets = sorted(set(both["dataset"])) if datasets is None else sorted(set(datasets))
    want = {(d, s) for d in datasets for s in seeds}
    out = []
    for (r, c), g in both.groupby(["row", "column"], sort=False):
        have = set(zip(g["dataset"], g["seed"]))
        per_ds = g.groupby("dataset")["seed"].nunique()
        out.append({"row": r, "column": c, "seeds": int(per_ds.min()) if len(per_ds) else 0,
                    "complete": want <= have})
    return pd.DataFrame(out, columns=["row", "column", "seeds", "complete"])


def control_section(table1: pd.DataFrame, control: pd.DataFrame, name: str, what: str, columns: list[str],
                    seeds: list[int] | None = None, datasets: list[str] | None = None) -> list[str]:
    """The comparison of Table I (ADBench's split) with one control, on their common runs' settings: only the
    (detector, column) cells with every one of ``seeds`` (the control study's; default: every seed present) on
    both sides, on every one of ``datasets`` (default: those present on both sides)."""
    both = table1[KEYS + ["value"]].merge(control[KEYS + ["value"]], on=KEYS, suffixes=("_adb", "_ctl"))
    lines = [f"## Table I vs `{name}`: {what}", ""]
    if both.empty:
        return lines + [f"No common runs yet (`make reproduce-{name}`).", ""]
    cells = complete_cells(both, seeds, datasets)
    want_seeds = sorted(set(both["seed"])) if seeds is None else sorted(set(seeds))
    full = cells[cells["complete"]]
    partial = cells[~cells["complete"]]
    rows = list(dict.fromkeys(both["row"]))
    datasets = sorted(set(both["dataset"])) if datasets is None else sorted(set(datasets))
    lines += [f"{len(datasets)} datasets. A (detector, column) cell is compared only when it has every seed of "
              f"`{name}` ({', '.join(map(str, want_seeds))}) on both sides, on every dataset: "
              f"{len(full)} of {len(cells)} cells with common runs."]
    if len(partial):
        lines[-1] += (" Left out until their runs are in (fewest common seeds on a dataset): "
                      + ", ".join(f"{r} {c} ({k})" for r, c, k in partial[["row", "column", "seeds"]].itertuples(index=False))
                      + ".")
    keep = set(zip(full["row"], full["column"]))
    both = both[[(r, c) in keep for r, c in zip(both["row"], both["column"])]]
    lines += ["", "Mean AUCROC over the datasets (seed-averaged), ADBench's split → control, and the block-paired "
              "test of control − ADBench (one block per dataset; Holm over the cells of this table; \"all "
              "detectors\" averages the detectors whose cell is complete):", "",
              "| detector | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    cell, tests = {}, []
    for r in [*rows, ALL]:
        for c in columns:
            a = _per_dataset(both, "value_adb", None if r == ALL else r, c)
            b = _per_dataset(both, "value_ctl", None if r == ALL else r, c)
            t = _paired(a, b)
            cell[r, c] = (a.mean() if len(a) else np.nan, b.mean() if len(b) else np.nan, t)
            tests.append((r, c))
    ps = np.array([cell[k][2]["p"] for k in tests], dtype=float)
    adj = np.full(len(ps), np.nan)
    ok = ~np.isnan(ps)
    if ok.any():
        adj[ok] = holm(ps[ok])
    for k, p in zip(tests, adj):
        cell[k][2]["p_holm"] = p
    for r in [*rows, ALL]:
        out = []
        for c in columns:
            a, b, t = cell[r, c]
            if pd.isna(a) or pd.isna(b):
                out.append("—")
                continue
            star = "*" if not pd.isna(t["p_holm"]) and t["p_holm"] < ALPHA else ""
            out.append(f"{a:.3f} → {b:.3f} ({b - a:+.3f}{star}, p {_fmt_p(t['p_holm'])})")
        lines.append(f"| {r} | " + " | ".join(out) + " |")
    n_min = len(datasets)
    lines += ["", f"(* Holm p < {ALPHA}. With {n_min} datasets the smallest attainable two-sided p of the exact "
              f"Wilcoxon test is {min_wilcoxon_p(n_min):.2g}. — : no complete cell.)", ""]

    # does NNG-Mix's gain over the baseline stay the same under the control? an equivalence question
    lines += [f"NNG-Mix's gain over the baseline (NNG-Mix − Baseline, per dataset, seed-averaged), ADBench's split "
              f"vs `{name}`, paired over the datasets: the Wilcoxon test of a change (Holm over the lines), and "
              f"whether the change is within ±{EQUIV_MARGIN} (Bayesian signed-rank, ROPE ±{EQUIV_MARGIN}, "
              f"{EQUIV_SAMPLES:,} seeded draws: P(change below / within / above); TOST, paired t, ±{EQUIV_MARGIN}). "
              f"Equivalent: P(within) ≥ {P_EQUIV} and TOST p < {ALPHA}; not equivalent: the 90 % interval of the "
              f"mean change wholly beyond ±{EQUIV_MARGIN}, or P(below) or P(above) ≥ {P_EQUIV}; else undecided "
              "(a probability within 3 Monte Carlo standard errors of its cut decides nothing):", "",
              "| detector | datasets | gain, ADBench split | gain, control | control − ADBench | 90% CI | W/T/L "
              "| Holm p | P(below / within / above) | TOST p | shown |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    gl = []
    gain_rows = [r for r in rows if (r, BASELINE) in keep and (r, REFERENCE) in keep]
    gain_both = both[both["row"].isin(gain_rows)]  # "all detectors": those with both cells complete
    for r in [*rows, ALL]:
        rr = None if r == ALL else r
        g_adb = _per_dataset(gain_both, "value_adb", rr, REFERENCE) - _per_dataset(gain_both, "value_adb", rr, BASELINE)
        g_ctl = _per_dataset(gain_both, "value_ctl", rr, REFERENCE) - _per_dataset(gain_both, "value_ctl", rr, BASELINE)
        g_adb, g_ctl = g_adb.dropna(), g_ctl.dropna()
        gl.append((r, g_adb, g_ctl, _paired(g_adb, g_ctl), gain_equivalence(g_adb, g_ctl)))
    ps = np.array([t["p"] for *_, t, _e in gl], dtype=float)
    adj = np.full(len(ps), np.nan)
    if (~np.isnan(ps)).any():
        adj[~np.isnan(ps)] = holm(ps[~np.isnan(ps)])
    for (r, ga, gc, t, e), p in zip(gl, adj):
        if t["n"] == 0:
            lines.append(f"| {r} | 0 | — | — | — | — | — | — | — | — | not run |")
            continue
        lines.append(f"| {r} | {t['n']} | {ga.mean():+.3f} | {gc.mean():+.3f} | {t['mean_diff']:+.3f} "
                     f"| [{e['ci90_low']:+.3f}, {e['ci90_high']:+.3f}] | {t['wins']}/{t['ties']}/{t['losses']} "
                     f"| {_fmt_p(p)} | {e['p_lower']:.3f} / {e['p_equivalent']:.3f} / {e['p_higher']:.3f} "
                     f"| {_fmt_p(e['tost_p'])} | {e['decision']} |")
    _, ga, gc, t, e = gl[-1]
    moved = [cell[ALL, c][1] - cell[ALL, c][0] for c in columns if not pd.isna(cell[ALL, c][0])]
    summary = f"**`{name}`.** "
    if moved:
        summary += (f"Over the complete cells of all detectors, AUCROC moves by {np.mean(moved):+.3f} on average "
                    f"over the {len(moved)} columns. ")
    if t["n"]:
        summary += (f"NNG-Mix's gain over the baseline is {ga.mean():+.3f} with ADBench's split and {gc.mean():+.3f} "
                    f"with the control ({t['n']} datasets; Wilcoxon Holm p {_fmt_p(adj[-1])}: "
                    f"{'a significant' if not np.isnan(adj[-1]) and adj[-1] < ALPHA else 'no significant'} change). "
                    f"Is the gain unchanged (within ±{EQUIV_MARGIN})? {equivalence_words(e)}.")
    else:
        summary += "NNG-Mix's gain is not compared yet: Baseline and NNG-Mix need every seed on both sides."
    return lines + ["", summary, ""]


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


def identical_rows_section(audit_rows) -> list[str]:
    """The files' identical rows, the label-conflicting ones among them, and what the fully grouped split
    (``protocol.split=grouped_identical``) does with them (seed 0, Table I's 1 %)."""
    lines = ["## Identical rows and label conflicts: the fully grouped split", "",
             "`protocol.split=grouped_identical` puts every set of identical rows on one side of the split: the "
             "copies made by the resampling and the files' own repeated rows (natural duplicates), whatever their "
             "labels. Per file: the values repeated, the groups of identical rows that carry both labels "
             "(label-conflicting duplicates: the same features labeled normal and anomaly), and, at seed 0 and "
             "Table I's 1 %, the share of test rows with an identical row among the rows the detector trains "
             "on, the test anomalies and the kept labeled anomalies, ADBench's split → the fully grouped one "
             "(the test size is always ADBench's; docs/protocol.md says how the counts are kept).", ""]
    rep = sorted([r for r in audit_rows if r.identical_groups > 0 or r.duplicated],
                 key=lambda r: (-r.conflict_rows, -r.identical_rows, r.dataset))
    if not rep:
        return lines + ["(audit not available, or no file repeats a row)", ""]
    lines += ["| dataset | rows | repeated values (rows in them) | label-conflicting groups (rows in them) "
              "| test rows seen | test anomalies | labeled anomalies |", "|---|---|---|---|---|---|---|"]
    for r in rep:
        conflict = f"**{r.conflict_groups}** ({r.conflict_rows})" if r.conflict_groups else "0"
        lines.append(f"| {r.dataset} | {r.rows} | {r.identical_groups} ({r.identical_rows}) | {conflict} "
                     f"| {r.seen_with:.1%} → {r.seen_identical:.1%} | {r.test_anomalies[0]} → {r.test_anomalies[1]} "
                     f"| {r.labeled[0]} → {r.labeled[1]} |")
    conflicted = [r.dataset for r in rep if r.conflict_groups]
    moved = [f"{r.dataset} ({r.test_anomalies[0]} → {r.test_anomalies[1]})" for r in rep
             if r.test_anomalies[0] != r.test_anomalies[1]]
    lines += ["", f"Files with label-conflicting duplicates: {', '.join(conflicted) or 'none'}. Test anomaly counts "
              f"that the grouping cannot keep: {', '.join(moved) or 'none'} (the anomalies' identical rows cannot "
              "make up ADBench's count; the nearest count is taken). The resampled datasets (resampled to 1000) "
              "are listed whether or not their file repeats a row.", ""]
    return lines


def _nng_vs_baseline(records: pd.DataFrame, rows: list[str]) -> dict[str, dict]:
    """Per detector: NNG-Mix vs Baseline over the datasets (seed-averaged), Wilcoxon, Holm over ``rows``."""
    out, ps = {}, []
    for r in rows:
        sub = records[records["row"] == r]
        m = sub.groupby(["dataset", "column"])["value"].mean().unstack("column")
        if BASELINE not in m or REFERENCE not in m:
            out[r] = {"n": 0, "mean_diff": np.nan, "wins": 0, "ties": 0, "losses": 0, "p": np.nan}
        else:
            m = m[[REFERENCE, BASELINE]].dropna()
            out[r] = _paired(m[BASELINE], m[REFERENCE])
        ps.append(out[r]["p"])
    ps = np.array(ps, dtype=float)
    adj = np.full(len(ps), np.nan)
    if (~np.isnan(ps)).any():
        adj[~np.isnan(ps)] = holm(ps[~np.isnan(ps)])
    for r, p in zip(rows, adj):
        t = out[r]
        t["p_holm"] = p
        t["verdict"] = ("—" if t["n"] < 2 else "NNG-Mix better" if p < ALPHA and t["mean_diff"] > 0
                        else "Baseline better" if p < ALPHA and t["mean_diff"] < 0 else "no significant difference")
    return out


def no_test_anomaly(full: pd.DataFrame, seeds: list[int], data_root) -> dict[str, list[int]]:
    """``{dataset: seeds}`` where no detector has a run of the fully grouped split because that split's test side
    holds one class (the run fails: AUCROC undefined), checked by drawing the split (Table I's 1 %)."""
    from ..datasets import load_arrays, make_split

    out: dict[str, list[int]] = {}
    if data_root is None:
        return out
    for d, g in full.groupby("dataset"):
        missing = sorted(set(seeds) - set(g["seed"]))
        if not missing:
            continue
        try:
            X, y = load_arrays(str(d), data_root)
        except Exception:  # noqa: BLE001 - the data may be absent where tables are rebuilt from exports
            return out
        for s in missing:
            if len(set(make_split(X, y, int(s), la=0.1, keep=0.1, split="grouped_identical").y_test)) < 2:
                out.setdefault(str(d), []).append(int(s))
    return out


def full_grouping_section(table1: pd.DataFrame, full: pd.DataFrame, seeds: list[int] | None = None,
                          datasets: list[str] | None = None, data_root=None) -> list[str]:
    """Table I's NNG-Mix vs Baseline verdicts under ADBench's split and under the fully grouped split
    (study ``table1_grouped_full``), on their common runs: does any verdict change? A dataset whose fully
    grouped split has no test anomaly at some seed (:func:`no_test_anomaly`) is left out, and named."""
    lines = [f"## Table I vs `{FULL}`: the fully grouped split (`protocol.split=grouped_identical`) on every "
             "Classical dataset", ""]
    both = table1[KEYS + ["value"]].merge(full[KEYS + ["value"]], on=KEYS, suffixes=("_adb", "_ctl"))
    if both.empty:
        return lines + [f"Not run: no runs of `{FULL}` yet (`make reproduce-{FULL}`).", ""]
    impossible = no_test_anomaly(full, sorted(set(full["seed"])) if seeds is None else seeds, data_root)
    if impossible:
        both = both[~both["dataset"].isin(set(impossible))]
        lines += ["Left out: " + "; ".join(f"{d} (at seed {', '.join(map(str, s))} the fully grouped split leaves no "
                                          "anomaly on the test side, so AUCROC is undefined and the run fails)"
                                          for d, s in impossible.items()) + ".", ""]
    cells = complete_cells(both, seeds, None)
    keep = set(zip(cells.loc[cells["complete"], "row"], cells.loc[cells["complete"], "column"]))
    rows = [r for r in dict.fromkeys(both["row"]) if (r, BASELINE) in keep and (r, REFERENCE) in keep]
    left = sorted(set(both["row"]) - set(rows))
    want = sorted(set(both["seed"])) if seeds is None else sorted(set(seeds))
    of = f" of the study's {len(datasets)}" if datasets else ""
    lines += [f"Baseline and NNG-Mix (10x, 1 %) on the (detector, dataset, seed) present on both sides: "
              f"{both['dataset'].nunique()} datasets{of}; a detector is compared when both columns have seeds "
              f"{', '.join(map(str, want))} on every one of them."
              + (f" Not compared yet (fewer seeds): {', '.join(left)}." if left else ""), ""]
    if not rows:
        return lines + ["Not run: no detector has Baseline and NNG-Mix complete on both sides yet.", ""]
    both = both[both["row"].isin(rows)]
    adb = both.rename(columns={"value_adb": "value"})[KEYS + ["value"]]
    ctl = both.rename(columns={"value_ctl": "value"})[KEYS + ["value"]]
    v_adb, v_ctl = _nng_vs_baseline(adb, rows), _nng_vs_baseline(ctl, rows)
    lines += ["Table I's verdict on NNG-Mix vs Baseline per detector (paired Wilcoxon over the datasets, "
              "seed-averaged, Holm over the detectors; the same test on both sides), and the change of the gain "
              f"(equivalence within ±{EQUIV_MARGIN}, as above):", "",
              "| detector | datasets | gain, ADBench split (Holm p) | gain, fully grouped (Holm p) | verdict, ADBench "
              "split | verdict, fully grouped | same verdict | gain change: shown |", "|---|---|---|---|---|---|---|---|"]
    changed = []
    for r in rows:
        a, c = v_adb[r], v_ctl[r]
        g_adb = _per_dataset(both, "value_adb", r, REFERENCE) - _per_dataset(both, "value_adb", r, BASELINE)
        g_ctl = _per_dataset(both, "value_ctl", r, REFERENCE) - _per_dataset(both, "value_ctl", r, BASELINE)
        e = gain_equivalence(g_adb.dropna(), g_ctl.dropna())
        same = a["verdict"] == c["verdict"]
        if not same:
            changed.append(r)
        lines.append(f"| {r} | {a['n']} | {a['mean_diff']:+.3f} ({_fmt_p(a['p_holm'])}) "
                     f"| {c['mean_diff']:+.3f} ({_fmt_p(c['p_holm'])}) | {a['verdict']} | {c['verdict']} "
                     f"| {'yes' if same else '**no**'} | {e['decision']} |")
    lines += ["", f"**`{FULL}`.** " + (f"Table I's verdict changes for {', '.join(changed)}." if changed else
                                         f"No Table I verdict on NNG-Mix vs Baseline changes ({len(rows)} detectors)."),
              ""]
    return lines


def control_design(name: str) -> tuple[list[int] | None, list[str] | None]:
    """``(seeds, datasets)`` of the control study ``name`` (its spec, ``conf/study/<name>.yaml``); ``(None,
    None)`` when it has no spec."""
    from ..studies import StudyError, load_study

    try:
        study = load_study(name)
    except (StudyError, FileNotFoundError):
        return None, None
    return sorted({s for block in study.sweeps for s in block["seed"]}), list(study.datasets)


def leakage_markdown(table1: pd.DataFrame, controls: dict[str, pd.DataFrame], columns: list[str],
                     data_root=None) -> str:
    """The leakage report. ``table1``: the records (row, column, dataset, seed, value) of Table I (ADBench's
    split); ``controls``: those of ``table1_grouped`` / ``table1_dedup`` (either may be empty)."""
    from ..datasets.audit import audit, audit_markdown

    lines = ["# Leakage audit: test rows the detector saw in training", "",
             "Generated by `python -m adbench_repro.aggregate table1_grouped` (or `table1`, `table1_dedup`, "
             "`table1_grouped_full`); do not edit.",
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
        seeds, datasets = control_design(name)
        lines += control_section(table1, controls.get(name, pd.DataFrame(columns=KEYS + ["value"])), name, what,
                                 columns, seeds, datasets)
    lines += natural_duplicates_section(audit_rows, table1)
    lines += identical_rows_section(audit_rows)
    seeds, datasets = control_design(FULL)
    lines += full_grouping_section(table1, controls.get(FULL, pd.DataFrame(columns=KEYS + ["value"])), seeds, datasets,
                                   resolve_data_root(data_root) if audit_rows else None)
    return "\n".join(lines).rstrip() + "\n"


def write_leakage(out_dir: str | Path, table1: pd.DataFrame, controls: dict[str, pd.DataFrame], columns: list[str],
                  data_root=None) -> Path:
    """Write ``<out_dir>/leakage.md``; returns its path."""
    path = Path(out_dir) / "leakage.md"
    path.write_text(leakage_markdown(table1, controls, columns, data_root))
    return path
