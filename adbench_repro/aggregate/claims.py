"""``results/claims.md``: each claim of the NNG-Mix paper, the paper's figure, ours, and a verdict.

Built from the aggregator's own outputs (``<out>/<study>.csv``, the long tables written from the runs), so
it is regenerated whenever a study is aggregated and never edited by hand. Verdicts rest on the paired
tests of :mod:`.stats` over datasets (seed-averaged AUCROC, Holm-corrected), not on which average is higher:

* **reproduced**: the claimed difference is there and significant (every comparison the claim makes);
* **partly**: some of it is significant, or it goes the claimed way without significance;
* **not reproduced**: the claimed difference is absent or reversed;
* **not run**: the study has no table yet (``make reproduce-<study>``).

"Overall" tests use the per-dataset mean over the paper's detector rows that have every column involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from ..studies import load_study
from .stats import ALPHA, dataset_matrix, overall_matrix, wilcoxon_holm

REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_RUN = "reproduced", "partly", "not reproduced", "not run"
NNG = "NNG-Mix"
SUPERVISED = ("xgbod", "mlp", "fttransformer", "catboost")
NEURAL = ("deepsad", "mlp", "fttransformer")
TREES = ("xgbod", "catboost")


@dataclass
class Claim:
    """One row of the claims table."""

    claim: str
    source: str
    paper: str = "—"
    ours: str = "—"
    verdict: str = NOT_RUN


class StudyResult:
    """One study's long table (``<out>/<study>.csv``) as the claims need it."""

    def __init__(self, name: str, long: pd.DataFrame) -> None:
        self.name, self.long = name, long
        self.extra_rows = load_study(name).extra_rows
        ds = long[long["level"] == "dataset"]
        self.records = pd.DataFrame({"row": ds["row"].astype(str), "column": ds["column"], "dataset": ds["dataset"],
                                     "seed": 0, "value": ds["value"].astype(float)})

    def cell(self, row: str, column: str, field: str = "value") -> float:
        level = "average" if row == "Average" else "cell"
        hit = self.long[(self.long["level"] == level) & (self.long["row"].astype(str) == row)
                        & (self.long["column"] == column)]
        return float(hit[field].iloc[0]) if len(hit) else float("nan")

    def rows(self) -> list[str]:
        cells = self.long[self.long["level"] == "cell"]
        return [r for r in dict.fromkeys(cells["row"].astype(str)) if r not in self.extra_rows]

    def columns(self) -> list[str]:
        return list(dict.fromkeys(self.long.loc[self.long["level"] == "cell", "column"]))

    def test(self, pairs: list[tuple[str, str]], row: str | None = None,
             rows: tuple[str, ...] | None = None) -> tuple[pd.DataFrame, str]:
        """Wilcoxon + Holm for ``pairs`` on one row, or overall (the mean over the rows having the columns,
        among ``rows`` when given); returns the results and a note on what was tested."""
        cols = list(dict.fromkeys(c for p in pairs for c in p))
        if row is None:
            among = [r for r in self.rows() if rows is None or r in rows]
            matrix, used = overall_matrix(self.records, among, cols)
            where = f"overall over {', '.join(used) or 'no rows'}"
        else:
            matrix = dataset_matrix(self.records, row, cols)
            where = row
        if len(matrix) < 2 or list(matrix.columns) != cols:
            return pd.DataFrame(), where
        return wilcoxon_holm(matrix, pairs, rope=None), f"{where}, {len(matrix)} datasets"


def load(out_dir: Path, name: str) -> StudyResult | None:
    path = Path(out_dir) / f"{name}.csv"
    if not path.is_file():
        return None
    long = pd.read_csv(path)
    return StudyResult(name, long) if (long["level"] == "dataset").any() else None


def _p(res: pd.DataFrame, a: str, b: str) -> str:
    r = res[(res["a"] == a) & (res["b"] == b)].iloc[0]
    return f"{a} - {b} {r['mean_diff']:+.3f} (W/T/L {r['wins']}/{r['ties']}/{r['losses']}, Holm p {r['p_holm']:.2g})"


def _sig_better(res: pd.DataFrame) -> pd.Series:
    return res["significant"] & (res["mean_diff"] > 0)


