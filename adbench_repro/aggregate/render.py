"""Write a :class:`StudyTable` as Markdown, long CSV and LaTeX, laid out like the paper's table."""

from __future__ import annotations

import math
from pathlib import Path

from .stats import short_rows
from .table import AVERAGE, StudyTable

MISSING = "—"
#: measured FT-Transformer fit time on this project's 2-core CPU (scripts/bench_detectors.py, 19_landsat)
FTT_CPU_COST = "~31 min per run"
PARTIAL = " †"


def _fmt(v: float) -> str:
    return f"{v:.3f}"


def rank_marks(t: StudyTable, row: str, level: str) -> dict[str, str]:
    """``{column: 'best'|'second'}`` for one row, within the spec's groups (on values rounded to 3 places)."""
    sub = t.long[(t.long["level"] == level) & (t.long["row"] == row)].set_index("column")["value"]
    groups: dict[str, list[str]] = {}
    for c in t.study.columns:
        key = c.group if t.study.best_within == "group" else ""
        groups.setdefault(key, []).append(c.label)
    marks = {}
    for labels in groups.values():
        vals = {c: round(float(sub[c]), 3) for c in labels if c in sub and not math.isnan(sub[c])}
        if len(vals) < 2:
            continue
        distinct = sorted(set(vals.values()), reverse=True)
        for c, v in vals.items():
            if v == distinct[0]:
                marks[c] = "best"
            elif len(distinct) > 1 and v == distinct[1]:
                marks[c] = "second"
    return marks


#: significance markers: differs from the spec's baseline / reference column (Wilcoxon, Holm, ALPHA)
SIG_BASELINE, SIG_REFERENCE = "b", "r"


#: a paper value shown beside ours without a difference: too few of the family's files here
NOT_COMPARABLE = "n/c"


def _cell_text(value: float, paper: float, mark: str | None, style: str, sd: float = math.nan,
               sig: str = "", comparable: bool = True, paper_digits: int = 3, n_seeds: int = 0) -> str:
    paper_text = f"{paper:.{paper_digits}f}"
    if math.isnan(value):
        text = MISSING
        return text if math.isnan(paper) else f"{text} ({paper_text})"
    text = _fmt(value)
    if mark == "best":
        text = f"**{text}**" if style == "md" else rf"\textbf{{{text}}}"
    elif mark == "second":
        text = f"<u>{text}</u>" if style == "md" else rf"\underline{{{text}}}"
    if not math.isnan(sd):
        text += f" ± {sd:.3f}" if style == "md" else rf" $\pm$ {sd:.3f}"
        if n_seeds < 3:  # a spread of two seed means says little
            text += f" ({n_seeds} seeds)"
    if sig:
        text += f"<sup>{sig}</sup>" if style == "md" else rf"$^{{{sig}}}$"
    if not math.isnan(paper):
        text += f" ({paper_text}, {value - paper:+.3f})" if comparable else f" ({paper_text}, {NOT_COMPARABLE})"
    return text


def significance(t: StudyTable, row: str, column: str) -> str:
    """The markers of one cell: ``b`` when it differs significantly from the baseline column, ``r`` from
    the reference column (see :mod:`.stats`); '' without tests."""
    st = t.stats
    if st is None:
        return ""
    stat_row = "overall" if row == AVERAGE else row
    return ((SIG_BASELINE if st.differs(stat_row, column, st.baseline) else "")
            + (SIG_REFERENCE if st.differs(stat_row, column, st.reference) else ""))


def significance_legend(t: StudyTable) -> str | None:
    """One line explaining the markers (None without tests)."""
    st = t.stats
    if st is None:
        return None
    parts = []
    if st.baseline:
        parts.append(f"<sup>{SIG_BASELINE}</sup> = differs from {st.baseline}")
    if st.reference:
        parts.append(f"<sup>{SIG_REFERENCE}</sup> = differs from {st.reference}")
    from .stats import ALPHA

    return (" and ".join(parts) + f": paired Wilcoxon signed-rank test over the datasets (seed-averaged), "
            f"Holm-corrected within the row, alpha = {ALPHA}; on the Average row the tests use the per-dataset "
            f"mean over the rows. ± = std over seeds of the dataset-averaged cell. Full results: "
            f"`{t.study.name}_stats.md`.")


