"""``results/claims.md``: each claim of the NNG-Mix paper, quoted, with the paper's figure, ours, the test, the
number of seeds and a verdict.

The claims live in a data file, ``results/paper/claims.yaml`` (:data:`CLAIMS_FILE`), one entry per claim::

    - id: plateau                       # unique, used in the report's anchors
      quote: "However, the performance tends to plateau when M exceeds 10."   # verbatim from the paper
      where: Sec. IV-C2; Fig. 3(a)       # section, table or figure
      study: fig3a                       # conf/study/<study>.yaml, whose table (results/<study>.csv) is used
      kind: equivalent                   # the yardstick, see below
      per: row                           # row: each detector row is tested on its own; overall: their mean
      rows: [deepsad, mlp]               # optional (default: the study's rows); unrun rows are reported
      pairs: [[20x, 10x], [50x, 10x]]    # (a, b) column pairs: "a vs b"
      source: nng-mix-2311.11961.fulltext.txt   # optional: the text the quote is from (default, in
                                         # ../shared/papers/); another paper's claim names that paper's text

Kinds (every comparison is paired over datasets, on seed-averaged AUCROC, Holm-corrected within the claim, and is
FOR the claim, AGAINST it or UNDECIDED; the table of yardsticks is in docs/claims.md):

* ``better``: a beats b. For: a significantly better (Wilcoxon signed-rank, Holm, :data:`ALPHA`); against: b
  significantly better or the two equivalent (Bayesian signed-rank, P(|a - b| < :data:`ROPE`) >= :data:`P_DECIDE`).
  ``most: true`` asks for a majority ("in most cases").
* ``equivalent``: for when P(within ``margin``) >= P_DECIDE; against when the whole :data:`EQUIV_LEVEL` Student-t
  interval of the mean difference lies beyond the margin. Non-significance alone never counts as equivalence.
* ``no_gain``: for when P(a better by more than the margin) <= 1 - P_DECIDE; against when a is significantly better.
* ``gain_size``: per item (``rows`` per item optional) two comparisons: direction (``better`` with the figure's
  sign) and size (the figure, recomputed on the rows we ran, inside our :data:`SIZE_LEVEL` t-interval).
* ``largest_gain``, ``best``: ``better`` per other row's gain / other column; one significantly ahead refutes.
* ``range_within``: per row and parameter ``group``: range < ``threshold`` and the extreme pair equivalent.
* ``per_dataset``: Table VII, one comparison per quoted part (``parts``: count, majority, max, mean).
* ``only``: ``column`` gains over ``b`` on every row and no other column does.
* ``best_setting``: per row, no other setting of ``groups[0]`` beats the best of ``settings``.
* ``families_differ``: ``families`` (name -> rows); per dataset each family's gain ``a`` - ``b`` is the mean over
  its rows (complete blocks); each pair of families is compared over datasets (Wilcoxon, Holm). For: a
  significant difference either way; against: the two equivalent (Bayesian, ROPE).

Posterior probabilities use :data:`CLAIM_BAYES_SAMPLES` seeded draws and decide nothing within 3 Monte Carlo
standard errors of their cut. Verdicts follow the balance (:func:`combine`): **reproduced**, **mostly**,
**mixed**, **not reproduced**, **contradicted**, **inconclusive**, **not run**; the report shows the counts beside
each. A claim whose rows include one without runs is at most **mostly**. ``beyond: true`` (or a ``source``
other than the paper) puts a claim in the report's table beyond the paper, with its own count. ``paper_from``
takes the paper's numbers from another study's table. Paper figures are recomputed over the same rows (and
datasets) as ours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from ..studies import load_study
from .stats import (ALPHA, ROPE, dataset_matrix, holm, mc_side, mean_interval, min_wilcoxon_p,
                    overall_matrix, short_rows, wilcoxon_holm)

REPRODUCED, MOSTLY, MIXED, NOT_REPRODUCED, CONTRADICTED, INCONCLUSIVE, NOT_RUN = (
    "reproduced", "mostly", "mixed", "not reproduced", "contradicted", "inconclusive", "not run")
#: the verdict levels, from the best to the worst for the claim, then the two that judge nothing
VERDICTS = (REPRODUCED, MOSTLY, MIXED, NOT_REPRODUCED, CONTRADICTED, INCONCLUSIVE, NOT_RUN)
#: the claims file (in the repository, next to the paper's transcribed tables)
CLAIMS_FILE = Path(__file__).resolve().parents[2] / "results" / "paper" / "claims.yaml"
#: posterior probability that decides an equivalence (or a practical difference)
P_DECIDE = 0.95
#: posterior draws of every Bayesian signed-rank test of a claim (baycomp's default); a probability within
#: :data:`~adbench_repro.aggregate.stats.MC_Z` Monte Carlo standard errors of its cut decides nothing
CLAIM_BAYES_SAMPLES = 50_000
#: a paper figure over a dataset family is compared with ours only with at least this share of its files
MIN_COVERAGE = 0.9
#: confidence of the interval of the mean difference that a size claim ("an improvement of 2.5%") must fall in
SIZE_LEVEL = 0.95
#: confidence of the interval that must lie wholly beyond the margin for an equivalence claim to be refuted
#: (two one-sided tests at ALPHA: 1 - 2 ALPHA)
EQUIV_LEVEL = 1 - 2 * ALPHA
FOR, AGAINST, UNDECIDED = "for", "against", "undecided"
KINDS = ("better", "equivalent", "no_gain", "gain_size", "largest_gain", "best", "range_within", "per_dataset",
         "only", "best_setting", "families_differ")
_KEYS = {"id", "quote", "where", "study", "kind", "per", "rows", "rows_note", "pairs", "most", "margin", "items",
         "row", "a", "b", "column", "top", "threshold", "groups", "source", "beyond", "paper_from", "parts",
         "paper_count", "paper_n", "paper_max", "paper_mean", "settings", "families"}
#: the text a claim's quote is from when it names no ``source`` (a file name under ../shared/papers/)
DEFAULT_SOURCE = "nng-mix-2311.11961.fulltext.txt"
#: the stated (pretrained) Deep SAD's row, shown beside the default Deep SAD's where a study has it
STATED_DEEPSAD = "deepsad_pretrained"
#: in a quote, the mark of a page break or figure that interrupts the paper's sentence (each part is verbatim)
QUOTE_GAP = " […] "


class ClaimsError(ValueError):
    """A claims file that cannot be used; the message names the file and the entry at fault."""


@dataclass
class Claim:
    """One evaluated claim: the spec's text plus the paper's figure, ours, the test, seeds and verdict."""

    id: str
    quote: str
    where: str
    study: str
    kind: str
    spec: dict = field(default_factory=dict, repr=False)
    source: str = DEFAULT_SOURCE
    paper: str = "—"
    ours: str = "—"
    test: str = "—"
    seeds: str = "—"
    verdict: str = NOT_RUN
    why: str = ""
    details: list[str] = field(default_factory=list)
    #: comparisons (for, against, undecided) behind the verdict; None where nothing was compared
    counts: tuple[int, int, int] | None = None
    #: a row beyond the paper (a test the paper does not make, or another paper's claim): its own table and count
    beyond: bool = False
    #: the stated (pretrained) Deep SAD's result for the same comparisons, never part of the verdict
    stated: str = ""


def load_claims(path: str | Path = CLAIMS_FILE) -> list[Claim]:
    """The claims of ``path`` (validated: known keys and kinds, unique ids, a quote, a study that exists)."""
    path = Path(path)
    try:
        entries = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ClaimsError(f"{path}: cannot read the claims file: {exc}") from exc
    if not isinstance(entries, list):
        raise ClaimsError(f"{path}: expected a list of claims")
    out, seen = [], set()
    for i, e in enumerate(entries):
        where = f"{path}: claim {i + 1} ({e.get('id', '?') if isinstance(e, dict) else '?'})"
        if not isinstance(e, dict):
            raise ClaimsError(f"{where}: expected a mapping")
        unknown = sorted(set(e) - _KEYS)
        missing = [k for k in ("id", "quote", "where", "study", "kind") if not e.get(k)]
        if unknown or missing:
            raise ClaimsError(f"{where}: unknown keys {unknown}" if unknown else f"{where}: missing {missing}")
        if e["kind"] not in KINDS:
            raise ClaimsError(f"{where}: kind {e['kind']!r} is not one of {', '.join(KINDS)}")
        source = e.get("source", DEFAULT_SOURCE)
        if not isinstance(source, str) or Path(source).name != source or not source.endswith(".txt"):
            raise ClaimsError(f"{where}: source must be a .txt file name under ../shared/papers/, got {source!r}")
        if e["id"] in seen:
            raise ClaimsError(f"{where}: duplicate id {e['id']!r}")
        seen.add(e["id"])
        try:
            study = load_study(e["study"])
        except Exception as exc:  # noqa: BLE001 - re-raised with the claim named
            raise ClaimsError(f"{where}: study {e['study']!r}: {exc}") from exc
        labels = set(study.table_labels())
        named = _columns_named(e)
        if not named:
            raise ClaimsError(f"{where}: kind {e['kind']!r} names no column of study {e['study']!r}")
        wrong = sorted(set(named) - labels)
        if wrong:
            raise ClaimsError(f"{where}: {wrong} are not columns of study {e['study']!r} "
                              f"(its columns: {', '.join(study.table_labels())})")
        out.append(Claim(id=e["id"], quote=" ".join(str(e["quote"]).split()), where=e["where"], study=e["study"],
                         kind=e["kind"], spec=e, source=source,
                         beyond=bool(e.get("beyond", source != DEFAULT_SOURCE))))
    return out


def _columns_named(e: dict) -> list[str]:
    """Every column label a claims entry refers to."""
    named = [str(x) for p in e.get("pairs") or [] for x in p]
    named += [str(it[k]) for it in e.get("items") or [] for k in ("a", "b")]
    named += [str(x) for g in e.get("groups") or [] for x in g]
    named += [str(x) for x in e.get("settings") or []]
    named += [str(e[k]) for k in ("a", "b", "column") if k in e]
    return named


# ------------------------------------------------------------------------------------------- the study data

class StudyResult:
    """One study's long table (``<out>/<study>.csv``) as the claims need it."""

    def __init__(self, name: str, long: pd.DataFrame) -> None:
        self.name, self.long = name, long
        study = load_study(name)
        self.extra_rows = study.extra_rows
        self.rows_key = study.rows  # detector, dataset (Table VII: one dataset per row), ...
        self.n_study_datasets = len(study.datasets)
        ds = long[long["level"] == "dataset"]
        self.records = pd.DataFrame({"row": ds["row"].astype(str), "column": ds["column"], "dataset": ds["dataset"],
                                     "seed": 0, "value": ds["value"].astype(float)})
        self.n_datasets = self.records["dataset"].nunique()
        #: another study's long table whose ``paper`` cells stand in for this one's (a claim's ``paper_from``)
        self.paper_long: pd.DataFrame | None = None

    def cell(self, row: str, column: str, field_: str = "value") -> float:
        long = self.paper_long if field_ == "paper" and self.paper_long is not None else self.long
        hit = long[(long["level"] == "cell") & (long["row"].astype(str) == row) & (long["column"] == column)]
        return float(hit[field_].iloc[0]) if len(hit) else float("nan")

    def all_rows(self) -> list[str]:
        cells = self.long[self.long["level"] == "cell"]
        return [r for r in dict.fromkeys(cells["row"].astype(str)) if r not in self.extra_rows]

    def ran(self, row: str) -> bool:
        return bool(len(self.records[self.records["row"] == row]))

    def seeds(self, rows: list[str], columns: list[str]) -> str:
        cells = self.long[(self.long["level"] == "cell") & self.long["row"].astype(str).isin(rows)
                          & self.long["column"].isin(columns) & (self.long["n_seeds"] > 0)]
        if cells.empty:
            return "—"
        lo, hi = int(cells["n_seeds"].min()), int(cells["n_seeds"].max())
        return str(lo) if lo == hi else f"{lo}-{hi}"

    def coverage_short(self) -> str | None:
        """'21 of 61 files' when too few of the study's files have runs to compare with the paper, else None."""
        if self.n_datasets >= MIN_COVERAGE * self.n_study_datasets:
            return None
        return f"{self.n_datasets} of {self.n_study_datasets} files"