def _verdict(res: pd.DataFrame) -> str:
    """All pairs significantly positive: reproduced; some significant, or all positive: partly."""
    if res.empty:
        return NOT_RUN
    better = _sig_better(res)
    if better.all():
        return REPRODUCED
    if better.any() or (res["mean_diff"] > 0).all():
        return PARTLY
    return NOT_REPRODUCED


def best_average(s: StudyResult, claim: Claim) -> None:
    cols = s.columns()
    avg = {c: s.cell("Average", c) for c in cols}
    paper = {c: s.cell("Average", c, "paper") for c in cols}
    ranked = sorted(avg, key=lambda c: -avg[c])
    claim.paper = f"{NNG} {paper[NNG]:.3f}, best of {len(cols)} columns" if paper[NNG] == paper[NNG] else "—"
    res, where = s.test([(NNG, c) for c in cols if c != NNG])
    head = (f"{NNG} {avg[NNG]:.3f}, rank {ranked.index(NNG) + 1} of {len(cols)} (best: {ranked[0]} "
            f"{avg[ranked[0]]:.3f})")
    if res.empty:  # too few datasets to test: the averages alone can only say "not reproduced" or "partly"
        claim.ours = f"{head}; {s.records['dataset'].nunique()} dataset(s): too few to test"
        claim.verdict = PARTLY if ranked[0] == NNG else NOT_REPRODUCED
        return
    better = _sig_better(res)
    worse = res.loc[res["significant"] & (res["mean_diff"] < 0), "b"].tolist()
    ns = res.loc[~better, "b"].tolist()
    claim.ours = (f"{head}; significantly better than {int(better.sum())} of {len(res)} columns"
                  f"{' (not: ' + ', '.join(ns) + ')' if ns else ''}{f', worse than {worse}' if worse else ''} ({where})")
    if better.all():
        claim.verdict = REPRODUCED
    elif not worse and better[res["b"] == "Baseline"].all():
        claim.verdict = PARTLY
    else:
        claim.verdict = NOT_REPRODUCED


def pairs_claim(pairs: list[tuple[str, str]], row: str | None = None,
                rows: tuple[str, ...] | None = None) -> Callable[[StudyResult, Claim], None]:
    """Claim that each ``a`` beats its ``b`` (overall, over ``rows`` if given, or on ``row``)."""

    def check(s: StudyResult, claim: Claim) -> None:
        r = row or "Average"
        claim.paper = "; ".join(f"{a} {s.cell(r, a, 'paper'):.3f} vs {b} {s.cell(r, b, 'paper'):.3f}" for a, b in pairs
                                if s.cell(r, a, "paper") == s.cell(r, a, "paper")) or "—"
        res, where = s.test(pairs, row, rows)
        claim.verdict = _verdict(res)
        claim.ours = ("; ".join(_p(res, a, b) for a, b in pairs) + f" ({where})") if len(res) else "—"

    return check


def gain_only_above(low: list[tuple[str, str]], high: list[tuple[str, str]], rows: tuple[str, ...],
                    paper: str) -> Callable[[StudyResult, Claim], None]:
    """Claim that ``a`` brings no significant gain over ``b`` in the ``low`` pairs and a significant one in
    the ``high`` pairs (overall over ``rows``; one Holm correction over both)."""

    def check(s: StudyResult, claim: Claim) -> None:
        claim.paper = paper
        res, where = s.test(low + high, rows=rows)
        if res.empty:
            return
        lo = res[res["a"].isin([a for a, _ in low])]
        hi = res[res["a"].isin([a for a, _ in high])]
        no_gain_low, gain_high = not _sig_better(lo).any(), bool(_sig_better(hi).all())
        claim.verdict = (REPRODUCED if no_gain_low and gain_high else
                         PARTLY if no_gain_low or gain_high else NOT_REPRODUCED)
        claim.ours = "; ".join(_p(res, a, b) for a, b in low + high) + f" ({where})"

    return check


def no_gain(pairs: list[tuple[str, str]], paper: str) -> Callable[[StudyResult, Claim], None]:
    """Claim that no ``a`` is significantly better than its ``b`` (overall): a plateau."""

    def check(s: StudyResult, claim: Claim) -> None:
        claim.paper = paper
        res, where = s.test(pairs)
        if res.empty:
            return
        better = _sig_better(res)
        claim.verdict = REPRODUCED if not better.any() else (PARTLY if not better.all() else NOT_REPRODUCED)
        claim.ours = "; ".join(_p(res, a, b) for a, b in pairs) + f" ({where})"

    return check


