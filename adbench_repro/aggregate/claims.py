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

Kinds (every comparison is paired over datasets, on seed-averaged AUCROC, Holm-corrected within the claim):

* ``better``: a beats b. A comparison counts for the claim when a is significantly better (Wilcoxon
  signed-rank, Holm, :data:`ALPHA`), against it when b is significantly better or the two are equivalent
  (Bayesian signed-rank, P(|a - b| < :data:`ROPE`) >= :data:`P_DECIDE`), and is undecided otherwise.
  ``most: true`` asks for a majority of the comparisons ("in most cases") instead of all.
* ``equivalent``: a and b do not differ ("plateau", "insensitive"): for when P(within ``margin``, default
  ROPE) >= P_DECIDE; against when P(within) <= 1 - P_DECIDE or the difference is significant and larger than
  the margin; undecided otherwise. Non-significance alone never counts as equivalence.
* ``no_gain``: a brings no benefit over b ("limited", "no significant benefit"): for when
  P(a better by more than the margin) <= 1 - P_DECIDE; against when a is significantly better.
* ``gain_size``: the paper's "improvement of X": the largest a - b among ``rows`` (or ``per: overall``: the
  rows' mean) must be significant and within :data:`SIZE_TOL` of X, compared like for like (X recomputed from
  the paper's cells of the rows we ran when the paper's own maximum sits on a row we did not run).
* ``largest_gain``: ``row``'s gain a - b is larger than every other row's (paired over datasets).
* ``best``: ``column`` has the best Average (rank <= ``top``, default 1) and no column is significantly
  better; reproduced when it is also significantly better than every other column (``top`` 1).
* ``range_within``: the paper's own yardstick for Fig. 5: per row and parameter ``group``, the range of the
  cell means stays below ``threshold``, and the extreme pair is equivalent within it (Bayesian, P_DECIDE),
  in most cases.
* ``per_dataset``: Table VII's caption: datasets improved (10x >= Baseline at 3 decimals, as printed), the
  maximum and the mean improvement, against the paper's per-dataset values on the same datasets.

Verdicts: **reproduced** (every comparison for), **partly** (some for), **not reproduced** (none for, some
against), **inconclusive** (the data cannot decide: too few files of the family here, too few datasets for
any significance, or every comparison undecided), **not run** (no runs for the rows the claim is about). A
claim whose rows include one without runs (FTTransformer on a CPU) is judged on the rows that ran and is at
most **partly**. Paper figures are recomputed over the same rows (and datasets) as ours.
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
from .stats import ALPHA, ROPE, dataset_matrix, holm, min_wilcoxon_p, overall_matrix, wilcoxon_holm

REPRODUCED, PARTLY, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN = (
    "reproduced", "partly", "not reproduced", "inconclusive", "not run")
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN)
#: the claims file (in the repository, next to the paper's transcribed tables)
CLAIMS_FILE = Path(__file__).resolve().parents[2] / "results" / "paper" / "claims.yaml"
#: posterior probability that decides an equivalence (or a practical difference)
P_DECIDE = 0.95
#: a paper figure over a dataset family is compared with ours only with at least this share of its files
MIN_COVERAGE = 0.9
#: tolerance on an improvement size ("up to 16.4%"), in AUCROC
SIZE_TOL = 0.02
#: tolerance on Table VII's average improvement, in AUCROC
MEAN_TOL = 0.01
FOR, AGAINST, UNDECIDED = "for", "against", "undecided"
KINDS = ("better", "equivalent", "no_gain", "gain_size", "largest_gain", "best", "range_within", "per_dataset")
_KEYS = {"id", "quote", "where", "study", "kind", "per", "rows", "rows_note", "pairs", "most", "margin", "items",
         "row", "a", "b", "column", "top", "threshold", "groups", "source"}
#: the text a claim's quote is from when it names no ``source`` (a file name under ../shared/papers/)
DEFAULT_SOURCE = "nng-mix-2311.11961.fulltext.txt"


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
                         kind=e["kind"], spec=e, source=source))
    return out


