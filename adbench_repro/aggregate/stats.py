"""Are the differences real? Paired tests over datasets, as the field compares methods (Demšar, JMLR 2006).

The unit of evidence is a dataset: each method's AUCROC on a dataset is first averaged over seeds, then
methods are compared on the datasets where all of them have runs (a complete block design).

* :func:`wilcoxon_holm`: paired Wilcoxon signed-rank tests (scipy; zero differences split between the
  signs, as Demšar recommends), Holm-corrected over the family of comparisons (:func:`holm`), with
  win/tie/loss counts and the median difference; optionally a Bayesian signed-rank test (baycomp) with
  a region of practical equivalence: P(better), P(equivalent), P(worse).
* :func:`friedman_nemenyi`: the Friedman test (:func:`friedman_statistic`, tie-corrected) over all methods, average ranks (1 = best), the
  Nemenyi post-hoc p-values (scikit-posthocs) and the critical difference of average ranks.
* :func:`cd_diagram`: the critical-difference diagram (scikit-posthocs) as a PNG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: significance level of every test
ALPHA = 0.05
#: region of practical equivalence of the Bayesian signed-rank test, in AUCROC
ROPE = 0.01
#: Monte-Carlo samples of the Bayesian signed-rank posterior (baycomp's default is 50,000; 10,000 keep the
#: probabilities within about 0.005 and the aggregator fast)
BAYES_SAMPLES = 10_000
#: a per-dataset difference smaller than this counts as a tie in win/tie/loss (below the tables' 3 decimals)
TIE = 5e-4
#: seed-averaged AUCROC is rounded to this many decimals before any rank or test, so that values equal by
#: construction (Mixup and CutMix with one labeled anomaly make identical runs) stay equal whatever the order
#: of the summation (1e-16 noise otherwise decides Friedman's ranks and the sign of Wilcoxon's zero differences)
DECIMALS = 9
#: the Friedman statistic of the tables is corrected for ties (scipy's convention; tied AUCROCs are common
#: here, e.g. 1.0 on easy datasets); Demšar (2006) prints the uncorrected one (9.28 on his Table 6)
FRIEDMAN_TIE_CORRECTION = True


def settle(matrix: pd.DataFrame) -> pd.DataFrame:
    """``matrix`` rounded to :data:`DECIMALS`: what every rank, win/tie/loss count and test reads."""
    return matrix.round(DECIMALS)


def dataset_matrix(records: pd.DataFrame, row: str, columns: list[str]) -> pd.DataFrame:
    """Datasets x ``columns`` of seed-averaged values for one table row, keeping only the datasets that
    have every column (the paired tests need complete blocks). ``records``: one row per run with
    ``row, column, dataset, seed, value`` (see ``aggregate.table``)."""
    sub = records[(records["row"] == row) & records["column"].isin(columns)]
    if sub.empty:
        return pd.DataFrame(columns=columns, dtype=float)
    m = sub.groupby(["dataset", "column"])["value"].mean().unstack("column")
    m = m.reindex(columns=[c for c in columns if c in m.columns])
    return settle(m.dropna(how="any").sort_index())


def nemenyi_cd(k: int, n: int, alpha: float = ALPHA) -> float:
    """Critical difference of average ranks for ``k`` methods on ``n`` datasets (Nemenyi):
    ``q_alpha * sqrt(k (k + 1) / (6 n))`` with ``q_alpha`` the studentized range quantile over sqrt(2)."""
    from scipy.stats import studentized_range

    q = studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6.0 * n)))


def average_ranks(matrix: pd.DataFrame) -> pd.Series:
    """Average rank of each column over the datasets (1 = highest value; ties get the mean rank)."""
    return settle(matrix).rank(axis=1, ascending=False, method="average").mean(axis=0)


@dataclass
class Friedman:
    """Friedman test over the columns of a dataset matrix, with the Nemenyi post-hoc."""

    n_datasets: int
    statistic: float            # chi2_F (tie-corrected when ``tie_corrected``)
    p: float
    ranks: pd.Series            # average rank per column (1 = best)
    nemenyi: pd.DataFrame       # pairwise p-values
    cd: float                   # critical difference of average ranks at ALPHA
    tie_corrected: bool = True
    iman_davenport: float = float("nan")  # F_F = (N - 1) chi2 / (N (k - 1) - chi2), Demšar's preferred form


def friedman_statistic(matrix: pd.DataFrame, tie_correction: bool = FRIEDMAN_TIE_CORRECTION) -> tuple[float, float]:
    """``(chi2_F, p)`` of the Friedman test on a datasets x methods matrix: 12N/(k(k+1)) (sum R_j^2 -
    k(k+1)^2/4) from the average ranks R_j (Demšar 2006, Eq. 1), divided by 1 - sum(t^3 - t)/(N k (k^2 - 1))
    over the groups of t tied values within a dataset when ``tie_correction`` (as scipy does); p from chi2 with
    k - 1 degrees of freedom."""
    from scipy.stats import chi2

    m = settle(matrix)
    n, k = m.shape
    ranks = m.rank(axis=1, ascending=False, method="average")
    stat = 12.0 * n / (k * (k + 1)) * (float((ranks.mean(axis=0) ** 2).sum()) - k * (k + 1) ** 2 / 4.0)
    if tie_correction:
        ties = sum(float((c ** 3 - c).sum()) for c in (row.value_counts().to_numpy() for _, row in m.iterrows()))
        denom = 1.0 - ties / (n * k * (k * k - 1))
        stat = stat / denom if denom > 0 else float("nan")
    return stat, float(chi2.sf(stat, k - 1)) if stat == stat else float("nan")


def friedman_nemenyi(matrix: pd.DataFrame, alpha: float = ALPHA,
                     tie_correction: bool = FRIEDMAN_TIE_CORRECTION) -> Friedman | None:
    """Friedman + Nemenyi on a datasets x methods matrix (None with fewer than 3 methods or 2 datasets)."""
    import scikit_posthocs as sp

    matrix = settle(matrix)
    n, k = matrix.shape
    if k < 3 or n < 2:
        return None
    stat, p = friedman_statistic(matrix, tie_correction)
    nem = sp.posthoc_nemenyi_friedman(matrix.to_numpy())
    nem.index = nem.columns = list(matrix.columns)
    ff = (n - 1) * stat / (n * (k - 1) - stat) if n * (k - 1) != stat else float("inf")
    return Friedman(n_datasets=n, statistic=float(stat), p=float(p), ranks=average_ranks(matrix),
                    nemenyi=nem, cd=nemenyi_cd(k, n, alpha), tie_corrected=tie_correction, iman_davenport=ff)


def holm(p: "np.ndarray | list[float]") -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979): sort ascending, multiply the i-th smallest (0-based)
    by m - i, take the running maximum, cap at 1; returned in the input order."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def wilcoxon_holm(matrix: pd.DataFrame, pairs: list[tuple[str, str]], alpha: float = ALPHA,
                  rope: float | None = ROPE, seed: int = 0, nsamples: int = BAYES_SAMPLES) -> pd.DataFrame:
    """One line per pair ``(a, b)``: the paired Wilcoxon signed-rank test of a vs b over the datasets,
    Holm-corrected over all ``pairs``. Columns: ``a, b, n, mean_diff, median_diff`` (a - b), ``wins, ties,
    losses`` (of a; ties within :data:`TIE`), ``ci95_low, ci95_high, ci90_low, ci90_high`` (Student-t intervals
    of the mean difference, :func:`mean_interval`), ``statistic, p, p_holm, significant`` and, with ``rope``,
    ``p_better, p_equivalent, p_worse`` (Bayesian signed-rank, baycomp, seeded, ``nsamples`` posterior draws,
    also given as ``bayes_samples``)."""
    from scipy.stats import wilcoxon

    matrix = settle(matrix)
    out = []
    for a, b in pairs:
        d = (matrix[a] - matrix[b]).to_numpy()
        line = {"a": a, "b": b, "n": len(d), "mean_diff": float(np.mean(d)) if len(d) else np.nan,
                "median_diff": float(np.median(d)) if len(d) else np.nan,
                "wins": int((d > TIE).sum()), "ties": int((np.abs(d) <= TIE).sum()), "losses": int((d < -TIE).sum()),
                "statistic": np.nan, "p": np.nan}
        line["ci95_low"], line["ci95_high"] = mean_interval(d, 0.95)
        line["ci90_low"], line["ci90_high"] = mean_interval(d, 0.90)
        if len(d) >= 2 and np.any(d != 0):
            res = wilcoxon(matrix[a].to_numpy(), matrix[b].to_numpy(), zero_method="zsplit")
            line.update(statistic=float(res.statistic), p=float(res.pvalue))
        elif len(d) >= 2:
            line.update(statistic=0.0, p=1.0)
        if rope is not None:
            line.update(bayes_signed_rank(matrix[a].to_numpy(), matrix[b].to_numpy(), rope, seed, nsamples),
                        bayes_samples=nsamples)
        out.append(line)
    df = pd.DataFrame(out)
    if df.empty:
        return df
    tested = df["p"].notna()
    df["p_holm"] = np.nan
    if tested.any():
        df.loc[tested, "p_holm"] = holm(df.loc[tested, "p"].to_numpy())
    df["significant"] = df["p_holm"] < alpha
    return df


def bayes_signed_rank(a: np.ndarray, b: np.ndarray, rope: float, seed: int = 0,
                      nsamples: int = BAYES_SAMPLES) -> dict[str, float]:
    """Bayesian signed-rank test (Benavoli et al. 2014/2017) with a region of practical equivalence:
    P(a better by more than ``rope``), P(within ``rope``), P(b better), as ``baycomp.two_on_multiple(a, b,
    rope)`` computes them, with the same Dirichlet draws for the same ``seed`` (so the same probabilities),
    but with the quadratic forms of all posterior samples in one matrix product instead of a Python loop
    (``scripts/bench_stats.py`` times both)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2:
        return {"p_better": np.nan, "p_equivalent": np.nan, "p_worse": np.nan}
    diff = np.concatenate(([0.0], b - a))            # the prior's pseudo-observation at 0, then the data
    sums = diff[:, None] + diff[None, :]             # Walsh averages (times 2) of every pair
    below = (sums < -2 * rope) + 0.5 * (sums == -2 * rope)   # a better by more than the rope
    above = (sums > 2 * rope) + 0.5 * (sums == 2 * rope)     # b better by more than the rope
    weights = np.ones(len(diff))
    weights[0] = 0.5                                 # baycomp's prior strength
    w = np.random.RandomState(seed).dirichlet(weights, nsamples)
    p_left = ((w @ below) * w).sum(axis=1)
    p_right = ((w @ above) * w).sum(axis=1)
    samples = np.column_stack([p_left, 1.0 - p_left - p_right, p_right])
    winners = np.bincount(np.argmax(samples, axis=1), minlength=3) / nsamples
    return {"p_better": float(winners[0]), "p_equivalent": float(winners[1]), "p_worse": float(winners[2])}