def insensitive(groups: list[list[str]]) -> Callable[[StudyResult, Claim], None]:
    """Claim that no setting within a group differs from the others (Friedman/Wilcoxon, overall)."""

    def check(s: StudyResult, claim: Claim) -> None:
        claim.paper = "stable AUCROC across k, sigma and the mixing distribution (Fig. 5)"
        found, tested = [], 0
        for cols in groups:
            pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]]
            res, _ = s.test(pairs)
            if res.empty:
                continue
            tested += 1
            found += [f"{a} vs {b} {d:+.3f}" for a, b, d, sig in
                      zip(res["a"], res["b"], res["mean_diff"], res["significant"]) if sig]
        claim.verdict = NOT_RUN if not tested else (REPRODUCED if not found else PARTLY)
        claim.ours = (f"significant differences: {', '.join(found)}" if found else "no significant difference "
                      "within any parameter") if tested else "—"

    return check


def max_improvement(rows: tuple[str, ...], paper_gain: float, label: str) -> Callable[[StudyResult, Claim], None]:
    """Claim 'up to X improvement' of NNG-Mix over the baseline among ``rows``."""

    def check(s: StudyResult, claim: Claim) -> None:
        gains = {r: s.cell(r, NNG) - s.cell(r, "Baseline") for r in rows}
        gains = {r: g for r, g in gains.items() if g == g}
        paper = {r: s.cell(r, NNG, "paper") - s.cell(r, "Baseline", "paper") for r in rows}
        top_paper = max((r for r in paper if paper[r] == paper[r]), key=lambda r: paper[r], default=None)
        claim.paper = f"up to {paper_gain:.1%} ({label}; {top_paper})"
        if not gains:
            claim.verdict = NOT_RUN
            return
        top = max(gains, key=gains.get)
        res, where = s.test([(NNG, "Baseline")], top)
        sig = len(res) and bool(_sig_better(res).all())
        claim.ours = f"up to {gains[top]:.1%} ({top}; " + (_p(res, NNG, "Baseline") if len(res) else "untested") + ")"
        if sig and abs(gains[top] - paper_gain) <= 0.02:
            claim.verdict = REPRODUCED
        elif sig:
            claim.verdict = PARTLY
        else:
            claim.verdict = NOT_REPRODUCED

    return check


def _ratios(prefix_b: str, prefix_n: str, labels: list[str]) -> list[tuple[str, str]]:
    return [(f"{prefix_n}{x}", f"{prefix_b}{x}") for x in labels]