def _columns_named(e: dict) -> list[str]:
    """Every column label a claims entry refers to."""
    named = [str(x) for p in e.get("pairs") or [] for x in p]
    named += [str(it[k]) for it in e.get("items") or [] for k in ("a", "b")]
    named += [str(x) for g in e.get("groups") or [] for x in g]
    named += [str(e[k]) for k in ("a", "b", "column") if k in e]
    return named


# ------------------------------------------------------------------------------------------- the study data

class StudyResult:
    """One study's long table (``<out>/<study>.csv``) as the claims need it."""

    def __init__(self, name: str, long: pd.DataFrame) -> None:
        self.name, self.long = name, long
        study = load_study(name)
        self.extra_rows = study.extra_rows
        self.n_study_datasets = len(study.datasets)
        ds = long[long["level"] == "dataset"]
        self.records = pd.DataFrame({"row": ds["row"].astype(str), "column": ds["column"], "dataset": ds["dataset"],
                                     "seed": 0, "value": ds["value"].astype(float)})
        self.n_datasets = self.records["dataset"].nunique()

    def cell(self, row: str, column: str, field_: str = "value") -> float:
        hit = self.long[(self.long["level"] == "cell") & (self.long["row"].astype(str) == row)
                        & (self.long["column"] == column)]
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
        res = wilcoxon_holm(m, pairs, rope=margin)
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


def outcome(line: pd.Series, kind: str, margin: float = ROPE) -> str:
    """FOR, AGAINST or UNDECIDED for one comparison under a claim of ``kind``."""
    sig, d = bool(line["significant"]), float(line["mean_diff"])
    p_eq, p_better = float(line.get("p_equivalent", np.nan)), float(line.get("p_better", np.nan))
    p_worse = float(line.get("p_worse", np.nan))
    if kind == "equivalent":
        if p_eq >= P_DECIDE:
            return FOR
        if p_eq <= 1 - P_DECIDE or (sig and abs(d) > margin):
            return AGAINST
        return UNDECIDED
    if kind == "no_gain":
        if sig and d > 0:
            return AGAINST
        return FOR if p_better <= 1 - P_DECIDE else UNDECIDED
    # better
    if sig and d > 0:
        return FOR
    if (sig and d < 0) or p_eq >= P_DECIDE or p_worse >= P_DECIDE:
        return AGAINST
    return UNDECIDED


def combine(outcomes: list[str], most: bool = False) -> str:
    """A verdict from comparison outcomes (see the module docstring)."""
    n, yes, no = len(outcomes), outcomes.count(FOR), outcomes.count(AGAINST)
    if not n:
        return NOT_RUN
    if most:
        return (REPRODUCED if yes > n / 2 else NOT_REPRODUCED if no >= n / 2 else PARTLY if yes
                else INCONCLUSIVE)
    if yes == n:
        return REPRODUCED
    if yes:
        return PARTLY
    return NOT_REPRODUCED if no else INCONCLUSIVE


def _line_text(line: pd.Series, show_unit: bool = True) -> str:
    unit = f"{line['unit']}: " if show_unit else ""
    paper = "" if math.isnan(line["paper_diff"]) else f"; paper {line['paper_diff']:+.3f}"
    p = "—" if pd.isna(line["p_holm"]) else f"{line['p_holm']:.2g}"
    eq = "" if pd.isna(line.get("p_equivalent")) else f", P(equiv.) {line['p_equivalent']:.2f}"
    power = "" if line["can_be_significant"] else f", cannot be significant with {int(line['n'])} datasets"
    return (f"{unit}{line['a']} − {line['b']} {line['mean_diff']:+.3f} (W/T/L {line['wins']}/{line['ties']}/"
            f"{line['losses']}, Holm p {p}{eq}{power}{paper})")