def load(out_dir: Path, name: str) -> StudyResult | None:
    path = Path(out_dir) / f"{name}.csv"
    if not path.is_file():
        return None
    long = pd.read_csv(path)
    return StudyResult(name, long) if (long["level"] == "dataset").any() else None


# ------------------------------------------------------------------------------------------ the comparisons

def compare(s: StudyResult, pairs: list[tuple[str, str]], rows: list[str], per: str,
            margin: float = ROPE) -> pd.DataFrame:
    """Every (row, pair) comparison of a claim: Wilcoxon over datasets and the Bayesian signed-rank test with
    ROPE ``margin``, Holm-corrected over the whole claim; one line per comparison with ``unit`` (row or
    ``overall``), the paper's difference on the same rows, and the smallest attainable p."""
    cols = list(dict.fromkeys(c for p in pairs for c in p))
    blocks = []
    if per == "overall":
        m, used = overall_matrix(s.records, rows, cols)
        if used:
            blocks.append(("overall", m, used))
    else:
        for r in rows:
            m = dataset_matrix(s.records, r, cols)
            if len(m) and list(m.columns) == cols:  # one dataset is kept: it tests nothing (inconclusive)
                blocks.append((r, m, [r]))
    lines = []
    for unit, m, used in blocks:
        res = wilcoxon_holm(m, pairs, rope=margin, nsamples=CLAIM_BAYES_SAMPLES)
        res.insert(0, "unit", unit)
        res["rows"] = ",".join(used)
        res["paper_diff"] = [np.nanmean([s.cell(r, a, "paper") - s.cell(r, b, "paper") for r in used])
                             if any(not math.isnan(s.cell(r, a, "paper") - s.cell(r, b, "paper")) for r in used)
                             else np.nan for a, b in zip(res["a"], res["b"])]
        lines.append(res)
    if not lines:
        return pd.DataFrame()
    out = pd.concat(lines, ignore_index=True)
    tested = out["p"].notna()
    out["p_holm"] = np.nan
    if tested.any():
        out.loc[tested, "p_holm"] = holm(out.loc[tested, "p"].to_numpy())
    out["significant"] = out["p_holm"] < ALPHA
    return _with_power(out)


def _with_power(res: pd.DataFrame) -> pd.DataFrame:
    """``res`` with ``min_p`` (smallest attainable Wilcoxon p per comparison) and ``can_be_significant``
    (whether that p can pass Holm over all of ``res``'s comparisons)."""
    res["min_p"] = [min_wilcoxon_p(int(n)) for n in res["n"]]
    res["can_be_significant"] = res["min_p"] * max(len(res), 1) < ALPHA
    return res


def _n(line: pd.Series) -> int:
    n = line.get("bayes_samples", CLAIM_BAYES_SAMPLES)
    return int(n) if n == n else CLAIM_BAYES_SAMPLES


def _p(line: pd.Series, key: str) -> float:
    v = line.get(key, np.nan)
    return float(v) if v is not None else float("nan")