def cd_diagram(fr: Friedman, title: str, path: str | Path, alpha: float = ALPHA) -> Path:
    """Draw the critical-difference diagram of ``fr`` (methods on an average-rank axis, 1 = best; bars
    join methods that the Nemenyi test does not separate) to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scikit_posthocs as sp

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(fr.ranks) + 1.2))
    # scikit-posthocs stacks the crossbars in the iteration order of sets of method names, which for strings
    # varies with Python's hash seed: it draws integer ids (stable order) and the names are put back after
    names = list(fr.ranks.index)
    ids = {c: i for i, c in enumerate(names)}
    sig = fr.nemenyi.rename(index=ids, columns=ids)
    drawn = sp.critical_difference_diagram(fr.ranks.rename(index=ids), sig, ax=ax, alpha=alpha,
                                           label_fmt_left="L{label}\x1f{rank:.2g}",
                                           label_fmt_right="R{label}\x1f{rank:.2g}")
    for text in drawn.get("labels", []):
        side, rest = text.get_text()[0], text.get_text()[1:]
        i, rank = rest.split("\x1f")
        text.set_text(f"{names[int(i)]} ({rank})" if side == "L" else f"({rank}) {names[int(i)]}")
    ax.set_title(f"{title}\nFriedman p = {fr.p:.2g} over {fr.n_datasets} datasets; Nemenyi CD = {fr.cd:.2f} "
                 f"(alpha = {alpha})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata={"Software": None})  # no timestamp: same results, same bytes
    plt.close(fig)
    return path


OVERALL = "overall"


@dataclass
class StudyStats:
    """The tests of one study: per table row (and ``overall``, on the rows' per-dataset mean)."""

    baseline: str | None
    reference: str | None
    pairwise: pd.DataFrame               # row, a, b, n, ..., p_holm, significant (see wilcoxon_holm)
    friedman: dict[str, Friedman]
    overall_rows: list[str]              # the rows whose per-dataset mean is tested as ``overall``
    identical: dict[str, list[tuple[str, str, list[str]]]] = None  # row -> (a, b, datasets) equal on every seed

    def differs(self, row: str, column: str, other: str | None) -> bool:
        """Whether ``column`` differs significantly from ``other`` in ``row`` (after Holm)."""
        if other is None or other == column or self.pairwise.empty:
            return False
        p = self.pairwise
        hit = p[(p["row"] == row) & (((p["a"] == column) & (p["b"] == other)) | ((p["a"] == other) & (p["b"] == column)))]
        return bool(len(hit)) and bool(hit["significant"].iloc[0])


def comparison_pairs(columns: list[str], baseline: str | None, reference: str | None) -> list[tuple[str, str]]:
    """Every column vs the baseline, then every other column vs the reference (the pair of the two once)."""
    pairs = [(c, baseline) for c in columns if baseline and c != baseline]
    pairs += [(reference, c) for c in columns if reference and c not in (reference, baseline)]
    return pairs


#: a row joins the mean over rows only when complete on at least this share of the best-covered row's datasets
MIN_ROW_SHARE = 0.9


def short_rows(datasets_per_row: Mapping[str, int], of: int | None = None) -> list[str]:
    """The rows on a subset of the datasets: fewer than :data:`MIN_ROW_SHARE` of ``of`` (default: the
    best-covered row's count), in the order given. The one rule for the mean over rows
    (:func:`overall_matrix`), the table's "n/c" cells (``render.partial_rows``) and the claims' notes."""
    if not datasets_per_row:
        return []
    most = max(datasets_per_row.values()) if of is None else of
    return [r for r, n in datasets_per_row.items() if n < MIN_ROW_SHARE * most]


def overall_matrix(records: pd.DataFrame, rows: list[str], columns: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """``(matrix, rows used)``: datasets x columns of the mean over the ``rows`` that have every column
    (each seed-averaged), on the datasets that all of them have complete: one block per dataset, so the
    blocks stay independent. A row complete on fewer than :data:`MIN_ROW_SHARE` of the best-covered row's
    datasets is left out (not in ``rows used``) rather than shrinking everyone's datasets to its subset."""
    mats = {r: dataset_matrix(records, r, columns) for r in rows}
    mats = {r: m for r, m in mats.items() if len(m) and list(m.columns) == columns}
    if not mats:
        return pd.DataFrame(columns=columns, dtype=float), []
    short = short_rows({r: len(m) for r, m in mats.items()})  # a row run on a subset (FTTransformer on a CPU)
    mats = {r: m for r, m in mats.items() if r not in short}  # would shrink the blocks of every row: left out
    common = sorted(set.intersection(*(set(m.index) for m in mats.values())))
    return settle(sum(m.loc[common] for m in mats.values()) / len(mats)), list(mats)


def study_stats(records: pd.DataFrame, rows: list[str], columns: list[str], baseline: str | None,
                reference: str | None, extra_rows: list[str] = (), rope: float | None = ROPE,
                row_columns: bool = False) -> StudyStats:
    """Run every test of a study: per row, and ``overall`` over the rows that are not ``extra_rows``. A row with
    a column without runs has no tests, unless ``row_columns``: then it is tested on the columns it has (its
    Holm family is its comparisons among them), provided it has the baseline and the reference (the selection
    study, whose held-out selectors exist only on the detectors rerun with them)."""
    pairs = comparison_pairs(columns, baseline, reference)
    lines, fried = [], {}
    main_rows = [r for r in rows if r not in extra_rows]
    own = {r: [c for c in columns if row_columns and c in set(records.loc[records["row"] == r, "column"])]
           for r in rows}
    own = {r: cs if {baseline, reference} - {None} <= set(cs) else columns for r, cs in own.items()}
    blocks = [(r, dataset_matrix(records, r, own[r]), own[r]) for r in rows]
    overall_rows: list[str] = []
    if len(main_rows) > 1:
        overall, overall_rows = overall_matrix(records, main_rows, columns)
        blocks.append((OVERALL, overall, columns))
    for row, m, cols in blocks:
        if m.empty or list(m.columns) != cols:
            continue  # a column without runs: no complete blocks
        if pairs:
            res = wilcoxon_holm(m, [(a, b) for a, b in pairs if a in cols and b in cols], rope=rope)
            res.insert(0, "row", row)
            lines.append(res)
        fr = friedman_nemenyi(m)
        if fr is not None:
            fried[row] = fr
    pairwise = pd.concat(lines, ignore_index=True) if lines else pd.DataFrame(
        columns=["row", "a", "b", "n", "p", "p_holm", "significant"])
    return StudyStats(baseline=baseline, reference=reference, pairwise=pairwise, friedman=fried,
                      overall_rows=overall_rows, identical=identical_columns(records, rows, columns))


def identical_columns(records: pd.DataFrame, rows: list[str], columns: list[str]) -> dict[str, list]:
    """Per row, the pairs of columns made by different runs whose AUCROC is equal (at :data:`DECIMALS`) on every
    seed of a dataset, with those datasets: e.g. Mixup and CutMix with a single labeled anomaly, where both
    can only copy it. Such pairs are ties by construction, not evidence."""
    out: dict[str, list] = {}
    if records.empty or "run_id" not in records:
        return out
    for row in rows:
        sub = records[(records["row"] == row) & records["column"].isin(columns)]
        if sub.empty:
            continue
        val = sub.pivot_table(index=["dataset", "seed"], columns="column", values="value", aggfunc="first").round(DECIMALS)
        run = sub.pivot_table(index=["dataset", "seed"], columns="column", values="run_id", aggfunc="first")
        found = []
        for i, a in enumerate(columns):
            for b in columns[i + 1:]:
                if a not in val or b not in val:
                    continue
                same = (val[a] == val[b]) & (run[a] != run[b])
                both = val[a].notna() & val[b].notna()
                per_ds = (same | ~both).groupby(level="dataset").all() & both.groupby(level="dataset").any()
                hits = sorted(per_ds[per_ds].index)
                if hits:
                    found.append((a, b, hits))
        if found:
            out[row] = found
    return out


def min_wilcoxon_p(n: int) -> float:
    """The smallest two-sided p-value the exact Wilcoxon signed-rank test can give with ``n`` paired
    differences: 2 / 2**n (all differences of one sign); e.g. 0.0625 for 5 datasets, so 5 datasets can never
    be significant at 0.05. 1.0 for n < 1."""
    return 1.0 if n < 1 else min(1.0, 2.0 ** (1 - n))


#: a Monte Carlo probability is decided against a cut only when it lies more than this many standard errors from it
MC_Z = 3.0


def mc_side(p: float, cut: float, nsamples: int, z: float = MC_Z) -> int:
    """Which side of ``cut`` a Monte Carlo probability ``p`` (a share of ``nsamples`` seeded posterior draws) lies
    on, beyond its Monte Carlo error: +1 when ``p >= cut`` with ``p - z se > cut`` or ``p`` is 1, -1 when
    ``p < cut`` with ``p + z se < cut`` or ``p`` is 0, 0 when the draws cannot tell (``|p - cut| <= z se``, se =
    sqrt(cut (1 - cut) / nsamples), the binomial error at the cut) or ``p`` is NaN."""
    if p != p:
        return 0
    se = math.sqrt(cut * (1.0 - cut) / max(int(nsamples), 1))
    if p - cut > z * se or (p >= cut and p == 1.0):
        return 1
    if cut - p > z * se or (p < cut and p == 0.0):
        return -1
    return 0


def mean_interval(d: "np.ndarray | pd.Series", level: float = 0.95) -> tuple[float, float]:
    """Two-sided Student-t confidence interval (``level``) of the mean of the paired differences ``d`` (one per
    dataset; n - 1 degrees of freedom): exact under normality, no Monte Carlo. ``(nan, nan)`` for fewer than 2
    values; ``(m, m)`` when every difference is equal."""
    from scipy.stats import t

    d = np.asarray(d, dtype=float)
    d = d[~np.isnan(d)]
    if len(d) < 2:
        return float("nan"), float("nan")
    m, se = float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))
    half = float(t.ppf(0.5 + level / 2.0, len(d) - 1)) * se
    return m - half, m + half