def _summary(res: pd.DataFrame, outs: list[str]) -> str:
    if len(res) <= 3:
        return "; ".join(_line_text(line, res["unit"].nunique() > 1 or line["unit"] != "overall")
                         for _, line in res.iterrows())
    counts = {k: outs.count(k) for k in (FOR, AGAINST, UNDECIDED)}
    by_unit = []
    for unit, sub in res.groupby("unit", sort=False):
        o = [x for x, u in zip(outs, res["unit"]) if u == unit]
        by_unit.append(f"{unit} {o.count(FOR)}/{len(o)} (mean {sub['mean_diff'].mean():+.3f})")
    return (f"{counts[FOR]} of {len(outs)} comparisons for, {counts[AGAINST]} against, {counts[UNDECIDED]} "
            f"undecided; for, by row: " + ", ".join(by_unit))


TEST_BETTER = f"Wilcoxon signed-rank over datasets, Holm (α {ALPHA}); against = b significantly better or " \
              f"equivalent (Bayesian signed-rank, ROPE ±{{margin}}, P ≥ {P_DECIDE})"
TEST_EQUIV = f"equivalence: Bayesian signed-rank, ROPE ±{{margin}}, P(equiv.) ≥ {P_DECIDE}"
TEST_NO_GAIN = f"non-superiority: P(a better by > {{margin}}) ≤ {1 - P_DECIDE:.2f} (Bayesian signed-rank); " \
               f"against = Holm-significant gain"


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
    outs = [outcome(line, c.kind, margin) for _, line in res.iterrows()]
    c.verdict = combine(outs, bool(spec.get("most")))
    c.ours = _summary(res, outs)
    pd_ = res["paper_diff"].dropna()
    c.paper = ("—" if c.source != DEFAULT_SOURCE else _no_paper_numbers(s) if pd_.empty else f"{pd_.iloc[0]:+.3f}" if len(pd_) == 1
               else f"{len(pd_)} differences, {pd_.min():+.3f} to {pd_.max():+.3f} (same rows)")
    if c.verdict == INCONCLUSIVE and not res["can_be_significant"].any():
        c.why = f"power: {int(res['n'].max())} datasets cannot give a significant result"
    c.details = [f"{o}: {_line_text(line)}" for o, (_, line) in zip(outs, res.iterrows())]
    _cap_unrun(c, unrun)


def _no_paper_numbers(s: StudyResult) -> str:
    study = load_study(s.name)
    if study.selection:  # selectors: no paper figure exists
        return "beyond the paper: no selection there"
    return "a figure: no numbers printed" if study.paper is None else "—"


def check_gain_size(s: StudyResult, c: Claim) -> None:
    spec = c.spec
    rows, unrun = _rows(s, spec)
    ran = [r for r in rows if r not in unrun]
    per = spec.get("per", "row")
    c.test = (f"the largest gain must be Holm-significant (Wilcoxon over datasets) and within ±{SIZE_TOL} of the "
              f"paper's figure on the same rows")
    outs, ours, paper, details = [], [], [], []
    for item in spec["items"]:
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
        o = outcome(line, "better")
        size_ok = abs(float(line["mean_diff"]) - target) <= SIZE_TOL
        outs.append(FOR if o == FOR and size_ok else (PARTLY if o == FOR else o))
        ours.append(_line_text(line, per != "overall"))
        details.append(f"{outs[-1]}: {_line_text(line)}; size {'within' if size_ok else 'outside'} ±{SIZE_TOL} "
                       f"of {target:+.3f}")
    c.seeds = s.seeds(ran, list(dict.fromkeys(x for it in spec["items"] for x in (it["a"], it["b"]))))
    if not outs:
        c.verdict, c.why = NOT_RUN, f"no runs for {', '.join(unrun) or 'these rows'}"
        return
    c.paper, c.ours, c.details = "; ".join(paper), "; ".join(ours), details
    if all(o == FOR for o in outs):
        c.verdict = REPRODUCED
    elif any(o in (FOR, PARTLY) for o in outs):
        c.verdict = PARTLY
        c.why = "significant, but not the claimed size" if all(o == PARTLY for o in outs) else ""
    else:
        c.verdict = NOT_REPRODUCED if AGAINST in outs else INCONCLUSIVE
    _cap_unrun(c, unrun)