def outcome(line: pd.Series, kind: str, margin: float = ROPE) -> str:
    """FOR, AGAINST or UNDECIDED for one comparison under a claim of ``kind``. A posterior probability decides
    only beyond its Monte Carlo error (:func:`~adbench_repro.aggregate.stats.mc_side`)."""
    sig, d, n = bool(line["significant"]), float(line["mean_diff"]), _n(line)
    p_eq, p_better, p_worse = _p(line, "p_equivalent"), _p(line, "p_better"), _p(line, "p_worse")
    if kind == "equivalent":
        if mc_side(p_eq, P_DECIDE, n) > 0:
            return FOR
        lo, hi = _p(line, "ci90_low"), _p(line, "ci90_high")
        if lo > margin or hi < -margin:  # the whole 90% interval beyond the margin: TOST's dual at ALPHA
            return AGAINST
        return UNDECIDED
    if kind == "no_gain":
        if sig and d > 0:
            return AGAINST
        return FOR if mc_side(p_better, 1 - P_DECIDE, n) < 0 else UNDECIDED
    # better
    if sig and d > 0:
        return FOR
    if (sig and d < 0) or mc_side(p_eq, P_DECIDE, n) > 0 or mc_side(p_worse, P_DECIDE, n) > 0:
        return AGAINST
    return UNDECIDED


def size_outcomes(line: pd.Series, target: float, level: float = SIZE_LEVEL) -> tuple[str, str]:
    """A size claim ("an improvement of 2.5%") is two comparisons. Direction: a difference of the target's sign,
    judged as ``better`` (Wilcoxon, Holm; against when the other way round or equivalent). Size: FOR when
    ``target`` lies in our ``level`` Student-t interval of the mean difference over datasets, AGAINST when it lies
    outside. Both for: the paper's figure is inside an interval that excludes 0."""
    lo, hi = mean_interval_of(line, level)  # of a - b, whatever the target's sign
    size = UNDECIDED if lo != lo else FOR if lo <= target <= hi else AGAINST
    if target < 0:  # "a decrease of 0.8%": the direction claimed is that b beats a
        line = line.copy()
        line["mean_diff"] = -float(line["mean_diff"])
        line["p_better"], line["p_worse"] = line.get("p_worse", np.nan), line.get("p_better", np.nan)
    direction = outcome(line, "better")
    return direction, size


def mean_interval_of(line: pd.Series, level: float) -> tuple[float, float]:
    key = {0.95: "ci95", 0.90: "ci90"}.get(round(level, 2))
    if key is None:
        raise ValueError(f"no {level:.0%} interval in a comparison line (have 95% and 90%)")
    return _p(line, f"{key}_low"), _p(line, f"{key}_high")


def counts_of(outcomes: list[str]) -> tuple[int, int, int]:
    """(for, against, undecided) of a claim's comparison outcomes."""
    return outcomes.count(FOR), outcomes.count(AGAINST), outcomes.count(UNDECIDED)


def combine(outcomes: list[str], most: bool = False) -> str:
    """The verdict of a claim from its comparison outcomes: the balance of for (f), against (a) of n.

    reproduced: every comparison for (``most``: a majority for); mostly: a majority for, not all; mixed: some for
    and at least as many for as against; not reproduced: more against than for; contradicted: a majority against
    (``most``: at least half, so that "in most cases" cannot hold); inconclusive: every comparison undecided.
    A claim with more comparisons against than for is never mixed or better."""
    n, f, a = len(outcomes), outcomes.count(FOR), outcomes.count(AGAINST)
    if not n:
        return NOT_RUN
    if f == 0 and a == 0:
        return INCONCLUSIVE
    if a > n / 2 or (most and a >= n / 2):
        return CONTRADICTED
    if a > f:
        return NOT_REPRODUCED
    if f == n or (most and f > n / 2):
        return REPRODUCED
    if f > n / 2 and not most:
        return MOSTLY
    return MIXED


def _judge(c: Claim, outcomes: list[str], most: bool = False) -> None:
    """Set a claim's verdict and counts from its outcomes."""
    c.counts = counts_of(outcomes)
    c.verdict = combine(outcomes, most)


def _line_text(line: pd.Series, show_unit: bool = True, level: float | None = None) -> str:
    """One comparison in words; with ``level``, its Student-t interval of the mean difference at that level."""
    unit = f"{line['unit']}: " if show_unit else ""
    paper = "" if math.isnan(line["paper_diff"]) else f"; paper {line['paper_diff']:+.3f}"
    p = "—" if pd.isna(line["p_holm"]) else f"{line['p_holm']:.2g}"
    eq = "" if pd.isna(line.get("p_equivalent")) else f", P(equiv.) {line['p_equivalent']:.2f}"
    ci = ""
    if level is not None:
        lo, hi = mean_interval_of(line, level)
        ci = "" if lo != lo else f", {level:.0%} CI [{lo:+.3f}, {hi:+.3f}]"
    power = "" if line["can_be_significant"] else f", cannot be significant with {int(line['n'])} datasets"
    return (f"{unit}{line['a']} − {line['b']} {line['mean_diff']:+.3f} (W/T/L {line['wins']}/{line['ties']}/"
            f"{line['losses']}{ci}, Holm p {p}{eq}{power}{paper})")


def _summary(res: pd.DataFrame, outs: list[str], level: float | None = None) -> str:
    if len(res) <= 3:
        return "; ".join(f"{o}: " + _line_text(line, res["unit"].nunique() > 1 or line["unit"] != "overall", level)
                         for o, (_, line) in zip(outs, res.iterrows()))
    by_unit = []
    for unit, sub in res.groupby("unit", sort=False):
        o = [x for x, u in zip(outs, res["unit"]) if u == unit]
        by_unit.append(f"{unit} {o.count(FOR)}/{o.count(AGAINST)}/{o.count(UNDECIDED)} "
                       f"(mean {sub['mean_diff'].mean():+.3f})")
    return "for/against/undecided by row: " + ", ".join(by_unit)


TEST_BETTER = f"Wilcoxon signed-rank over datasets, Holm (α {ALPHA}); against = b significantly better, " \
              f"equivalent or practically better (Bayesian signed-rank, ROPE ±{{margin}}: P(equivalent) or " \
              f"P(b better by > {{margin}}) ≥ {P_DECIDE}, {CLAIM_BAYES_SAMPLES:,} draws)"
TEST_EQUIV = (f"equivalence: for = Bayesian signed-rank P(within ±{{margin}}) ≥ {P_DECIDE} ({CLAIM_BAYES_SAMPLES:,} "
              f"draws); against = the whole {EQUIV_LEVEL:.0%} Student-t interval of the mean difference beyond "
              f"±{{margin}}")
TEST_NO_GAIN = f"non-superiority: P(a better by > {{margin}}) ≤ {1 - P_DECIDE:.2f} (Bayesian signed-rank, " \
               f"{CLAIM_BAYES_SAMPLES:,} draws); against = Holm-significant gain"
TEST_SIZE = (f"two comparisons per figure: direction (Wilcoxon over datasets, Holm, α {ALPHA}: for = significant "
             f"with the figure's sign; against = significant the other way, equivalent or practically the other way, Bayesian ±{ROPE}) and "
             f"size "
             f"(for = the paper's figure, on the same rows, inside our {SIZE_LEVEL:.0%} Student-t interval of the "
             f"mean difference over datasets; against = outside it)")


# ------------------------------------------------------------------------------------------------ the kinds

def _rows(s: StudyResult, spec: dict) -> tuple[list[str], list[str]]:
    """(rows the claim is about, those of them without runs)."""
    rows = [str(r) for r in spec.get("rows") or s.all_rows()]
    return rows, [r for r in rows if not s.ran(r)]


