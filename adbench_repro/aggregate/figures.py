"""Figures of figure studies (the spec's ``figure`` block), drawn with matplotlib's Agg backend.

Layouts:

``lines``  each column with an ``x`` is a point; points of one row (detector) and one ``series`` form a line
           (colour = row, line style = series). A column without ``x`` (e.g. the Baseline of Fig. 3a) is a
           dashed horizontal level per row. ``panel_by``: ``none`` (one axes), ``row`` (one panel per row,
           Fig. 4) or ``panel`` (one panel per column ``panel``, Fig. 5). String x values are categorical.
``seeds``  x = columns (categorical); for each row a faint point per seed (mean over datasets of that seed)
           and a bold point for the mean over seeds (Fig. 7).
``gain``   per row, the gain of each column over the ``baseline`` column (default: the spec's
           ``compare.baseline``): the mean over datasets of the seed-averaged paired differences, with its 95%
           Student-t interval over datasets. ``groups`` (family name -> rows) orders and labels the rows by
           family; rows in no group come last.
Missing cells are left out of the plot, never drawn as zeros.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from .table import StudyTable

Y_LABEL = "AUCROC"
LINESTYLES = ["-", "--", ":", "-."]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_study(t: StudyTable, out_dir: str | Path) -> Path | None:
    """Draw the study's figure to ``<out_dir>/<study>.png``; None when the spec has no ``figure``."""
    spec = t.study.figure
    if not spec:
        return None
    layout = spec.get("layout", "lines")
    if layout not in ("lines", "seeds", "gain"):
        raise ValueError(f"study {t.study.name!r}: figure.layout {layout!r} is not 'lines', 'seeds' or 'gain'")
    plt = _pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{t.study.name}.png"
    draw = {"lines": _plot_lines, "seeds": _plot_seeds, "gain": _plot_gain}[layout]
    fig = draw(t, spec, plt)
    fig.suptitle(textwrap.fill(t.study.title, min(100, int(12 * fig.get_figwidth()))), fontsize=9)  # fits the width
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def _cells(t: StudyTable) -> dict[tuple[str, str], float]:
    c = t.long[t.long["level"] == "cell"]
    return {(r, col): v for r, col, v in zip(c["row"], c["column"], c["value"]) if not np.isnan(v)}


def _plot_lines(t: StudyTable, spec: dict, plt):
    cells = _cells(t)
    panel_by = spec.get("panel_by", "none")
    if panel_by not in ("none", "row", "panel"):
        raise ValueError(f"study {t.study.name!r}: figure.panel_by {panel_by!r} is not none|row|panel")
    columns = t.study.columns
    if panel_by == "row":
        panels = list(t.rows)
    elif panel_by == "panel":
        panels = list(dict.fromkeys(c.panel for c in columns))
    else:
        panels = [""]
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    width = 7.0 if len(panels) == 1 else 3.6 * ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, 3.3 * nrows + 0.4), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    colours = {r: plt.cm.tab10(i % 10) for i, r in enumerate(t.rows)}
    series_names = list(dict.fromkeys(c.series for c in columns))
    # the Baseline series is dashed, the method solid (then dotted, dash-dot for further series)
    others = iter(s for s in LINESTYLES if s != "--")
    styles = {s: "--" if s.lower().startswith("baseline") else next(others, "-") for s in series_names}
    for ax, panel in zip(axes.flat, panels):
        cols = [c for c in columns if panel_by != "panel" or c.panel == panel]
        rows = [panel] if panel_by == "row" else t.rows
        categorical = any(isinstance(c.x, str) for c in cols if c.x is not None)
        xs_cat = list(dict.fromkeys(str(c.x) for c in cols if c.x is not None))
        for r in rows:
            for s in series_names:
                pts = [(c.x, cells.get((r, c.label))) for c in cols if c.series == s and c.x is not None]
                pts = [(xs_cat.index(str(x)) if categorical else float(x), v) for x, v in pts if v is not None]
                label = r if panel_by == "row" or len(series_names) == 1 else f"{r} {s}".strip()
                if panel_by == "row":
                    label = s or r
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], styles[s], marker="o", ms=3,
                            color=colours[r], label=label)
            for c in cols:  # columns without x: a level per row
                v = cells.get((r, c.label))
                if c.x is None and v is not None:
                    ax.axhline(v, ls="--", lw=1, color=colours[r], alpha=0.7,
                               label=f"{r} {c.label}" if panel_by != "row" else c.label)
        if categorical:
            ax.set_xticks(range(len(xs_cat)), xs_cat)
        elif spec.get("x_scale") == "log":
            ax.set_xscale("log")
            ticks = sorted({float(c.x) for c in cols if c.x is not None})
            ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel(spec.get("x_label", ""))
        ax.set_ylabel(Y_LABEL)
        ax.grid(alpha=0.3)
        if ax.lines:  # long handles, so that the dashed Baseline reads as dashed
            if len(panels) == 1:
                ax.legend(fontsize=6, handlelength=3.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
            else:
                ax.legend(fontsize=6, handlelength=3.5)
        else:
            ax.text(0.5, 0.5, "no runs", transform=ax.transAxes, ha="center", va="center", color="grey")
    return fig


def _plot_seeds(t: StudyTable, spec: dict, plt):
    rec = t.records
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(t.columns)), 3.6))
    colours = {r: plt.cm.tab10(i % 10) for i, r in enumerate(t.rows)}
    width = 0.6 / max(1, len(t.rows))
    for j, r in enumerate(t.rows):
        offset = (j - (len(t.rows) - 1) / 2) * width
        labelled = False
        for i, c in enumerate(t.columns):
            sub = rec[(rec["row"] == r) & (rec["column"] == c)]
            if sub.empty:
                continue
            per_seed = sub.groupby("seed")["value"].mean()
            ax.scatter(np.full(len(per_seed), i + offset), per_seed.values, s=12, alpha=0.25, color=colours[r])
            ax.scatter([i + offset], [per_seed.mean()], s=40, color=colours[r], edgecolor="black",
                       label=None if labelled else r)
            labelled = True
    ax.set_xticks(range(len(t.columns)), t.columns, rotation=30)
    ax.set_xlabel(spec.get("x_label", ""))
    ax.set_ylabel(Y_LABEL)
    ax.grid(alpha=0.3)
    if ax.collections:
        ax.legend(fontsize=7)
    return fig