def check_largest_gain(s: StudyResult, c: Claim) -> None:
    spec = c.spec
    row, a, b = str(spec["row"]), spec["a"], spec["b"]
    others = [r for r in s.all_rows() if r != row and s.ran(r)]
    c.test = f"{row}'s per-dataset gain vs each other row's, Wilcoxon over datasets, Holm (α {ALPHA})"
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
    res = wilcoxon_holm(gains, [(row, r) for r in others], rope=ROPE)
    res.insert(0, "unit", "gain")
    res["paper_diff"] = [paper.get(row, np.nan) - paper.get(r, np.nan) for r in others]
    res = _with_power(res)
    outs = [outcome(line, "better") for _, line in res.iterrows()]
    # one row whose gain is significantly larger refutes "benefits the most"
    c.verdict = NOT_REPRODUCED if any(o == AGAINST and line["significant"] for o, (_, line)
                                      in zip(outs, res.iterrows())) else combine(outs)
    means = {r: float(gains[r].mean()) for r in gains}
    c.ours = f"gains: " + ", ".join(f"{r} {g:+.3f}" for r, g in sorted(means.items(), key=lambda x: -x[1]))
    c.details = [f"{o}: gain of {_line_text(line, False)}" for o, (_, line) in zip(outs, res.iterrows())]
    c.seeds = s.seeds([row] + others, [a, b])
    _cap_unrun(c, [r for r in s.all_rows() if not s.ran(r)])


def check_best(s: StudyResult, c: Claim) -> None:
    spec = c.spec
    col, top = spec["column"], int(spec.get("top", 1))
    rows, unrun = _rows(s, spec)
    ran = [r for r in rows if r not in unrun]
    cols = list(dict.fromkeys(s.long.loc[s.long["level"] == "cell", "column"]))
    m, used = overall_matrix(s.records, ran, cols)
    c.test = (f"rank of the Average over the rows run; {col} vs every other column, Wilcoxon over datasets, Holm "
              f"(α {ALPHA})")
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
    res = wilcoxon_holm(m, [(col, k) for k in cols if k != col], rope=ROPE)
    better = res["significant"] & (res["mean_diff"] > 0)
    worse = res.loc[res["significant"] & (res["mean_diff"] < 0), "b"].tolist()
    c.ours = (f"{head}; significantly better than {int(better.sum())} of {len(res)} columns"
              + (f", worse than {', '.join(worse)}" if worse else ""))
    if rank <= top and not worse:
        c.verdict = REPRODUCED if (top > 1 or better.all()) else PARTLY
    else:
        c.verdict = NOT_REPRODUCED
    if min_wilcoxon_p(len(m)) * len(res) >= ALPHA and c.verdict != NOT_REPRODUCED:
        c.verdict, c.why = INCONCLUSIVE, f"power: {len(m)} datasets cannot give a significant result"
    c.details = [f"{col} vs {b}: {_line_text(line, False)}" for b, (_, line) in
                 zip(res["b"], res.assign(unit="overall", paper_diff=[paper[col] - paper[k] for k in res["b"]],
                                          can_be_significant=min_wilcoxon_p(len(m)) * len(res) < ALPHA).iterrows())]
    _cap_unrun(c, unrun)