def check_pairs(s: StudyResult, c: Claim) -> None:
    """``better``, ``equivalent`` and ``no_gain``."""
    spec = c.spec
    rows, unrun = _rows(s, spec)
    ran = [r for r in rows if r not in unrun]
    pairs = [tuple(p) for p in spec["pairs"]]
    margin = float(spec.get("margin", ROPE))
    res = compare(s, pairs, ran, spec.get("per", "overall"), margin) if ran else pd.DataFrame()
    c.test = {"better": TEST_BETTER, "equivalent": TEST_EQUIV, "no_gain": TEST_NO_GAIN}[c.kind].format(margin=margin)
    c.seeds = s.seeds(ran, list(dict.fromkeys(x for p in pairs for x in p)))
    if res.empty:
        c.verdict, c.why = NOT_RUN, (f"no runs for {', '.join(unrun)}" if unrun else "no complete comparison")
        return
    level = EQUIV_LEVEL if c.kind == "equivalent" else None
    outs = [outcome(line, c.kind, margin) for _, line in res.iterrows()]
    _judge(c, outs, bool(spec.get("most")))
    c.ours = _summary(res, outs, level)
    pd_ = res["paper_diff"].dropna()
    listed = res.dropna(subset=["paper_diff"])
    c.paper = ("—" if c.source != DEFAULT_SOURCE else _no_paper_numbers(s) if pd_.empty else f"{pd_.iloc[0]:+.3f}" if len(pd_) == 1
               else ", ".join(f"{u} {x:+.3f}" for u, x in zip(listed["unit"], listed["paper_diff"]))
               if len(pd_) <= 5 and listed["unit"].is_unique
               else f"{len(pd_)} differences, {pd_.min():+.3f} to {pd_.max():+.3f} (same rows)")
    if c.verdict == INCONCLUSIVE and not res["can_be_significant"].any():
        c.why = f"power: {int(res['n'].max())} datasets cannot give a significant result"
    c.details = [f"{o}: {_line_text(line, True, level)}" for o, (_, line) in zip(outs, res.iterrows())]
    _cap_unrun(c, unrun)


def _no_paper_numbers(s: StudyResult) -> str:
    study = load_study(s.name)
    if study.selection:  # selectors: no paper figure exists
        return "beyond the paper: no selection there"
    return "a figure: no numbers printed" if study.paper is None and s.paper_long is None else "—"


def check_gain_size(s: StudyResult, c: Claim) -> None:
    """``gain_size``: each item's figure against our interval of the mean difference (:func:`size_outcome`), on
    the row with the largest gain among the item's ``rows`` (default: the claim's), or their mean (``per:
    overall``)."""
    spec = c.spec
    per = spec.get("per", "row")
    c.test = TEST_SIZE
    outs, ours, paper, details, unrun_all, ran_all = [], [], [], [], [], []
    for item in spec["items"]:
        rows, unrun = _rows(s, {**spec, "rows": item.get("rows") or spec.get("rows")})
        ran = [r for r in rows if r not in unrun]
        unrun_all += [r for r in unrun if r not in unrun_all]
        ran_all += [r for r in ran if r not in ran_all]
        a, b, claimed = item["a"], item["b"], float(item["paper"])
        if per == "overall":
            res = compare(s, [(a, b)], ran, "overall") if ran else pd.DataFrame()
        else:
            gains = {r: s.cell(r, a) - s.cell(r, b) for r in ran}
            gains = {r: g for r, g in gains.items() if not math.isnan(g)}
            if not gains:
                continue
            res = compare(s, [(a, b)], [max(gains, key=gains.get)], "row")
        if res.empty:
            continue
        line = res.iloc[0]
        # like for like: the paper's largest gain over the rows we ran (its figure when that row ran)
        paper_gains = {r: s.cell(r, a, "paper") - s.cell(r, b, "paper") for r in rows}
        paper_ran = {r: g for r, g in paper_gains.items() if r in ran and not math.isnan(g)}
        if per == "overall":
            same = float(line["paper_diff"])
        else:
            same = max(paper_ran.values()) if paper_ran else float("nan")
        target = claimed if math.isnan(same) or abs(same - claimed) < 0.0015 else same
        paper.append(f"{claimed:+.3f}" + ("" if target == claimed else f" (on the rows we ran: {target:+.3f})"))
        direction, size = size_outcomes(line, target)
        lo, hi = mean_interval_of(line, SIZE_LEVEL)
        outs += [direction, size]
        ours.append(f"{_line_text(line, per != 'overall', SIZE_LEVEL)}: direction {direction}, size {size}")
        details.append(f"direction {direction}, size {size}: {_line_text(line, True, SIZE_LEVEL)}; the paper's "
                       f"{target:+.3f} is {'inside' if lo <= target <= hi else 'outside'} the interval")
    c.seeds = s.seeds(ran_all, list(dict.fromkeys(x for it in spec["items"] for x in (it["a"], it["b"]))))
    if not outs:
        c.verdict, c.why = NOT_RUN, f"no runs for {', '.join(unrun_all) or 'these rows'}"
        return
    c.paper, c.ours, c.details = "; ".join(paper), "; ".join(ours), details
    _judge(c, outs)
    _cap_unrun(c, unrun_all)


def check_largest_gain(s: StudyResult, c: Claim) -> None:
    spec = c.spec
    row, a, b = str(spec["row"]), spec["a"], spec["b"]
    others = [r for r in s.all_rows() if r != row and s.ran(r)]
    c.test = (f"{row}'s per-dataset gain vs each other row's, Wilcoxon over datasets, Holm (α {ALPHA}); against = "
              f"another row's gain significantly larger, equivalent or practically larger (Bayesian, ±{ROPE})")
    paper = {r: s.cell(r, a, "paper") - s.cell(r, b, "paper") for r in s.all_rows()}
    paper = {r: g for r, g in paper.items() if not math.isnan(g)}
    if paper:
        top = max(paper, key=paper.get)
        c.paper = f"largest gain: {top} {paper[top]:+.3f}" + (f" ({row} {paper[row]:+.3f})" if row != top and row in paper else "")
    if not s.ran(row):
        c.verdict, c.why = NOT_RUN, f"{row} not run"
        return
    m = dataset_matrix(s.records, row, [a, b])
    gains = pd.DataFrame({row: m[a] - m[b]})
    for r in others:
        mr = dataset_matrix(s.records, r, [a, b])
        gains[r] = mr[a] - mr[b]
    gains = gains.dropna()
    res = wilcoxon_holm(gains, [(row, r) for r in others], rope=ROPE, nsamples=CLAIM_BAYES_SAMPLES)
    res.insert(0, "unit", "gain")
    res["paper_diff"] = [paper.get(row, np.nan) - paper.get(r, np.nan) for r in others]
    res = _with_power(res)
    outs = [outcome(line, "better") for _, line in res.iterrows()]
    _judge(c, outs)
    # one row whose gain is significantly larger refutes "benefits the most"
    if any(bool(line["significant"]) and line["mean_diff"] < 0 for _, line in res.iterrows()) \
            and c.verdict in (REPRODUCED, MOSTLY, MIXED):
        c.verdict, c.why = NOT_REPRODUCED, "another row's gain is significantly larger"
    means = {r: float(gains[r].mean()) for r in gains}
    c.ours = f"gains: " + ", ".join(f"{r} {g:+.3f}" for r, g in sorted(means.items(), key=lambda x: -x[1]))
    c.details = [f"{o}: gain of {_line_text(line, False)}" for o, (_, line) in zip(outs, res.iterrows())]
    c.seeds = s.seeds([row] + others, [a, b])
    _cap_unrun(c, [r for r in s.all_rows() if not s.ran(r)])