def _grid(t: StudyTable, style: str) -> list[tuple[str, list[str]]]:
    out = []
    partial = dict(partial_rows(t))
    for row, level in [(r, "cell") for r in t.rows] + [(AVERAGE, "average")]:
        sub = t.long[(t.long["level"] == level) & (t.long["row"] == row)].set_index("column")
        marks = rank_marks(t, row, level)
        sds = sub["sd_of_seed_means"] if "sd_of_seed_means" in sub else None
        cells = [_cell_text(float(sub.at[c, "value"]), float(sub.at[c, "paper"]), marks.get(c), style,
                            float(sds[c]) if sds is not None and sds[c] == sds[c] else math.nan,
                            significance(t, row, c), t.paper_comparable and row not in partial,
                            4 if level == "average" else 3,
                            int(sub.at[c, "n_seeds"] or 0))
                 for c in t.columns]
        if level == "average" and not t.average_rows:  # no complete row: flag averages over fewer rows
            n_rows = len([r for r in t.rows if r not in t.study.extra_rows])
            cells = [text + PARTIAL if 0 < (sub.at[c, "n_rows"] or 0) < n_rows else text
                     for c, text in zip(t.columns, cells)]
        out.append((row, cells))
    return out


def partial_rows(t: StudyTable) -> list[tuple[str, str]]:
    """The rows (detector tables) whose runs cover fewer than MIN_ROW_SHARE of the datasets of the best-covered
    row, each with a phrase saying how many datasets and seeds: their cells are means over a subset, so they are
    not compared with the paper's value (an average over all its datasets)."""
    cells = t.long[(t.long["level"] == "cell") & (t.long["n_datasets"] > 0)]
    if cells.empty or t.study.rows != "detector":
        return []
    per_row = cells.groupby("row")["n_datasets"].max()
    most = per_row.max()
    out = []
    for row in short_rows(per_row.to_dict()):
        seeds = sorted(set(t.records.loc[t.records["row"] == row, "seed"])) if "row" in t.records else []
        out.append((row, f"{row} on {int(per_row[row])} of {int(most)} datasets"
                    + (f" x {len(seeds)} seed(s)" if seeds else "")))
    return out


def coverage_lines(t: StudyTable) -> list[str]:
    """Plain-text notes: datasets and seeds per column, the study's datasets without any run."""
    cells = t.long[t.long["level"] == "cell"]
    lines = []
    per_col = []
    for c in t.columns:
        sub = cells[(cells["column"] == c) & (cells["n_datasets"] > 0)]
        if sub.empty:
            per_col.append(f"{c}: 0")
            continue
        lo, hi = int(sub["n_datasets"].min()), int(sub["n_datasets"].max())
        seeds = sorted(set(t.records.loc[t.records["column"] == c, "seed"]))
        per_col.append(f"{c}: {lo if lo == hi else f'{lo}-{hi}'} datasets x {len(seeds)} seed(s)")
    lines.append(f"Each cell is the mean over seeds per dataset, then over the datasets that have runs for it "
                 f"(of {len(t.study.datasets)} in the study). Datasets x seeds per column: " + "; ".join(per_col) + ".")
    main_rows = [r for r in t.rows if r not in t.study.extra_rows]
    left_out = [r for r in main_rows if r not in t.average_rows]
    if t.average_rows:
        avg_text = (f"Average = mean over the rows that have every column ({', '.join(t.average_rows)}"
                    + (f"; not {', '.join(left_out)}" if left_out else "") + ")")
    else:
        avg_text = f"Average = mean of the cells of the column over the rows present;{PARTIAL} = fewer rows than the table has"
    lines.append("Columns (and rows) with different dataset coverage are not comparable. " + avg_text
                 + (f"; {', '.join(t.study.extra_rows)}: beyond the paper, not averaged" if t.study.extra_rows else "")
                 + ".")
    if t.study.paper:
        lines.append("Paper values of the Average row: the mean of the paper's cells over the same rows as ours "
                     f"({'datasets' if t.study.rows == 'dataset' else 'detectors'}; not the paper's printed average "
                     "over all its rows).")
    partial = partial_rows(t)
    if partial:
        lines.append("Rows on a subset of the datasets: " + "; ".join(text for _, text in partial) + ". Their cells "
                     "are means over that subset, not comparable with the other rows"
                     + (f" or with the paper's value, an average over all its datasets ({NOT_COMPARABLE})"
                        if t.study.paper else "") + ".")
    if not t.paper_comparable:
        n_here = len(t.study.datasets) - len(t.missing_datasets)
        lines.append(f"Not comparable with the paper ({NOT_COMPARABLE}): the paper's values average all "
                     f"{len(t.study.datasets)} files of the family, ours the {n_here} of {len(t.study.datasets)} "
                     "present here, so no difference is given.")
    if t.missing_datasets:
        lines.append(f"Datasets of the study without any run here ({len(t.missing_datasets)}): "
                     + ", ".join(t.missing_datasets) + ".")
    else:
        lines.append("Every dataset of the study has runs.")
    empty = [r for r in t.rows if t.study.rows == "detector"
             and not (cells[(cells["row"] == r)]["n_datasets"] > 0).any()]
    if empty:
        lines.append(f"Rows without runs: {', '.join(empty)}. Run them with `python -m adbench_repro.reproduce "
                     f"{t.study.name} --detectors {','.join(empty)}`"
                     + (f"; FTTransformer costs {FTT_CPU_COST} on a 2-core CPU (`results/bench/detectors.txt`): "
                        "add `device=cuda` on a GPU" if "fttransformer" in empty else "") + ".")
    legend = significance_legend(t)
    if legend:
        lines.append(legend)
    lines.append(f"Runs used: {t.runs_used} (FINISHED, latest per config hash).")
    return lines