def check_range_within(s: StudyResult, c: Claim) -> None:
    spec = c.spec
    thr = float(spec.get("threshold", 0.02))
    rows, unrun = _rows(s, spec)
    ran = [r for r in rows if r not in unrun]
    c.test = (f"the paper's yardstick: range of the cell means < {thr} per row and parameter, in most cases; and "
              f"the extreme pair equivalent within ±{thr} (Bayesian signed-rank, P ≥ {P_DECIDE})")
    within = equiv = n = 0
    details, paper_within, paper_n = [], 0, 0
    for r in ran:
        for group in spec["groups"]:
            vals = {k: s.cell(r, k) for k in group}
            if any(math.isnan(v) for v in vals.values()):
                continue
            hi, lo = max(vals, key=vals.get), min(vals, key=vals.get)
            rng = vals[hi] - vals[lo]
            if hi == lo:  # every setting gives the same mean
                p_eq = 1.0
            else:
                m = dataset_matrix(s.records, r, [hi, lo])
                p_eq = float(wilcoxon_holm(m, [(hi, lo)], rope=thr)["p_equivalent"].iloc[0])
            n += 1
            within += rng < thr
            equiv += p_eq >= P_DECIDE
            pv = [s.cell(r, k, "paper") for k in group]
            if not any(math.isnan(v) for v in pv):
                paper_n += 1
                paper_within += (max(pv) - min(pv)) < thr
            details.append(f"{r}, {'/'.join(group)}: range {rng:.3f} ({hi} − {lo}), P(equiv. ±{thr}) {p_eq:.2f}")
    c.seeds = s.seeds(ran, [k for g in spec["groups"] for k in g])
    if not n:
        c.verdict = NOT_RUN
        return
    c.paper = (f"fluctuations < {thr:.0%} in most cases" + (f" ({paper_within} of {paper_n} row x parameter ranges)"
                                                            if paper_n else ""))
    c.ours = f"{within} of {n} row x parameter ranges < {thr}; {equiv} of {n} extreme pairs equivalent within ±{thr}"
    c.details = details
    c.verdict = (REPRODUCED if within > n / 2 and equiv > n / 2 else PARTLY if within > n / 2 or equiv > n / 2
                 else NOT_REPRODUCED)
    _cap_unrun(c, unrun)


def check_per_dataset(s: StudyResult, c: Claim) -> None:
    spec = c.spec
    a, b = spec["a"], spec["b"]
    cells = s.long[s.long["level"] == "cell"].copy()
    cells["row"] = cells["row"].astype(str)
    wide = cells.pivot_table(index="row", columns="column", values="value")
    paper = cells.pivot_table(index="row", columns="column", values="paper")
    both = wide[[a, b]].dropna().index
    c.test = (f"{a} − {b} per dataset (3 decimals, as printed; ties count as improved); Wilcoxon over datasets "
              f"for the mean gain; the mean within ±{MEAN_TOL} of the paper's on the same datasets")
    c.seeds = s.seeds(list(both), [a, b])
    if len(both) < 2:
        c.verdict = NOT_RUN
        return
    g = wide.loc[both, a].round(3) - wide.loc[both, b].round(3)
    pb = paper.reindex(both)
    pg = (pb[a] - pb[b]).dropna() if a in pb and b in pb else pd.Series(dtype=float)
    c.paper = (f"41 of 47 improved, max +0.229, mean +0.035; on our {len(pg)} datasets: {int((pg >= 0).sum())} of "
               f"{len(pg)}, max {pg.max():+.3f}, mean {pg.mean():+.3f}") if len(pg) else "41 of 47, max +0.229, mean +0.035"
    from scipy.stats import wilcoxon

    d = (wide.loc[both, a] - wide.loc[both, b]).to_numpy()
    p = float(wilcoxon(d, zero_method="zsplit").pvalue) if np.any(d != 0) else 1.0
    c.ours = (f"{int((g >= 0).sum())} of {len(g)} improved, max {g.max():+.3f}, mean {g.mean():+.3f} "
              f"(Wilcoxon p {p:.2g})")
    sig = p < ALPHA and d.mean() > 0
    size_ok = len(pg) and abs(g.mean() - pg.mean()) <= MEAN_TOL
    c.verdict = REPRODUCED if sig and size_ok else PARTLY if sig else NOT_REPRODUCED
    if sig and not size_ok:
        c.why = "significant, but not the claimed size"


def _cap_unrun(c: Claim, unrun: list[str]) -> None:
    """A claim about rows that did not all run is at most partly, and says which rows are missing."""
    if not unrun:
        return
    c.why = "; ".join(x for x in (c.why, f"{', '.join(unrun)} not run") if x)
    if c.verdict == REPRODUCED:
        c.verdict = PARTLY


def _cap_coverage(c: Claim, s: StudyResult) -> None:
    short = s.coverage_short()
    if short and c.verdict != NOT_RUN:
        c.verdict = INCONCLUSIVE
        c.why = "; ".join(x for x in (f"data: {short}, the paper's figure is over all of them", c.why) if x)