def check_best(s: StudyResult, c: Claim) -> None:
    """``best``: one comparison per other column (``better``); a column that is not within the ``top`` by the
    Average is at most not reproduced."""
    spec = c.spec
    col, top = spec["column"], int(spec.get("top", 1))
    rows, unrun = _rows(s, spec)
    ran = [r for r in rows if r not in unrun]
    cols = list(dict.fromkeys(s.long.loc[s.long["level"] == "cell", "column"]))
    m, used = overall_matrix(s.records, ran, cols)
    c.test = (f"rank of the Average over the rows run; {col} vs every other column, Wilcoxon over datasets, Holm "
              f"(α {ALPHA}); against = the other column significantly better, equivalent or practically better (Bayesian, "
              f"±{ROPE})")
    c.seeds = s.seeds(ran, cols)
    paper = {k: np.mean([s.cell(r, k, "paper") for r in used]) if used else np.nan for k in cols}
    if all(not math.isnan(v) for v in paper.values()) and paper:
        rank_p = sorted(paper, key=lambda k: -paper[k]).index(col) + 1
        c.paper = f"{col} {paper[col]:.4f}, rank {rank_p} of {len(cols)} (mean of the paper's cells over {', '.join(used)})"
    if not used:
        c.verdict = NOT_RUN
        return
    avg = m.mean(axis=0)
    ranked = sorted(cols, key=lambda k: -avg[k])
    rank = ranked.index(col) + 1
    head = f"{col} {avg[col]:.3f}, rank {rank} of {len(cols)} (best: {ranked[0]} {avg[ranked[0]]:.3f}; over {', '.join(used)}, {len(m)} datasets)"
    if len(m) < 2:
        c.ours, c.verdict, c.why = head, INCONCLUSIVE, f"power: {len(m)} dataset(s), nothing can be tested"
        return
    res = wilcoxon_holm(m, [(col, k) for k in cols if k != col], rope=ROPE, nsamples=CLAIM_BAYES_SAMPLES)
    res = res.assign(unit="overall", paper_diff=[paper[col] - paper[k] for k in res["b"]],
                     can_be_significant=min_wilcoxon_p(len(m)) * len(res) < ALPHA)
    outs = [outcome(line, "better") for _, line in res.iterrows()]
    if top > 1:  # "best or second best": only a column significantly ahead counts against
        outs = [AGAINST if bool(line["significant"]) and line["mean_diff"] < 0 else o if o != AGAINST else UNDECIDED
                for o, (_, line) in zip(outs, res.iterrows())]
    worse = res.loc[res["significant"] & (res["mean_diff"] < 0), "b"].tolist()
    c.ours = (f"{head}; significantly better than {int((res['significant'] & (res['mean_diff'] > 0)).sum())} of "
              f"{len(res)} columns" + (f", worse than {', '.join(worse)}" if worse else ""))
    _judge(c, outs)
    if (rank > top or (top == 1 and worse)) and c.verdict in (REPRODUCED, MOSTLY, MIXED):
        c.verdict, c.why = NOT_REPRODUCED, f"rank {rank} by the Average" + (
            f", {', '.join(worse)} significantly better" if worse else "")
    if top > 1 and rank <= top and not worse:
        c.verdict = REPRODUCED
    if min_wilcoxon_p(len(m)) * len(res) >= ALPHA and c.verdict not in (NOT_REPRODUCED, CONTRADICTED):
        c.verdict, c.why = INCONCLUSIVE, f"power: {len(m)} datasets cannot give a significant result"
    c.details = [f"{o}: {col} vs {b}: {_line_text(line, False)}" for o, b, (_, line) in
                 zip(outs, res["b"], res.iterrows())]
    _cap_unrun(c, unrun)


def check_range_within(s: StudyResult, c: Claim) -> None:
    """``range_within``, one comparison per row and parameter group: for = range of the cell means below the
    threshold and the extreme pair equivalent within it; against = range at or above it and the extreme pair's
    90% interval wholly beyond it; judged "in most cases"."""
    spec = c.spec
    thr = float(spec.get("threshold", 0.02))
    rows, unrun = _rows(s, spec)
    ran = [r for r in rows if r not in unrun]
    c.test = (f"the paper's yardstick, per row and parameter: for = range of the cell means < {thr} and the extreme "
              f"pair equivalent within ±{thr} (Bayesian signed-rank, P ≥ {P_DECIDE}); against = range ≥ {thr} and "
              f"the extreme pair's {EQUIV_LEVEL:.0%} interval beyond ±{thr}; in most cases")
    outs, details, paper_within, paper_n = [], [], 0, 0
    within = equiv = 0
    for r in ran:
        for group in spec["groups"]:
            vals = {k: s.cell(r, k) for k in group}
            if any(math.isnan(v) for v in vals.values()):
                continue
            hi, lo = max(vals, key=vals.get), min(vals, key=vals.get)
            rng = vals[hi] - vals[lo]
            if hi == lo:  # every setting gives the same mean
                line = pd.Series({"p_equivalent": 1.0, "bayes_samples": CLAIM_BAYES_SAMPLES, "ci90_low": 0.0,
                                  "ci90_high": 0.0})
            else:
                m = dataset_matrix(s.records, r, [hi, lo])
                line = wilcoxon_holm(m, [(hi, lo)], rope=thr, nsamples=CLAIM_BAYES_SAMPLES).iloc[0]
            eq = mc_side(float(line["p_equivalent"]), P_DECIDE, _n(line)) > 0
            beyond = float(line["ci90_low"]) > thr
            o = FOR if rng < thr and eq else AGAINST if rng >= thr and beyond else UNDECIDED
            outs.append(o)
            within += rng < thr
            equiv += eq
            pv = [s.cell(r, k, "paper") for k in group]
            if not any(math.isnan(v) for v in pv):
                paper_n += 1
                paper_within += (max(pv) - min(pv)) < thr
            details.append(f"{o}: {r}, {'/'.join(group)}: range {rng:.3f} ({hi} − {lo}), P(equiv. ±{thr}) "
                           f"{float(line['p_equivalent']):.2f}, 90% CI [{float(line['ci90_low']):+.3f}, "
                           f"{float(line['ci90_high']):+.3f}]")
    c.seeds = s.seeds(ran, [k for g in spec["groups"] for k in g])
    if not outs:
        c.verdict = NOT_RUN
        return
    n = len(outs)
    c.paper = (f"fluctuations < {thr:.0%} in most cases" + (f" ({paper_within} of {paper_n} row x parameter ranges)"
                                                            if paper_n else ""))
    c.ours = f"{within} of {n} row x parameter ranges < {thr}; {equiv} of {n} extreme pairs equivalent within ±{thr}"
    c.details = details
    _judge(c, outs, most=True)
    _cap_unrun(c, unrun)


