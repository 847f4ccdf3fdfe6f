"""Choosing the generator per (detector, dataset, seed) with and without test labels (issue 22).

A study with a ``selection`` block (``conf/study/selection.yaml``) has candidate columns (the generators,
``Baseline`` first); its table shows selectors instead, each the candidate it picks per (detector,
dataset, seed):

* ``Baseline``: no augmentation (the candidate ``selection.baseline``);
* ``Default``: the paper's fixed setting (``selection.default``, NNG-Mix 10x);
* ``Oracle``: per (detector, dataset), the candidate with the best test AUCROC averaged over the seeds, the
  snooped upper bound (it reads test labels). The per-(dataset, seed) maximum of the candidates' single-seed
  values is reported beside it as *noise-inflated* (the maximum of noisy values exceeds the best mean);
* ``Random``: the mean AUCROC over the candidates, the expected value of a pick at random;
* ``LODO``: leave one dataset out, the candidate with the best mean AUCROC over the detector's *other*
  datasets (seed means), as a user would choose from a published benchmark: it reads the test labels of the
  other datasets, never this dataset's;
* each label-free selector of the spec: the candidate with the best mean of its signals (metrics
  ``val_*`` of :mod:`adbench_repro.signals`, read from the runs), ``max`` or ``min``.

A selector on the held-out signals (``val_ho_*``, :mod:`adbench_repro.holdout`: only runs made with
``validation.holdout`` have them) is shown for a detector only where it picks on every complete candidate set, so
that the selectors of a row are compared on the same (dataset, seed)s; otherwise it is left out of that row with a
note (:func:`held_out_complete`), and out of the table when no row has it.

Ties go to the earlier candidate (Baseline first: without evidence, do not augment); the report counts them
and says which candidate they went to. A (detector, dataset,
seed) that lacks a candidate run is left out for every selector; one whose candidates lack a selector's
signal is left out for that selector. Nothing here but ``Oracle`` and ``Random`` reads this dataset's AUCROC
(``LODO`` reads the other datasets').

:func:`selection_markdown` adds, per detector: regret against the oracle, gain over the baseline, the
share of the oracle's gain recovered, the inflation snooping buys (oracle minus the best honest selector)
and how often each selector picks each candidate.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..studies import BUILTIN_SELECTORS, Column, Study

BASELINE, DEFAULT, ORACLE, RANDOM, LODO = BUILTIN_SELECTORS
#: the per-(dataset, seed) maximum over the candidates: reported, never a selector of the table
ORACLE_PER_SEED = "Oracle per seed (noise-inflated)"
KEYS = ["row", "dataset", "seed"]
#: the datasets ADBench resamples to 1000 rows (under 1000 rows), whose test rows leak into training
#: (results/leakage.md): the 12 datasets of study ``table1_grouped``
LEAKY_STUDY = "table1_grouped"


#: the metric prefix of the held-out signals (adbench_repro/holdout.py)
HELD_OUT_PREFIX = "val_ho_"
#: how the held-out signals are made for the selection study
HELD_OUT_RERUN = "python -m adbench_repro.reproduce selection validation.holdout=0.2"


def is_held_out(selector: dict) -> bool:
    """Whether a label-free selector reads the held-out signals (``val_ho_*``)."""
    return all(s.startswith(HELD_OUT_PREFIX) for s in selector["signals"])


def held_out_complete(study: Study, selected: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``selected`` without the picks of a held-out selector on a detector where it lacks a pick on some
    complete candidate set (the held-out rerun is not finished there), and the notes that say so: one line
    when no run has held-out signals at all."""
    held = [s["label"] for s in study.selection["selectors"] if is_held_out(s)]
    if not held or selected.empty:
        return selected, []
    sets = selected[selected["column"] == BASELINE].groupby("row").size()
    have = selected[selected["column"].isin(held)].groupby(["column", "row"]).size()
    if have.empty:
        return selected, [f"Held-out signals: not run; rerun the selection study with validation.holdout=0.2 "
                          f"(`{HELD_OUT_RERUN}`; docs/protocol.md#held-out-validation-signals)."]
    drop, notes = pd.Series(False, index=selected.index), []
    for row, n in sets.items():
        missing = [label for label in held if have.get((label, row), 0) < n]
        if missing:
            got = max(have.get((label, row), 0) for label in held)
            notes.append(f"Held-out signals on {row}: on {got} of {n} (dataset, seed)s, so {', '.join(missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} left out of that row until the rerun is complete "
                         f"(`{HELD_OUT_RERUN}`).")
            drop |= (selected["row"] == row) & selected["column"].isin(missing)
    return selected[~drop], notes