#: (claim, study, check) in the paper's order
CLAIMS: list[tuple[str, str, Callable[[StudyResult, Claim], None]]] = [
    ("NNG-Mix gives the best average on Classical datasets", "table1", best_average),
    ("NNG-Mix gives the best average on CV datasets", "table2", best_average),
    ("NNG-Mix gives the best average on NLP datasets", "table3", best_average),
    ("Up to 16.4% improvement over the baseline on Classical (supervised detectors)", "table1",
     max_improvement(SUPERVISED, 0.164, "supervised")),
    ("Up to 2.5% improvement over the baseline on Classical (semi-supervised: DeepSAD)", "table1",
     max_improvement(("deepsad",), 0.025, "semi-supervised")),
    ("More pseudo-anomalies help: NNG-Mix 10x beats 1x", "table4", pairs_claim([("NNG-Mix 10x", "NNG-Mix 1x")])),
    ("More pseudo-anomalies help: NNG-Mix 10x beats 1x (Fig. 3a)", "fig3a", pairs_claim([("10x", "1x")])),
    ("The gain plateaus beyond 10x: 20x, 50x and 100x are no better than 10x (Fig. 3a)", "fig3a",
     no_gain([("20x", "10x"), ("50x", "10x"), ("100x", "10x")], "plateau when M exceeds 10 (Fig. 3a text)")),
    ("Gains over the baseline hold at 1%, 5% and 10% labeled anomalies", "table5",
     pairs_claim([("NNG-Mix 10x (1%)", "Baseline 1%"), ("NNG-Mix 10x (5%)", "Baseline 5%"),
                  ("NNG-Mix 10x (10%)", "Baseline 10%")])),
    ("Gains over the baseline hold from 1% to 100% labeled anomalies (Fig. 3b)", "fig3b",
     pairs_claim(_ratios("Baseline ", "NNG-Mix ", ["1%", "5%", "10%", "20%", "50%", "100%"]))),
    ("Robust to pollution: NNG-Mix beats the baseline at every pollution ratio (DeepSAD, MLP, FTTransformer)",
     "fig4", pairs_claim(_ratios("Baseline γ=", "NNG-Mix γ=", ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
                         rows=NEURAL)),
    ("XGBOD and CatBoost: no gain from NNG-Mix at low pollution (γ ≤ 0.4), a gain above γ = 0.6", "fig4",
     gain_only_above(_ratios("Baseline γ=", "NNG-Mix γ=", ["0.0", "0.2", "0.4"]),
                     _ratios("Baseline γ=", "NNG-Mix γ=", ["0.8", "1.0"]), TREES,
                     "no significant benefit at low pollution; efficacy above 0.6 (Fig. 4 text)")),
    ("Both the nearest neighbours and the Gaussian noise matter (NNG-Mix 10x beats w/o NN and w/o GN)", "table6",
     pairs_claim([("NNG-Mix 10x", "w/o NN 10x"), ("NNG-Mix 10x", "w/o GN 10x")])),
    ("The Gaussian noise matters: NNG-Mix 10x beats w/o GN 10x over 5 seeds (Table VI's ablation, beyond its "
     "single seed)", "gn_ablation", pairs_claim([("NNG-Mix 10x", "w/o GN 10x")])),
    ("NNG-Mix beats Cutout+GN and CutMix+GN (DeepSAD)", "table8",
     pairs_claim([(NNG, "Cutout+GN"), (NNG, "CutMix+GN")], row="deepsad")),
    ("NNG-Mix beats Cutout+GN and CutMix+GN over 5 seeds (DeepSAD; Table VIII beyond its single seed)",
     "table8_seeds", pairs_claim([(NNG, "Cutout+GN"), (NNG, "CutMix+GN")], row="deepsad")),
    ("Insensitive to k, sigma and alpha", "fig5",
     insensitive([["k=3", "k=5", "k=10", "k=20"], ["σ=0.01", "σ=0.1", "σ=0.3"], ["α=0.2", "α=2.0"]])),
    ("Consistent across seeds: NNG-Mix significantly beats the baseline over 5 seeds (DeepSAD)", "fig7",
     pairs_claim([(NNG, "Baseline")], row="deepsad")),
]


def build_claims(out_dir: str | Path) -> list[Claim]:
    """Evaluate every claim from the long tables under ``out_dir``."""
    out = []
    for text, name, check in CLAIMS:
        claim = Claim(claim=text, source=name)
        s = load(Path(out_dir), name)
        if s is not None:
            check(s, claim)
        out.append(claim)
    return out


def claims_markdown(claims: list[Claim]) -> str:
    """The claims table as Markdown."""
    counts = {v: sum(c.verdict == v for c in claims) for v in (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_RUN)}
    lines = ["# The NNG-Mix paper's claims, checked against our runs", "",
             "Generated by `python -m adbench_repro.aggregate` from the study tables in this folder; do not edit. "
             "Verdicts rest on paired Wilcoxon signed-rank tests over datasets (seed-averaged AUCROC), Holm-corrected "
             f"within each claim, alpha = {ALPHA}: **reproduced** = every claimed difference is significant; "
             "**partly** = some are, or all go the claimed way without significance; **not reproduced** = absent "
             "or reversed; **not run** = the study has no table yet. \"overall\" = per-dataset mean over the "
             "detector rows that have every column involved (beyond-the-paper rows excluded).", "",
             "Summary: " + ", ".join(f"{n} {v}" for v, n in counts.items()) + ".", "",
             "| Claim | Study | Paper | Ours | Verdict |", "|---|---|---|---|---|"]
    for c in claims:
        link = f"[{c.source}]({c.source}.md)" if c.verdict != NOT_RUN else c.source
        lines.append(f"| {c.claim} | {link} | {c.paper} | {c.ours} | **{c.verdict}** |")
    return "\n".join(lines) + "\n"


def write_claims(out_dir: str | Path) -> Path:
    """Write ``<out_dir>/claims.md``; returns its path."""
    path = Path(out_dir) / "claims.md"
    path.write_text(claims_markdown(build_claims(out_dir)))
    return path