CHECKS: dict[str, Callable[[StudyResult, Claim], None]] = {
    "better": check_pairs, "equivalent": check_pairs, "no_gain": check_pairs, "gain_size": check_gain_size,
    "largest_gain": check_largest_gain, "best": check_best, "range_within": check_range_within,
    "per_dataset": check_per_dataset}


def build_claims(out_dir: str | Path, claims_file: str | Path = CLAIMS_FILE) -> list[Claim]:
    """Evaluate every claim of ``claims_file`` from the long tables under ``out_dir``."""
    out = []
    for claim in load_claims(claims_file):
        s = load(Path(out_dir), claim.study)
        if s is None:
            claim.why = f"no table yet: make reproduce-{claim.study}"
        else:
            CHECKS[claim.kind](s, claim)
            _cap_coverage(claim, s)
        out.append(claim)
    return out


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def claims_markdown(claims: list[Claim]) -> str:
    """The claims report as Markdown: a summary table, then each claim's comparisons."""
    counts = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
    lines = [
        "# The NNG-Mix paper's claims, checked against our runs", "",
        "Generated by `python -m adbench_repro.aggregate` from the study tables in this folder and the quoted claims "
        "in [`paper/claims.yaml`](paper/claims.yaml); do not edit. Every comparison is paired over datasets "
        f"(seed-averaged AUCROC), Holm-corrected within the claim, α = {ALPHA}. \"No difference\" claims are judged "
        f"by equivalence (Bayesian signed-rank test, region of practical equivalence ±{ROPE} AUCROC unless the paper "
        f"gives its own threshold, decided at P ≥ {P_DECIDE}), never by a missing p-value. Paper figures are "
        "recomputed over the same rows (detectors) and datasets as ours. Verdicts: **reproduced** (every comparison "
        "for the claim), **partly** (some), **not reproduced** (none for, some against), **inconclusive** (the data "
        "cannot decide: too few files of the family here, too few datasets for significance, or every comparison "
        "undecided), **not run** (no runs for the rows the claim is about). A claim that involves a row without runs "
        "(FTTransformer needs a GPU) is judged on the rows that ran and is at most partly. Seeds: the number of seeds "
        "behind the cells the claim uses.", "",
        f"Summary ({len(claims)} claims): " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS) + ".", "",
        "| # | Claim (quoted) | Where | Study | Paper | Ours | Seeds | Verdict |", "|---|---|---|---|---|---|---|---|"]
    for i, c in enumerate(claims, 1):
        link = f"[{c.study}]({c.study}.md)" if c.verdict != NOT_RUN or c.ours != "—" else c.study
        verdict = f"**{c.verdict}**" + (f" ({_cell(c.why)})" if c.why else "")
        lines.append(f"| [{i}](#{c.id}) | “{_cell(c.quote)}” | {_cell(c.where)} | {link} | {_cell(c.paper)} | "
                     f"{_cell(c.ours)} | {c.seeds} | {verdict} |")
    lines += ["", "## The comparisons behind each verdict", ""]
    for i, c in enumerate(claims, 1):
        lines += [f"### {i}. {c.id}", "", f"<a id=\"{c.id}\"></a>“{c.quote}” ({c.where}; study `{c.study}`, "
                  f"kind `{c.kind}`)", ""]
        if c.source != DEFAULT_SOURCE:  # another paper's claim, judged by this project's runs
            lines.append(f"- Quoted from: `shared/papers/{c.source}`, not the NNG-Mix paper")
        lines += [f"- Test: {c.test}", f"- Seeds: {c.seeds}",
                  f"- Verdict: **{c.verdict}**" + (f" ({c.why})" if c.why else "")]
        lines += [f"  - {d}" for d in c.details]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_claims(out_dir: str | Path, claims_file: str | Path = CLAIMS_FILE) -> Path:
    """Write ``<out_dir>/claims.md``; returns its path."""
    path = Path(out_dir) / "claims.md"
    path.write_text(claims_markdown(build_claims(out_dir, claims_file)))
    return path