def signal_table(records: pd.DataFrame, runs: pd.DataFrame, signals: list[str]) -> pd.DataFrame:
    """``records`` (one per candidate run) with the runs' ``signals`` as columns (NaN where a run has none)."""
    cols = [f"metrics.{s}" for s in signals]
    have = runs.reindex(columns=["run_id", *cols]).rename(columns=dict(zip(cols, signals)))
    return records.merge(have, on="run_id", how="left")


def pick(group: pd.DataFrame, order: list[str], signals: list[str], goal: str) -> str | None:
    """The candidate of one (detector, dataset, seed) with the best mean of ``signals`` (``goal`` max or
    min); ties go to the earliest in ``order``; None when a candidate lacks a signal."""
    g = group.set_index("column").reindex(order)
    score = g[signals].astype(float).mean(axis=1, skipna=False)
    if score.isna().any():
        return None
    best = score.max() if goal == "max" else score.min()
    return str(score.index[np.flatnonzero(score.to_numpy() == best)[0]])


def oracle_picks(complete: pd.DataFrame, order: list[str]) -> dict[tuple, str]:
    """``{(row, dataset): candidate}``: the candidate with the best test AUCROC averaged over the seeds (ties to
    the earliest in ``order``): the Oracle, on seed means, not the noise-inflated per-seed maximum."""
    if complete.empty:
        return {}
    means = complete.groupby(["row", "dataset", "column"])["value"].mean().unstack("column").reindex(columns=order)
    return {key: order[int(np.flatnonzero(v == v.max())[0])] for key, v in zip(means.index, means.to_numpy())}


def ties(group: pd.DataFrame, order: list[str], signals: list[str], goal: str) -> list[str]:
    """The candidates of one (detector, dataset, seed) that share the best mean of ``signals`` (one when no tie)."""
    g = group.set_index("column").reindex(order)
    score = g[signals].astype(float).mean(axis=1, skipna=False)
    if score.isna().any():
        return []
    best = score.max() if goal == "max" else score.min()
    return [str(c) for c in score.index[score.to_numpy() == best]]


def lodo_picks(complete: pd.DataFrame, order: list[str]) -> dict[tuple, str]:
    """``{(row, dataset): candidate}``: per detector row, the candidate with the best mean over the row's other
    datasets of its seed-mean AUCROC (ties to the earliest in ``order``); a row with one dataset has none."""
    if complete.empty:
        return {}
    means = complete.groupby(["row", "dataset", "column"])["value"].mean().unstack("column").reindex(columns=order)
    out = {}
    for row, m in means.groupby(level="row"):
        for key in m.index:
            others = m.drop(index=key)
            if others.empty:
                continue
            score = others.mean(axis=0).to_numpy()
            out[key] = order[int(np.flatnonzero(score == score.max())[0])]
    return out