def gains(t: StudyTable, baseline: str) -> "pd.DataFrame":
    """Per (row, column other than ``baseline``): the mean over datasets of the seed-averaged paired
    difference to ``baseline``, its 95% t-interval (``low``, ``high``) and the number of datasets ``n``."""
    import pandas as pd

    from .stats import mean_interval

    rec = t.records
    means = rec.groupby(["row", "column", "dataset"])["value"].mean().unstack("column")
    out = []
    for r in t.rows:
        if r not in means.index.get_level_values("row") or baseline not in means.columns:
            continue
        m = means.loc[r]
        for c in t.columns:
            if c == baseline or c not in m.columns:
                continue
            d = (m[c] - m[baseline]).dropna()
            if d.empty:
                continue
            low, high = mean_interval(d.to_numpy())
            out.append({"row": r, "column": c, "gain": float(d.mean()), "low": low, "high": high, "n": len(d)})
    return pd.DataFrame(out, columns=["row", "column", "gain", "low", "high", "n"])


def _plot_gain(t: StudyTable, spec: dict, plt):
    baseline = spec.get("baseline") or (t.study.compare or {}).get("baseline")
    if baseline not in t.columns:
        raise ValueError(f"study {t.study.name!r}: figure.baseline {baseline!r} is not one of its columns {t.columns}")
    groups = dict(spec.get("groups") or {})
    grouped = [r for rows in groups.values() for r in rows]
    unknown = sorted(set(grouped) - set(t.rows))
    if unknown:
        raise ValueError(f"study {t.study.name!r}: figure.groups names rows {unknown} that the study does not have")
    rest = [r for r in t.rows if r not in grouped]
    if rest:
        groups["other"] = rest
    g = gains(t, baseline)
    others = [c for c in t.columns if c != baseline]
    order = [(fam, r) for fam, rows in groups.items() for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, max(2.5, 0.42 * len(order) + 1.2)))
    height = 0.7 / max(1, len(others))
    for k, c in enumerate(others):
        sub = g[g["column"] == c].set_index("row")
        ys, xs, err = [], [], [[], []]
        for i, (_, r) in enumerate(order):
            if r in sub.index:
                v = sub.loc[r]
                ys.append(i + (k - (len(others) - 1) / 2) * height)
                xs.append(v["gain"])
                err[0].append(v["gain"] - v["low"])
                err[1].append(v["high"] - v["gain"])
        if xs:
            ax.errorbar(xs, ys, xerr=err, fmt="o", ms=4, capsize=2, label=f"{c} − {baseline}")
    ax.axvline(0.0, color="black", lw=0.8)
    ran = set(g["row"])
    ax.set_yticks(range(len(order)), [f"{r}  ({fam})" + ("" if r in ran else ": not run") for fam, r in order],
                  fontsize=8)
    ax.invert_yaxis()
    start = 0
    for rows in list(groups.values())[:-1]:  # a rule between families
        start += len(rows)
        ax.axhline(start - 0.5, color="grey", lw=0.5, ls=":")
    ax.set_xlabel(spec.get("x_label", f"AUCROC gain over {baseline} (mean over datasets, 95% t-interval)"), fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7, loc="best")
    return fig