def _clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) ``level`` interval of a binomial share k / n."""
    from scipy.stats import beta

    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def check_per_dataset(s: StudyResult, c: Claim) -> None:
    """``per_dataset`` (Table VII, one row per dataset): each quoted part is one comparison. ``parts``:
    ``count`` (the paper's share of datasets improved, on our datasets, inside the 95% Clopper-Pearson interval of
    ours), ``majority`` (that interval above one half: "the majority of these datasets"), ``max`` (the paper's
    largest gain, on the dataset where the paper has it, inside the 95% interval over seeds of ours there; the
    seeds' spreads of the two cells combined unpaired, the long table keeping no paired spread) and ``mean``
    (the paper's mean gain on our datasets inside our 95% Student-t interval of the mean over datasets, which
    excludes 0)."""
    from scipy.stats import t as student_t
    from scipy.stats import wilcoxon

    spec = c.spec
    a, b = spec["a"], spec["b"]
    parts = list(spec.get("parts") or ["count", "max", "mean"])
    cells = s.long[s.long["level"] == "cell"].copy()
    cells["row"] = cells["row"].astype(str)
    wide = cells.pivot_table(index="row", columns="column", values="value")
    paper = cells.pivot_table(index="row", columns="column", values="paper")
    sd = cells.pivot_table(index="row", columns="column", values="std_seeds")
    nseeds = cells.pivot_table(index="row", columns="column", values="n_seeds")
    both = wide[[a, b]].dropna().index if a in wide and b in wide else []
    c.test = (f"{a} − {b} per dataset (3 decimals, as printed; ties count as improved); one comparison per quoted "
              f"part: {', '.join(parts)} (see docs/claims.md)")
    c.seeds = s.seeds(list(both), [a, b])
    if len(both) < 2:
        c.verdict = NOT_RUN
        return
    g = wide.loc[both, a].round(3) - wide.loc[both, b].round(3)
    pb = paper.reindex(both)
    pg = (pb[a] - pb[b]).dropna() if a in pb and b in pb else pd.Series(dtype=float)
    d = (wide.loc[both, a] - wide.loc[both, b]).to_numpy()
    p = float(wilcoxon(d, zero_method="zsplit").pvalue) if np.any(d != 0) else 1.0
    k, n = int((g >= 0).sum()), len(g)
    quoted = []
    if "paper_count" in spec:
        quoted.append(f"{spec['paper_count']} of {spec.get('paper_n', '?')} improved")
    if "paper_max" in spec:
        quoted.append(f"max {float(spec['paper_max']):+.3f}")
    if "paper_mean" in spec:
        quoted.append(f"mean {float(spec['paper_mean']):+.3f}")
    same = (f"on our {len(pg)} datasets: {int((pg >= 0).sum())} of {len(pg)}, max {pg.max():+.3f} "
            f"({pg.idxmax()}), mean {pg.mean():+.3f}") if len(pg) else ""
    c.paper = "; ".join(x for x in (", ".join(quoted), same) if x) or "—"
    c.ours = f"{k} of {n} improved, max {g.max():+.3f} ({g.idxmax()}), mean {g.mean():+.3f} (Wilcoxon p {p:.2g})"
    outs, details = [], []
    lo_k, hi_k = _clopper_pearson(k, n)
    for part in parts:
        if part == "count" and len(pg):
            share = float((pg >= 0).mean())
            o = FOR if lo_k <= share <= hi_k else AGAINST
            details.append(f"{o}: count: ours {k} of {n} (95% Clopper-Pearson {lo_k:.2f}-{hi_k:.2f}); the paper's "
                           f"{int((pg >= 0).sum())} of {len(pg)} on the same datasets ({share:.2f})")
        elif part == "majority":
            o = FOR if lo_k > 0.5 else AGAINST if hi_k < 0.5 else UNDECIDED
            details.append(f"{o}: majority: ours {k} of {n} improved (95% Clopper-Pearson {lo_k:.2f}-{hi_k:.2f})"
                           + (f"; the paper's {int((pg >= 0).sum())} of {len(pg)}" if len(pg) else ""))
        elif part == "max" and len(pg):
            ds = str(pg.idxmax())
            mean = float(wide.at[ds, a] - wide.at[ds, b])
            ns = int(min(nseeds.at[ds, a], nseeds.at[ds, b]))
            se = math.sqrt(float(sd.at[ds, a]) ** 2 + float(sd.at[ds, b]) ** 2) / math.sqrt(ns) if ns > 1 else float("nan")
            half = float(student_t.ppf(0.975, ns - 1)) * se if se == se else float("nan")
            if half != half:
                o = UNDECIDED
                details.append(f"{o}: max: the paper's {pg.max():+.3f} on {ds}; ours there {mean:+.3f} "
                               f"({ns} seed: no interval); our largest {g.max():+.3f} ({g.idxmax()})")
            else:
                o = FOR if mean - half <= pg.max() <= mean + half else AGAINST
                details.append(f"{o}: max: the paper's {pg.max():+.3f} on {ds}; ours there {mean:+.3f}, 95% interval "
                               f"over {ns} seeds [{mean - half:+.3f}, {mean + half:+.3f}]; our largest "
                               f"{g.max():+.3f} ({g.idxmax()})")
        elif part == "mean" and len(pg):
            lo, hi = mean_interval(d, SIZE_LEVEL)
            target = float(pg.mean())
            o = AGAINST if not lo <= target <= hi else FOR if lo > 0 else UNDECIDED
            details.append(f"{o}: mean: ours {d.mean():+.3f}, 95% Student-t interval [{lo:+.3f}, {hi:+.3f}]; the "
                           f"paper's {target:+.3f} on the same datasets")
        else:
            continue
        outs.append(o)
    c.details = details
    if not outs:
        c.verdict = NOT_RUN
        return
    _judge(c, outs)


def check_only(s: StudyResult, c: Claim) -> None:
    """``only``: ``column`` gains on every row over ``b`` (``better`` per row) and every other column does not
    (it fails on some row). One comparison per row for ``column``; one per other column: for when that column
    has a row against its gain, against when it gains on every row, undecided otherwise. Holm over all."""
    spec = c.spec
    col, base = spec["column"], spec["b"]
    rows, unrun = _rows(s, spec)
    ran = [r for r in rows if r not in unrun]
    cols = [k for k in dict.fromkeys(s.long.loc[s.long["level"] == "cell", "column"]) if k not in (col, base)]
    c.test = (f"each column − {base} per row (Wilcoxon, Holm over all, α {ALPHA}; against = {base} significantly "
              f"better, equivalent or practically better, Bayesian ±{ROPE}); {col}: one comparison per row; each other column: for when "
              f"it fails on some row, against when it gains on every row")
    c.seeds = s.seeds(ran, [col, base, *cols])
    res = compare(s, [(k, base) for k in [col, *cols]], ran, "row") if ran else pd.DataFrame()
    if res.empty:
        c.verdict = NOT_RUN
        return
    o_all = [outcome(line, "better") for _, line in res.iterrows()]
    res = res.assign(outcome=o_all)
    mine = res[res["a"] == col]
    outs = list(mine["outcome"])
    details = [f"{o}: {_line_text(line)}" for o, (_, line) in zip(outs, mine.iterrows())]
    consistent = []
    for k in cols:
        ok = list(res.loc[res["a"] == k, "outcome"])
        o = FOR if AGAINST in ok else AGAINST if ok and all(x == FOR for x in ok) else UNDECIDED
        outs.append(o)
        if o == AGAINST:
            consistent.append(k)
        details.append(f"{o}: {k} − {base}, for/against/undecided by row: {ok.count(FOR)}/{ok.count(AGAINST)}/"
                       f"{ok.count(UNDECIDED)}")
    c.ours = (f"{col} − {base} by row: " + ", ".join(f"{line['unit']} {line['outcome']} ({line['mean_diff']:+.3f})"
                                                    for _, line in mine.iterrows())
              + f"; other columns gaining on every row: {', '.join(consistent) or 'none'}")
    pdiff = res.loc[res["a"] == col, "paper_diff"].dropna()
    c.paper = (f"{col} − {base} {pdiff.min():+.3f} to {pdiff.max():+.3f} by row (same rows)" if len(pdiff)
               else _no_paper_numbers(s))
    c.details = details
    _judge(c, outs)
    _cap_unrun(c, unrun)


def check_best_setting(s: StudyResult, c: Claim) -> None:
    """``best_setting`` (Fig. 5's "5 and 10 emerge as well-performing choices"): per row, the best of the claimed
    ``settings`` (by mean) against the best of the other settings of ``groups[0]``: for when no other setting is
    better by more than the margin (Bayesian P(other better by > margin) ≤ 1 − P_DECIDE) or the claimed one is
    significantly better; against when the other is significantly better (Holm over the rows); judged "in most
    cases" (``most``, default true)."""
    spec = c.spec
    group, claimed = [str(x) for x in spec["groups"][0]], [str(x) for x in spec["settings"]]
    margin = float(spec.get("margin", ROPE))
    rows, unrun = _rows(s, spec)
    ran = [r for r in rows if r not in unrun]
    c.test = (f"per row: best of {'/'.join(claimed)} vs best other of {'/'.join(group)} (by mean), Wilcoxon over "
              f"datasets, Holm over the rows (α {ALPHA}); for = no other setting better by > {margin} (Bayesian, "
              f"P ≤ {1 - P_DECIDE:.2f}) or the claimed one significantly better; against = the other significantly "
              f"better; in most cases")
    c.seeds = s.seeds(ran, group)
    lines = []
    for r in ran:
        vals = {k: s.cell(r, k) for k in group}
        if any(math.isnan(v) for v in vals.values()):
            continue
        best_claimed = max(claimed, key=vals.get)
        best_other = max((k for k in group if k not in claimed), key=vals.get)
        m = dataset_matrix(s.records, r, [best_other, best_claimed])
        if len(m) < 2:
            continue
        line = wilcoxon_holm(m, [(best_other, best_claimed)], rope=margin, nsamples=CLAIM_BAYES_SAMPLES).iloc[0]
        lines.append(line.to_dict() | {"unit": r, "best": max(vals, key=vals.get)})
    if not lines:
        c.verdict = NOT_RUN
        return
    res = pd.DataFrame(lines)
    res["p_holm"] = holm(res["p"].fillna(1.0).to_numpy())
    res["significant"] = res["p_holm"] < ALPHA
    res["paper_diff"] = np.nan
    res = _with_power(res)
    outs = []
    for _, line in res.iterrows():
        if line["significant"] and line["mean_diff"] > 0:
            outs.append(AGAINST)
        elif (line["significant"] and line["mean_diff"] < 0) or mc_side(float(line["p_better"]), 1 - P_DECIDE,
                                                                        _n(line)) < 0:
            outs.append(FOR)
        else:
            outs.append(UNDECIDED)
    c.paper = _no_paper_numbers(s)
    c.ours = "best setting by row: " + ", ".join(f"{line['unit']} {line['best']}" for _, line in res.iterrows())
    c.details = [f"{o}: {_line_text(line)} (best by mean: {line['best']})" for o, (_, line) in zip(outs, res.iterrows())]
    _judge(c, outs, most=bool(spec.get("most", True)))
    _cap_unrun(c, unrun)


def _cap_unrun(c: Claim, unrun: list[str]) -> None:
    """A claim about rows that did not all run is at most mostly, and says which rows are missing."""
    if not unrun:
        return
    c.why = "; ".join(x for x in (c.why, f"{', '.join(unrun)} not run") if x)
    rows = [str(r) for r in c.spec.get("rows") or []] or None
    ran = len(rows) - len(unrun) if rows else None
    cap = MIXED if ran is not None and ran <= len(unrun) else MOSTLY  # most of the rows unrun: at most mixed
    order = VERDICTS.index
    if c.verdict in (REPRODUCED, MOSTLY, MIXED) and order(c.verdict) < order(cap):
        c.verdict = cap


def _cap_coverage(c: Claim, s: StudyResult) -> None:
    short = s.coverage_short()
    if short and c.verdict != NOT_RUN:
        c.verdict = INCONCLUSIVE
        c.why = "; ".join(x for x in (f"data: {short}, the paper's figure is over all of them", c.why) if x)


def _note_partial_rows(c: Claim, s: StudyResult) -> None:
    """Say which of the claim's rows ran on a subset of the study's datasets (FTTransformer where a CPU carries
    it): judged on that subset on their own, left out of a mean over rows (:func:`stats.overall_matrix`). Not
    when the rows are the datasets (Table VII): each row has one dataset by construction."""
    if c.verdict == NOT_RUN or s.rows_key == "dataset":
        return
    rows = [str(r) for r in c.spec.get("rows") or s.all_rows()]
    if c.spec.get("row"):
        rows.append(str(c.spec["row"]))
    counts = s.records.groupby("row")["dataset"].nunique()
    partial = [f"{r} on {int(counts[r])} of {s.n_datasets} datasets"
               for r in short_rows({r: int(counts[r]) for r in dict.fromkeys(rows) if r in counts.index},
                                   of=s.n_datasets)]
    if partial:
        where = ("left out of the mean over rows" if c.spec.get("per", "overall") == "overall" and c.kind in
                 ("better", "equivalent", "no_gain") else "judged on that subset")
        c.why = "; ".join(x for x in (c.why, f"{', '.join(partial)}: {where}") if x)


def _note_datasets(c: Claim, s: StudyResult) -> None:
    """Say in the Paper column when the paper's figure is over more of the family's datasets than ours."""
    if s.n_datasets < s.n_study_datasets and c.verdict != NOT_RUN and not s.coverage_short() \
            and any(ch.isdigit() for ch in c.paper) and c.source == DEFAULT_SOURCE and not c.beyond:
        c.paper += f" [paper over {s.n_study_datasets} datasets, ours over {s.n_datasets}]"


def _stated_deepsad(c: Claim, s: StudyResult) -> None:
    """For a claim about Deep SAD (pairs or sizes), the same comparisons on the stated (pretrained) Deep SAD,
    beside the verdict and never in it; or say that the study has no such row."""
    if c.kind not in ("better", "equivalent", "no_gain", "gain_size") or c.verdict == NOT_RUN:
        return
    rows = [str(r) for r in c.spec.get("rows") or s.all_rows()]
    rows += [str(r) for it in c.spec.get("items") or [] for r in it.get("rows") or []]
    if "deepsad" not in rows:
        return
    if not s.ran(STATED_DEEPSAD):
        c.stated = f"not run in {s.name}"
        return
    pairs = ([tuple(p) for p in c.spec["pairs"]] if c.kind != "gain_size"
             else [(it["a"], it["b"]) for it in c.spec["items"]])
    margin = float(c.spec.get("margin", ROPE))
    res = compare(s, pairs, [STATED_DEEPSAD], "row", margin)
    if res.empty:
        c.stated = f"no complete comparison in {s.name}"
        return
    kind = "better" if c.kind == "gain_size" else c.kind
    outs = [outcome(line, kind, margin) for _, line in res.iterrows()]
    c.stated = "; ".join(f"{o}: {line['a']} − {line['b']} {line['mean_diff']:+.3f} (Holm p "
                         f"{'—' if pd.isna(line['p_holm']) else format(line['p_holm'], '.2g')})"
                         for o, (_, line) in zip(outs, res.iterrows()))
    c.details.append(f"stated Deep SAD ({STATED_DEEPSAD}), beside the verdict, not in it: "
                     + "; ".join(_line_text(line, False) for _, line in res.iterrows()))


def check_families_differ(s: StudyResult, c: Claim) -> None:
    """``families_differ``: is the gain ``a`` - ``b`` different between families of rows (detectors)?"""
    from itertools import combinations

    spec = c.spec
    a, b = str(spec["a"]), str(spec["b"])
    families = {str(f): [str(r) for r in rows] for f, rows in dict(spec["families"]).items()}
    unrun = [r for rows in families.values() for r in rows if not s.ran(r)]
    gains = {}
    for fam, rows in families.items():
        per_row = []
        for r in rows:
            m = dataset_matrix(s.records, r, [a, b])
            if len(m) and list(m.columns) == [a, b]:
                per_row.append((m[a] - m[b]).rename(r))
        if per_row:  # datasets on which every run detector of the family has both columns
            gains[fam] = pd.concat(per_row, axis=1).dropna().mean(axis=1)
    c.test = (f"per dataset, a family's gain ({a} − {b}, seed-averaged) is the mean over its detectors; each pair of "
              f"families compared over datasets: Wilcoxon signed-rank, Holm (α {ALPHA}); for = significantly "
              f"different either way; against = equivalent (Bayesian signed-rank, ROPE ±{ROPE}, P ≥ {P_DECIDE}, "
              f"{CLAIM_BAYES_SAMPLES:,} draws)")
    c.paper = "not a test of the paper"
    ran = [r for r in (r for rows in families.values() for r in rows) if r not in unrun]
    c.seeds = s.seeds(ran, [a, b])
    matrix = pd.DataFrame(gains).dropna()
    if len(gains) < 2 or len(matrix) < 2:
        c.verdict, c.why = NOT_RUN, f"fewer than two families with runs ({', '.join(unrun)} not run)"
        return
    res = wilcoxon_holm(matrix, list(combinations(matrix.columns, 2)), rope=ROPE, nsamples=CLAIM_BAYES_SAMPLES)
    res.insert(0, "unit", "family gain")
    res["paper_diff"] = np.nan
    res = _with_power(res)
    outs = []
    for _, line in res.iterrows():
        if bool(line["significant"]):
            outs.append(FOR)
        elif mc_side(_p(line, "p_equivalent"), P_DECIDE, _n(line)) > 0:
            outs.append(AGAINST)
        else:
            outs.append(UNDECIDED)
    _judge(c, outs)
    c.ours = (f"mean gain over {len(matrix)} datasets: " + ", ".join(f"{f} {g:+.3f}" for f, g in matrix.mean().items())
              + f"; {outs.count(FOR)} of {len(outs)} pairs differ")
    c.details = [f"{o}: {_line_text(line, False)}" for o, (_, line) in zip(outs, res.iterrows())]
    _cap_unrun(c, unrun)


CHECKS: dict[str, Callable[[StudyResult, Claim], None]] = {
    "better": check_pairs, "equivalent": check_pairs, "no_gain": check_pairs, "gain_size": check_gain_size,
    "largest_gain": check_largest_gain, "best": check_best, "range_within": check_range_within,
    "per_dataset": check_per_dataset, "only": check_only, "best_setting": check_best_setting,
    "families_differ": check_families_differ}


def build_claims(out_dir: str | Path, claims_file: str | Path = CLAIMS_FILE,
                 ids: list[str] | None = None) -> list[Claim]:
    """Evaluate every claim of ``claims_file`` (or only those whose id is in ``ids``) from the long tables under
    ``out_dir``."""
    out = []
    claims = load_claims(claims_file)
    unknown = sorted(set(ids or []) - {c.id for c in claims})
    if unknown:
        raise ClaimsError(f"{claims_file}: no claim with id {', '.join(unknown)}")
    for claim in claims:
        if ids is not None and claim.id not in ids:
            continue
        s = load(Path(out_dir), claim.study)
        if s is None:
            claim.why = f"no table yet: make reproduce-{claim.study}"
        else:
            if claim.spec.get("paper_from"):  # the paper prints this claim's numbers in another table
                other = Path(out_dir) / f"{claim.spec['paper_from']}.csv"
                if other.is_file():
                    s.paper_long = pd.read_csv(other)
                else:
                    claim.why = f"the paper's numbers: no {claim.spec['paper_from']} table yet"
            CHECKS[claim.kind](s, claim)
            _note_partial_rows(claim, s)
            _cap_coverage(claim, s)
            _note_datasets(claim, s)
            _stated_deepsad(claim, s)
        out.append(claim)
    return out


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def verdict_text(c: Claim) -> str:
    """The verdict with its counts (for / against / undecided) and why, as the report prints it."""
    counts = "" if c.counts is None else f"{c.counts[0]} for / {c.counts[1]} against / {c.counts[2]} undecided"
    extra = "; ".join(x for x in (counts, c.why) if x)
    return f"**{c.verdict}**" + (f" ({_cell(extra)})" if extra else "")


def _summary_line(claims: list[Claim]) -> str:
    counts = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
    return f"{len(claims)} claims: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS) + "."


def _table(claims: list[Claim], numbers: dict[str, int]) -> list[str]:
    lines = ["| # | Claim (quoted) | Where | Study | Paper | Ours | Stated Deep SAD | Seeds | Verdict |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in claims:
        link = f"[{c.study}]({c.study}.md)" if c.verdict != NOT_RUN or c.ours != "—" else c.study
        lines.append(f"| [{numbers[c.id]}](#{c.id}) | “{_cell(c.quote)}” | {_cell(c.where)} | {link} | "
                     f"{_cell(c.paper)} | {_cell(c.ours)} | {_cell(c.stated) or '—'} | {c.seeds} | {verdict_text(c)} |")
    return lines


def claims_markdown(claims: list[Claim]) -> str:
    """The claims report as Markdown: the paper's claims and the rows beyond the paper in two tables, each with
    its own count, then each claim's comparisons."""
    paper = [c for c in claims if not c.beyond]
    beyond = [c for c in claims if c.beyond]
    numbers = {c.id: i for i, c in enumerate(paper + beyond, 1)}
    lines = [
        "# The NNG-Mix paper's claims, checked against our runs", "",
        "Generated by `python -m adbench_repro.aggregate` from the study tables in this folder and the quoted claims "
        "in [`paper/claims.yaml`](paper/claims.yaml); do not edit. Every comparison is paired over datasets "
        f"(seed-averaged AUCROC), Holm-corrected within the claim, α = {ALPHA}, and is for the claim, against it or "
        "undecided; the verdict follows their balance and the counts stand beside it "
        "([docs/claims.md](../docs/claims.md#verdicts)). \"No difference\" claims are judged by equivalence "
        f"(Bayesian signed-rank test, ±{ROPE} AUCROC unless the paper gives its own threshold, decided at P ≥ "
        f"{P_DECIDE} with {CLAIM_BAYES_SAMPLES:,} seeded draws, undecided within 3 Monte Carlo standard errors of a "
        f"cut), never by a missing p-value; against one when the whole {EQUIV_LEVEL:.0%} interval of the mean "
        f"difference lies beyond the margin. A size claim (\"an improvement of 2.5%\") is for when the paper's "
        f"figure lies in our {SIZE_LEVEL:.0%} Student-t interval of the mean difference over datasets (and that "
        "interval has its sign). Paper figures are recomputed over the same rows (detectors) and datasets as ours; "
        "where the paper's figure is over all 47 Classical datasets and ours over the 43 here, the Paper column says "
        "so. Verdicts: **reproduced** (every comparison for), **mostly** (a majority for), **mixed** (some for, at "
        "least as many as against), **not reproduced** (more against than for), **contradicted** (a majority "
        "against), **inconclusive** (every comparison undecided, or the data cannot decide: too few files of the "
        "family, too few datasets for significance), **not run**. A claim that involves a row without runs "
        "(FTTransformer needs a GPU) is judged on the rows that ran and is at most mostly. *Stated Deep SAD*: the "
        f"same comparisons on the pretrained Deep SAD the paper states (`{STATED_DEEPSAD}`), beside the verdict "
        "(which is the ADBench-code Deep SAD's), never in it. Seeds: the number of seeds behind the cells the claim "
        "uses.", "",
        "## The paper's claims", "", f"Summary ({_summary_line(paper)})", ""]
    lines += _table(paper, numbers)
    if beyond:
        lines += ["", "## Beyond the paper", "",
                  "Tests the paper does not make (a claim of the paper carried to a setting it does not test) or "
                  "claims of other papers, judged by this project's runs; outside the paper's count. "
                  f"Summary ({_summary_line(beyond)})", ""]
        lines += _table(beyond, numbers)
    lines += ["", "## The comparisons behind each verdict", ""]
    for c in paper + beyond:
        i = numbers[c.id]
        lines += [f"### {i}. {c.id}", "", f"<a id=\"{c.id}\"></a>“{c.quote}” ({c.where}; study `{c.study}`, "
                  f"kind `{c.kind}`)", ""]
        if c.source != DEFAULT_SOURCE:  # another paper's claim, judged by this project's runs
            lines.append(f"- Quoted from: `shared/papers/{c.source}`, not the NNG-Mix paper")
        elif c.beyond:
            lines.append("- Beyond the paper: the paper makes no such test; outside its count")
        lines += [f"- Test: {c.test}", f"- Seeds: {c.seeds}", f"- Verdict: {verdict_text(c)}"]
        lines += [f"  - {d}" for d in c.details]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_claims(out_dir: str | Path, claims_file: str | Path = CLAIMS_FILE) -> Path:
    """Write ``<out_dir>/claims.md``; returns its path."""
    path = Path(out_dir) / "claims.md"
    path.write_text(claims_markdown(build_claims(out_dir, claims_file)))
    return path