def select(study: Study, records: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One record per (selector, detector, dataset, seed): ``row, column`` (= selector), ``dataset, seed,
    value`` (test AUCROC of the pick), ``run_id, config_hash`` (of the pick; empty for Random), ``pick``."""
    sel = study.selection
    order = [c.label for c in study.columns]
    signals = sorted({s for x in sel["selectors"] for s in x["signals"]})
    table = signal_table(records, runs, signals)
    # an incomplete candidate set would favour whoever ran
    table = table.groupby(KEYS, sort=True).filter(lambda g: set(g["column"]) == set(order))
    lodo = lodo_picks(table, order)
    oracle = oracle_picks(table, order)
    out = []
    for (row, dataset, seed), g in table.groupby(KEYS, sort=True):
        by = g.set_index("column")
        choices = {BASELINE: sel["baseline"], DEFAULT: sel["default"], ORACLE: oracle.get((row, dataset)),
                   LODO: lodo.get((row, dataset))}
        tied = {}
        for s in sel["selectors"]:
            choices[s["label"]] = pick(g, order, s["signals"], s["goal"])
            tied[s["label"]] = len(ties(g, order, s["signals"], s["goal"]))
        for label, chosen in choices.items():
            if chosen is None:
                continue
            out.append({"row": row, "column": label, "dataset": dataset, "seed": int(seed),
                        "value": float(by.at[chosen, "value"]), "run_id": by.at[chosen, "run_id"],
                        "config_hash": by.at[chosen, "config_hash"], "pick": chosen,
                        "n_tied": tied.get(label, 1)})
        out.append({"row": row, "column": RANDOM, "dataset": dataset, "seed": int(seed),
                    "value": float(by["value"].mean()), "run_id": "", "config_hash": "", "pick": "", "n_tied": 1})
        out.append({"row": row, "column": ORACLE_PER_SEED, "dataset": dataset, "seed": int(seed),
                    "value": float(by["value"].max()), "run_id": "", "config_hash": "",
                    "pick": str(by["value"].reindex(order).idxmax()), "n_tied": 1})
    cols = ["row", "column", "dataset", "seed", "value", "run_id", "config_hash", "pick", "n_tied"]
    return pd.DataFrame(out, columns=cols)


def selection_view(study: Study, selected: pd.DataFrame | None = None, notes: list[str] = ()) -> Study:
    """``study`` as its table shows it: one column per selector, tested against Baseline and the Oracle; with
    ``selected``, a held-out selector without any pick is left out (``notes`` say why, in the report)."""
    sel = study.selection
    shown = set(selected["column"]) if selected is not None else None
    selectors = [s for s in sel["selectors"] if shown is None or not is_held_out(s) or s["label"] in shown]
    study = replace(study, selection={**sel, "selectors": selectors, "candidates": [c.label for c in study.columns],
                                      "notes": list(notes)})
    return replace(study, columns=[Column(label=x, match={}) for x in study.table_labels()],
                   compare={"baseline": BASELINE, "reference": ORACLE})


def summary(selected: pd.DataFrame, honest: list[str]) -> pd.DataFrame:
    """Per detector and selector, on the (dataset, seed)s every selector has: mean AUCROC (over datasets of
    seed means), regret vs the oracle, gain over Baseline and the share of the oracle's gain recovered."""
    lines = []
    for row, sub in selected.groupby("row", sort=False):
        m = sub.pivot_table(index=["dataset", "seed"], columns="column", values="value").dropna(how="any")
        if m.empty:
            continue
        per_ds = m.groupby(level="dataset").mean().mean(axis=0)
        base, oracle = per_ds[BASELINE], per_ds[ORACLE]
        for col in m.columns:
            gain = per_ds[col] - base
            lines.append({"row": row, "selector": col, "aucroc": per_ds[col], "regret": oracle - per_ds[col],
                          "gain": gain, "share": gain / (oracle - base) if oracle > base else np.nan,
                          "honest": col in honest, "n_datasets": m.index.get_level_values("dataset").nunique(),
                          "n_seeds": m.index.get_level_values("seed").nunique()})
    return pd.DataFrame(lines)


def leaky_datasets() -> list[str]:
    """The datasets ADBench resamples (under 1000 rows), whose test rows leak into training: study
    :data:`LEAKY_STUDY`'s datasets."""
    from ..studies import load_study

    return list(load_study(LEAKY_STUDY).datasets)


def vs_random(selected: pd.DataFrame, row: str, honest: list[str]) -> pd.DataFrame:
    """Each honest selector against Random (the mean over the candidates: a pick at random) on one detector:
    Wilcoxon over datasets of seed means, Holm over these comparisons (one family per detector)."""
    from .stats import wilcoxon_holm

    sub = selected[(selected["row"] == row) & selected["column"].isin([*honest, RANDOM])]
    m = sub.groupby(["dataset", "column"])["value"].mean().unstack("column").dropna(how="any")
    pairs = [(h, RANDOM) for h in honest if h in m.columns and h != RANDOM]
    if len(m) < 2 or not pairs:
        return pd.DataFrame()
    return wilcoxon_holm(m, pairs, rope=None)


def _ties_lines(selected: pd.DataFrame, row: str, labels: list[str], candidates: list[str]) -> list[str]:
    sub = selected[(selected["row"] == row) & selected["column"].isin(labels) & (selected["n_tied"] > 1)]
    n = selected[(selected["row"] == row) & (selected["column"] == BASELINE)].shape[0]
    lines = ["Ties (several candidates share the best signal; they go to the earliest candidate, Baseline first):", "",
             "| selector | tied picks | went to |", "|---|---|---|"]
    for label in labels:
        t = sub[sub["column"] == label]
        to = t["pick"].value_counts()
        lines.append(f"| {label} | {len(t)} of {n} ({len(t) / n:.0%}) | "
                     + (", ".join(f"{c} {k}" for c, k in to.items()) or "—") + " |")
    return lines + [""]


def selection_markdown(study: Study, selected: pd.DataFrame, pairwise: pd.DataFrame) -> str:
    """The selection report (appended to ``<study>.md``): per detector the selectors' AUCROC, regret, gain over
    Baseline with its Holm-corrected Wilcoxon p, share of the oracle's gain, inflation, and pick counts."""
    labels = study.table_labels()
    candidates = study.selection.get("candidates") or [c.label for c in study.columns]
    honest = [x for x in labels if x not in (BASELINE, ORACLE, RANDOM)]
    per_seed = selected[selected["column"] == ORACLE_PER_SEED]
    selected = selected[selected["column"] != ORACLE_PER_SEED]
    summ = summary(selected, honest)
    label_free = [x["label"] for x in study.selection["selectors"]]
    leaky = set(leaky_datasets())
    lines = ["## Selection without test labels", "",
             f"Candidates per (detector, dataset, seed): {', '.join(candidates)}. "
             f"Selectors: {BASELINE} (no augmentation), {DEFAULT} (the paper's {study.selection['default']}), "
             f"{ORACLE} (per dataset, the candidate with the best test AUCROC averaged over the seeds: snooped; the "
             f"per-(dataset, seed) maximum, noise-inflated, is given beside it), {RANDOM} (mean over the candidates: "
             f"the yardstick for \"selection adds value\"), {LODO} (the candidate "
             "best on the detector's other datasets: leave one dataset out, this dataset's labels unread), and the "
             "label-free "
             + ", ".join(f"{s['label']} ({s['goal']} of {' + '.join(s['signals'])})"
                         for s in study.selection["selectors"])
             + ". Honest (no test label of the dataset read): " + ", ".join(honest) + ".", "",
             *[line for note in study.selection.get("notes", []) for line in (note, "")],
             "AUCROC: mean over datasets of the seed means, on the (dataset, seed)s where every selector has a pick. "
             "Regret = Oracle − selector. Gain = selector − Baseline, with the Wilcoxon p over datasets of "
             "`selection_stats.md`, Holm over that file's family for the detector (every selector vs Baseline and "
             "vs Oracle): the one family every document cites for \"vs Baseline\". Share = gain / (Oracle − "
             "Baseline). Inflation = Oracle − the best honest selector (chosen by its mean, itself a mild optimism). "
             "*vs Random*: selector − Random with its Wilcoxon p, Holm over the detector's honest selectors vs Random "
             "(its own family): selection adds value only where this is significant. Leaky datasets: the "
             f"{len(leaky)} that ADBench resamples to 1000 rows (study `{LEAKY_STUDY}`, results/leakage.md).", ""]
    if summ.empty:
        return "\n".join(lines + ["No complete candidate sets yet.", ""])
    for row, sub in summ.groupby("row", sort=False):
        lines += [f"### {row}", "",
                  f"{int(sub['n_datasets'].iloc[0])} datasets x {int(sub['n_seeds'].iloc[0])} seed(s).", "",
                  "| selector | AUCROC | regret | gain over Baseline | Holm p (vs Baseline) | share of oracle gain "
                  "| vs Random | Holm p (vs Random) |",
                  "|---|---|---|---|---|---|---|---|"]
        pw = pairwise[pairwise["row"] == row] if len(pairwise) else pairwise
        vr = vs_random(selected, row, [h for h in honest if h != RANDOM])
        sub = sub.set_index("selector").reindex([x for x in labels if x in set(sub["selector"])]).reset_index()
        for r in sub.to_dict("records"):
            hit = pw[(pw["a"] == r["selector"]) & (pw["b"] == BASELINE)] if len(pw) else pw
            p = "—" if hit.empty or pd.isna(hit["p_holm"].iloc[0]) else f"{hit['p_holm'].iloc[0]:.3g}" + (
                " (sig.)" if bool(hit["significant"].iloc[0]) else "")
            share = "—" if pd.isna(r["share"]) else f"{r['share']:.0%}"
            rnd = float(sub.loc[sub["selector"] == RANDOM, "aucroc"].iloc[0])
            hv = vr[vr["a"] == r["selector"]] if len(vr) else vr
            pr = "—" if hv.empty or pd.isna(hv["p_holm"].iloc[0]) else f"{hv['p_holm'].iloc[0]:.3g}" + (
                " (sig.)" if bool(hv["significant"].iloc[0]) else "")
            lines.append(f"| {r['selector']} | {r['aucroc']:.4f} | {r['regret']:+.4f} | {r['gain']:+.4f} | {p} "
                         f"| {share} | {r['aucroc'] - rnd:+.4f} | {pr} |")
        best = sub[sub["honest"]].sort_values("aucroc", ascending=False).iloc[0]
        oracle = float(sub.loc[sub["selector"] == ORACLE, "aucroc"].iloc[0])
        ps = per_seed[per_seed["row"] == row]
        ps_mean = float(ps.groupby("dataset")["value"].mean().mean()) if len(ps) else float("nan")
        lines += ["", f"Inflation from snooping: Oracle {oracle:.4f} − best honest selector ({best['selector']}, "
                  f"{best['aucroc']:.4f}) = {oracle - best['aucroc']:+.4f} AUCROC. The per-(dataset, seed) maximum "
                  f"(noise-inflated: the maximum of single-seed values) would be {ps_mean:.4f}.", ""]
        sel_row = selected[selected["row"] == row]
        lines += ["By leakage (mean over datasets of the seed means; gain over Baseline / over Random):", "",
                  "| selector | leaky: AUCROC | gain | vs Random | not leaky: AUCROC | gain | vs Random |",
                  "|---|---|---|---|---|---|---|"]
        parts = {}
        for name, keep in (("leaky", sel_row["dataset"].isin(leaky)), ("clean", ~sel_row["dataset"].isin(leaky))):
            m = sel_row[keep].groupby(["dataset", "column"])["value"].mean().unstack("column")
            parts[name] = (m.mean(axis=0), m.shape[0])
        for x in [x for x in labels if x in parts["leaky"][0].index or x in parts["clean"][0].index]:
            cells = []
            for name in ("leaky", "clean"):
                mean, n = parts[name]
                if n == 0 or x not in mean:
                    cells += ["—", "—", "—"]
                else:
                    cells += [f"{mean[x]:.4f}", f"{mean[x] - mean[BASELINE]:+.4f}", f"{mean[x] - mean[RANDOM]:+.4f}"]
            lines.append(f"| {x} | " + " | ".join(cells) + " |")
        lines += ["", f"Datasets: {parts['leaky'][1]} leaky, {parts['clean'][1]} not leaky.", ""]
        in_row = set(selected.loc[selected["row"] == row, "column"])
        lines += _ties_lines(selected, row, [x for x in label_free if x in in_row], candidates)
        picks = selected[(selected["row"] == row) & selected["pick"].astype(bool)]
        counts = picks.groupby(["column", "pick"]).size().unstack("pick", fill_value=0)
        cands = [c for c in candidates if c in counts.columns]
        lines += ["Picks (share of the (dataset, seed)s):", "",
                  "| selector | " + " | ".join(cands) + " |", "|---|" + "---|" * len(cands)]
        for sel_label in [x for x in labels if x in counts.index and x not in (BASELINE, DEFAULT)]:
            n = counts.loc[sel_label].sum()
            lines.append(f"| {sel_label} | " + " | ".join(f"{counts.at[sel_label, c] / n:.0%}" for c in cands) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"