def to_markdown(t: StudyTable) -> str:
    """The table in Markdown: 'reproduced (paper, difference)', best **bold**, second <u>underlined</u>."""
    head = [t.study.rows.capitalize()] + t.columns
    lines = [f"# {t.study.title}", "", f"Study `{t.study.name}`, metric AUCROC. Cells: reproduced value"
             + (" (paper value, reproduced - paper)" if t.study.paper else "")
             + f"; {MISSING} = no runs. Best per row in **bold**, second best <u>underlined</u>"
             + (" (within each column group)" if t.study.best_within == "group" else "") + ".", ""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for row, cells in _grid(t, "md"):
        name = f"**{row}**" if row == AVERAGE else row
        lines.append("| " + " | ".join([name] + cells) + " |")
    lines.append("")
    lines += [f"- {line}" for line in coverage_lines(t)]
    if t.origins is not None:  # a user's study: which cells are reused, which made here
        from .origin import origin_lines

        lines += ["", *origin_lines(t.origins, t.origins_known_new)]
    return "\n".join(lines) + "\n"


def _tex_escape(s: str) -> str:
    for a, b in [("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("σ", r"$\sigma$"), ("α", r"$\alpha$"), ("λ", r"$\lambda$"), ("γ", r"$\gamma$"), ("~", r"$\sim$")]:
        s = s.replace(a, b)
    return s


def to_latex(t: StudyTable) -> str:
    """The table as a LaTeX ``tabular`` (booktabs), best bold, second underlined."""
    n = len(t.columns)
    lines = [f"% {t.study.title} -- generated by python -m adbench_repro.aggregate {t.study.name}",
             r"\begin{tabular}{l" + "c" * n + "}", r"\toprule",
             " & ".join([_tex_escape(t.study.rows.capitalize())] + [_tex_escape(c) for c in t.columns]) + r" \\",
             r"\midrule"]
    grid = _grid(t, "tex")
    for row, cells in grid:
        if row == AVERAGE:
            lines.append(r"\midrule")
        cells = [c.replace(MISSING, "--").replace("†", r"$^\dagger$") for c in cells]
        lines.append(" & ".join([_tex_escape(row)] + cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", ""]
    return "\n".join(lines)


def write_outputs(t: StudyTable, out_dir: str | Path) -> dict[str, Path]:
    """Write ``<out>/<study>.md``, ``.csv`` and ``.tex``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"md": out_dir / f"{t.study.name}.md", "csv": out_dir / f"{t.study.name}.csv",
             "tex": out_dir / f"{t.study.name}.tex"}
    paths["md"].write_text(to_markdown(t))
    long = t.long.copy()
    long.insert(0, "study", t.study.name)
    long.to_csv(paths["csv"], index=False, float_format="%.6f")
    paths["tex"].write_text(to_latex(t))
    return paths


def stats_to_markdown(t: StudyTable) -> str:
    """``<study>_stats.md``: every test behind the table's markers, row by row."""
    from .stats import ALPHA, DECIMALS, OVERALL, ROPE, TIE, min_wilcoxon_p

    st = t.stats
    lines = [f"# Statistical tests: {t.study.title}", "",
             f"Study `{t.study.name}`. Unit of evidence: a dataset (AUCROC averaged over its seeds); each row is "
             f"tested on the datasets where every column has runs. `{OVERALL}`: the per-dataset mean over the "
             f"rows that have every column ({', '.join(st.overall_rows) or 'none'}). alpha = {ALPHA}.", "",
             "- Pairwise: Wilcoxon signed-rank (scipy, zero differences split between the signs, as Demšar 2006), "
             "Holm-corrected over all comparisons of the row. Win/tie/loss per dataset "
             f"(tie: |difference| <= {TIE}); median and mean difference of a - b.",
             f"- Bayesian signed-rank (Benavoli et al. 2017; baycomp's probabilities), region of practical "
             f"equivalence {ROPE} AUCROC: P(a better), P(equivalent), P(b better). P(equiv.) >= 0.95 is the "
             "evidence for \"no difference\"; a Wilcoxon p above alpha is not.",
             "- sig. = *cannot be* when the row has too few datasets for any significance: the exact two-sided "
             "Wilcoxon test cannot go below 2/2^n (n = 5: 0.0625), and Holm multiplies the smallest p by the "
             "number of comparisons.",
             "- Friedman test over all columns, chi2_F corrected for ties (Demšar's Eq. 1 divided by 1 - "
             "sum(t^3 - t)/(N k (k^2 - 1)), as scipy; Iman-Davenport F_F beside it), Nemenyi post-hoc "
             "(scikit-posthocs), average ranks (1 = best); critical-difference diagrams under `figures/`.",
             f"- Before any rank or test, seed-averaged AUCROC is rounded to {DECIMALS} decimals, so that values "
             "equal by construction stay tied whatever the summation order.", ""]
    for row in [*t.rows, OVERALL]:
        pw = st.pairwise[st.pairwise["row"] == row] if not st.pairwise.empty else st.pairwise
        fr = st.friedman.get(row)
        if pw.empty and fr is None:
            continue
        lines += [f"## {row}", ""]
        if fr is not None:
            ranks = ", ".join(f"{c} {r:.2f}" for c, r in fr.ranks.sort_values().items())
            lines += [f"Friedman chi2 = {fr.statistic:.2f} (tie-corrected; F_F = {fr.iman_davenport:.2f}), "
                      f"p = {fr.p:.3g} over {fr.n_datasets} datasets; "
                      f"Nemenyi CD = {fr.cd:.2f}. Average ranks: {ranks}.",
                      f"![CD diagram](figures/{t.study.name}_cd_{row}.png)", ""]
        if fr is not None and not pw.empty:
            lines += _cd_vs_wilcoxon(fr, pw, ALPHA)
        for a, b, hits in (st.identical or {}).get(row, []):
            lines += [f"Identical by construction: {a} = {b} on every seed of {len(hits)} dataset(s) "
                      f"({', '.join(hits)}): equal AUCROC from different runs (with one labeled anomaly Mixup and "
                      "CutMix can only copy it; or an AUCROC saturated at 1.0), counted as ties.", ""]
        if not pw.empty:
            lines += ["| a | b | n | W/T/L | median diff | mean diff | Wilcoxon p | Holm p | sig. "
                      "| P(a better) | P(equiv.) | P(b better) |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
            for r in pw.to_dict("records"):
                def f(x, spec=".3g"):
                    return "—" if x is None or x != x else format(x, spec)
                lines.append(f"| {r['a']} | {r['b']} | {r['n']} | {r['wins']}/{r['ties']}/{r['losses']} "
                             f"| {f(r['median_diff'], '+.4f')} | {f(r['mean_diff'], '+.4f')} | {f(r['p'])} "
                             f"| {f(r['p_holm'])} | {_sig_text(r, len(pw), min_wilcoxon_p, ALPHA)} "
                             f"| {f(r.get('p_better'), '.2f')} | {f(r.get('p_equivalent'), '.2f')} "
                             f"| {f(r.get('p_worse'), '.2f')} |")
            lines.append("")
    return "\n".join(lines) + "\n"


def _sig_text(r: dict, m: int, min_p, alpha: float) -> str:
    if r["significant"]:
        return "**yes**"
    return f"*cannot be* ({r['n']} datasets)" if min_p(int(r["n"])) * max(m, 1) >= alpha else "no"


def _cd_vs_wilcoxon(fr, pw, alpha: float) -> list[str]:
    """Lines naming the pairs where the CD diagram (Nemenyi) and the paired Wilcoxon tests disagree."""
    nem = fr.nemenyi
    split = []
    for r in pw.to_dict("records"):
        if r["a"] not in nem.index or r["b"] not in nem.index:
            continue
        by_ranks = float(nem.at[r["a"], r["b"]]) < alpha
        if by_ranks != bool(r["significant"]):
            split.append(f"{r['a']} vs {r['b']} ({'CD separates, Wilcoxon does not' if by_ranks else 'Wilcoxon separates, CD does not'})")
    if not split:
        return ["The CD diagram (Nemenyi) and the paired Wilcoxon tests agree on every pair tested.", ""]
    return [f"The CD diagram and the paired tests disagree on {len(split)} pair(s): {'; '.join(split)}. They answer "
            "different questions: Nemenyi compares average ranks among all the columns (so a pair's verdict "
            "depends on the other columns, and it ignores the size of differences), Wilcoxon the signed, "
            "ranked differences of the two columns alone, Holm-corrected over the row's comparisons.", ""]
