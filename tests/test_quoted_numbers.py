"""Result numbers quoted in README.md and docs/ against the committed tables (results/<study>.csv), so that prose
cannot go stale silently (issue 31). Each entry of QUOTED names the sentence as written, the number in it and
the table cell (or the difference of two cells) it comes from; the number must equal the cell at the printed
decimals. When a table changes, the failing entry names the sentence to rewrite. Add an entry for every number
you write into the prose that a table holds."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def cell(study: str, row: str, column: str) -> tuple:
    return ("cell", study, row, column)


def avg(study: str, column: str) -> tuple:
    return ("average", study, "Average", column)


# (document, sentence as written, number as printed, source: a cell or (cell, cell) for a difference)
QUOTED = [
    ("README.md", "(0.614 → 0.680,", "0.614", cell("families", "rf", "Baseline")),
    ("README.md", "(0.614 → 0.680,", "0.680", cell("families", "rf", "NNG-Mix")),
    ("README.md", "0.641 → 0.723, 0.607 → 0.798", "0.723", cell("families", "lightgbm", "NNG-Mix")),
    ("README.md", "0.641 → 0.723, 0.607 → 0.798", "0.798", cell("families", "xgboost", "NNG-Mix")),
    ("README.md", "(0.800 → 0.802,", "0.800", cell("families", "devnet", "Baseline")),
    ("README.md", "0.791 → 0.793), FEAWAD", "0.793", cell("families", "prenet", "NNG-Mix")),
    ("README.md", "13 datasets: 0.790 → 0.829", "0.790", cell("table1", "fttransformer", "Baseline")),
    ("README.md", "13 datasets: 0.790 → 0.829", "0.829", cell("table1", "fttransformer", "NNG-Mix")),
    ("README.md", "Deep SAD 0.764 → 0.794", "0.764", cell("table1", "deepsad", "Baseline")),
    ("README.md", "Deep SAD 0.764 → 0.794", "0.794", cell("table1", "deepsad", "NNG-Mix")),
    ("README.md", "MLP 0.576 → 0.738", "0.576", cell("table1", "mlp", "Baseline")),
    ("README.md", "MLP 0.576 → 0.738", "0.738", cell("table1", "mlp", "NNG-Mix")),
    ("README.md", "CatBoost 0.846 → 0.844", "0.846", cell("table1", "catboost", "Baseline")),
    ("README.md", "CatBoost 0.846 → 0.844", "0.844", cell("table1", "catboost", "NNG-Mix")),
    ("README.md", "XGBOD 0.814 → 0.799", "0.814", cell("table1", "xgbod", "Baseline")),
    ("README.md", "XGBOD 0.814 → 0.799", "0.799", cell("table1", "xgbod", "NNG-Mix")),
    ("README.md", "ours are 0.750 and 0.794", "0.750", avg("table1", "Baseline")),
    ("README.md", "ours are 0.750 and 0.794", "0.794", avg("table1", "NNG-Mix")),
    ("README.md", "NNG-Mix 0.794 ± 0.004,\n  CutMix+GN 0.789", "0.789", cell("table8", "deepsad", "CutMix+GN")),
    ("README.md", "Cutout+GN 0.778 ± 0.005", "0.778", cell("table8", "deepsad", "Cutout+GN")),
    ("README.md", "MLP yes, nearly as much as NNG-Mix (0.719 vs baseline 0.576", "0.719",
     cell("table1_uniform", "mlp", "Uniform")),
    ("README.md", "XGBOD (0.804 vs 0.814)", "0.804", cell("table1_uniform", "xgbod", "Uniform")),
    ("README.md", "a random pick already gains +0.032 (Deep SAD)", "+0.032",
     (cell("selection", "deepsad", "Random"), cell("selection", "deepsad", "Baseline"))),
    ("README.md", "SAD) and +0.179 (MLP)", "+0.179",
     (cell("selection", "mlp", "Random"), cell("selection", "mlp", "Baseline"))),
    ("README.md", "would show gains of +0.031 (CatBoost)\n  and +0.044 (XGBOD)", "+0.031",
     (cell("selection", "catboost", "Oracle"), cell("selection", "catboost", "Baseline"))),
    ("README.md", "would show gains of +0.031 (CatBoost)\n  and +0.044 (XGBOD)", "+0.044",
     (cell("selection", "xgbod", "Oracle"), cell("selection", "xgbod", "Baseline"))),
    ("README.md", "XGen-both 0.739 vs 0.740 in-sample", "0.739", cell("selection", "deepsad", "XGen-both (held-out)")),
    ("README.md", "XGen-both 0.739 vs 0.740 in-sample", "0.740", cell("selection", "deepsad", "XGen-both")),
    ("docs/selection.md", "0.687 vs 0.702 on MLP", "0.687", cell("selection", "mlp", "XGen-both (held-out)")),
    ("docs/selection.md", "0.687 vs 0.702 on MLP", "0.702", cell("selection", "mlp", "XGen-both")),
    ("README.md", "(CatBoost 0.838 and\n  0.828 vs 0.846", "0.838", cell("budgets", "catboost", "Uniform 10%")),
    ("README.md", "(CatBoost 0.838 and\n  0.828 vs 0.846", "0.828", cell("budgets", "catboost", "Uniform 50%")),
    ("README.md", "XGBOD 0.810 and 0.814 vs 0.812", "0.810", cell("budgets", "xgbod", "Uniform 10%")),
    ("README.md", "XGBOD 0.810 and 0.814 vs 0.812", "0.814", cell("budgets", "xgbod", "Uniform 50%")),
    ("README.md", "while MLP rises to 0.767", "0.767", cell("budgets", "mlp", "Uniform 50%")),
    ("docs/uniform.md", "| CatBoost | 0.846 | 0.848 | 0.838 | 0.828 |", "0.828", cell("budgets", "catboost", "Uniform 50%")),
    ("docs/uniform.md", "| XGBOD | 0.812 | 0.799 | 0.810 | 0.814 |", "0.814", cell("budgets", "xgbod", "Uniform 50%")),
    ("docs/uniform.md", "| MLP | 0.575 | 0.719 | 0.762 | 0.767 |", "0.762", cell("budgets", "mlp", "Uniform 10%")),
    ("docs/uniform.md", "| Deep SAD | 0.763 | 0.768 | 0.777 | 0.786 |", "0.786", cell("budgets", "deepsad", "Uniform 50%")),
    ("docs/results.md", "Deep SAD 0.759 → 0.788, MLP 0.571 → 0.741", "0.788", cell("table1_grouped_full", "deepsad", "NNG-Mix")),
    ("docs/results.md", "Deep SAD 0.759 → 0.788, MLP 0.571 → 0.741", "0.571", cell("table1_grouped_full", "mlp", "Baseline")),
    ("docs/results.md", "CatBoost 0.845 → 0.839, XGBOD 0.802 → 0.797", "0.839", cell("table1_grouped_full", "catboost", "NNG-Mix")),
    ("docs/results.md", "CatBoost 0.845 → 0.839, XGBOD 0.802 → 0.797", "0.802", cell("table1_grouped_full", "xgbod", "Baseline")),
    ("docs/results.md", "MLP 0.762 / 0.767 and Deep SAD 0.777 / 0.786", "0.777", cell("budgets", "deepsad", "Uniform 10%")),
    ("docs/uniform.md", "CatBoost 0.838 / 0.835, under its baseline", "0.835", cell("budgets", "catboost", "NNG-Mix 50%")),
    ("docs/uniform.md", "Deep SAD 0.809 /\n0.810 and MLP 0.763 / 0.760", "0.810", cell("budgets", "deepsad", "NNG-Mix 50%")),
    ("docs/uniform.md", "Deep SAD 0.809 /\n0.810 and MLP 0.763 / 0.760", "0.760", cell("budgets", "mlp", "NNG-Mix 50%")),
    ("docs/selection.md", "| Deep SAD | 0.697 | 0.729 | 0.746 | 0.740 (XGen-both) | 0.746 | 0.762 |", "0.762",
     cell("selection", "deepsad", "Oracle")),
    ("docs/selection.md", "| CatBoost | 0.796 | 0.793 | 0.797 | 0.797 (MMD) | 0.788 | 0.827 |", "0.827",
     cell("selection", "catboost", "Oracle")),
    ("docs/selection.md", "| XGBOD | 0.761 | 0.713 | 0.731 | 0.760 (XGen-uniform) | 0.769 | 0.806 |", "0.806",
     cell("selection", "xgbod", "Oracle")),
    ("docs/selection.md", "| MLP | 0.470 | 0.648 | 0.684 | 0.702 (XGen-both) | 0.678 | 0.747 |", "0.747",
     cell("selection", "mlp", "Oracle")),
    ("docs/results.md", "Deep SAD 0.768 at 1x → 0.794 at 10x → 0.810 at 100x", "0.768", cell("fig3a", "deepsad", "1x")),
    ("docs/results.md", "Deep SAD 0.768 at 1x → 0.794 at 10x → 0.810 at 100x", "0.810", cell("fig3a", "deepsad", "100x")),
    ("docs/results.md", "MLP 0.647 at 1x → 0.738 at 10x → 0.762 at 20x", "0.647", cell("fig3a", "mlp", "1x")),
    ("docs/results.md", "MLP 0.647 at 1x → 0.738 at 10x → 0.762 at 20x", "0.762", cell("fig3a", "mlp", "20x")),
    ("docs/results.md", "0.770 at 50x, 0.767 at 100x", "0.770", cell("fig3a", "mlp", "50x")),
    ("docs/results.md", "0.770 at 50x, 0.767 at 100x", "0.767", cell("fig3a", "mlp", "100x")),
    ("docs/results.md", "CatBoost 0.847 (baseline) → 0.842 at 10x → 0.823 at 100x", "0.823",
     cell("fig3a", "catboost", "100x")),
    ("docs/results.md", "XGBOD 0.821 → 0.800 → 0.773", "0.773", cell("fig3a", "xgbod", "100x")),
    ("docs/results.md", "(0.794, 0.796, 0.795, 0.793 at 10x-100x)", "0.796", avg("fig3a", "20x")),
    ("docs/results.md", "(0.794, 0.796, 0.795, 0.793 at 10x-100x)", "0.793", avg("fig3a", "100x")),
    ("docs/results.md", "NNG-Mix 10x beats 1x overall (+0.030", "+0.030",
     (avg("table4", "NNG-Mix 10x"), avg("table4", "NNG-Mix 1x"))),
    ("docs/results.md", "MLP (0.738 vs 0.740)", "0.740", cell("gn_ablation", "mlp", "w/o GN 10x")),
    ("docs/results.md", "Deep SAD (0.794 vs 0.795)", "0.795", cell("gn_ablation", "deepsad", "w/o GN 10x")),
]

_tables: dict[str, pd.DataFrame] = {}


def value(source: tuple) -> float:
    if isinstance(source[0], tuple):  # a difference of two cells
        return value(source[0]) - value(source[1])
    level, study, row, column = source
    if study not in _tables:
        path = ROOT / "results" / f"{study}.csv"
        if not path.is_file():
            pytest.skip(f"{path} not committed")
        _tables[study] = pd.read_csv(path)
    t = _tables[study]
    hit = t[(t["level"] == level) & (t["row"].astype(str) == row) & (t["column"] == column)]
    assert len(hit) == 1, f"results/{study}.csv has no single {level} {row} / {column}"
    return float(hit["value"].iloc[0])


@pytest.mark.parametrize("doc, sentence, number, source", QUOTED,
                         ids=[f"{d}:{n}:{s[:30]}" for d, s, n, _ in QUOTED])
def test_quoted_number_matches_its_table(doc, sentence, number, source):
    text = " ".join((ROOT / doc).read_text().split())
    sentence = " ".join(sentence.split())
    assert sentence in text, f"{doc} no longer says {sentence!r}: update QUOTED with the new sentence"
    assert number in sentence
    decimals = len(number.split(".")[1])
    got = value(source)
    assert abs(got - float(number)) <= 0.5 * 10 ** -decimals + 1e-9, (
        f"{doc}: {sentence!r} quotes {number}, the table now gives {got:+.{decimals + 1}f}: rewrite the sentence")


def test_readme_claim_counts_match_the_report():
    """The README's one-line count of verdicts is results/claims.md's."""
    report = (ROOT / "results" / "claims.md").read_text()
    readme = " ".join((ROOT / "README.md").read_text().split())
    summaries = re.findall(r"Summary \((\d+ claims: [^)]*)\.\)", report)
    assert len(summaries) == 2, "results/claims.md: expected the paper's summary and the one beyond the paper"
    paper, beyond = summaries
    n_beyond = int(beyond.split()[0])
    assert f"{paper}; {n_beyond} more beyond the paper" in readme, (
        f"README.md should say '{paper}; {n_beyond} more beyond the paper'")


# (document, sentence as written, the text of results/leakage.md it rests on): leakage.md has no CSV
LEAKAGE_QUOTED = [
    ("README.md", "AUCROC moves by −0.002 on average over Table I's 8 columns",
     "AUCROC moves by -0.002 on average over the 8 columns"),
    ("docs/results.md", "AUCROC moves by −0.002 on average over Table I's 8 columns",
     "AUCROC moves by -0.002 on average over the 8 columns"),
    ("README.md", "+0.072 with ADBench's split and +0.070 with the grouped one",
     "NNG-Mix's gain over the baseline is +0.072 with ADBench's split and +0.070 with the control"),
    ("docs/results.md", "P(within) 0.003, TOST p 0.29", "P(within ±0.01) 0.003, TOST p 0.29"),
    ("README.md", "Deep SAD +0.031 → +0.030 and MLP +0.166 → +0.174", "| deepsad | 42 | +0.031 (8.1e-06) | +0.030 ("),
    ("README.md", "Deep SAD +0.031 → +0.030 and MLP +0.166 → +0.174", "| mlp | 42 | +0.166 (1.3e-07) | +0.174 ("),
    ("docs/results.md", "CatBoost (−0.003 → −0.006) and\n  XGBOD (−0.016 → −0.010)", "| catboost | 42 | -0.003 (0.67) | -0.006 ("),
    ("docs/results.md", "CatBoost (−0.003 → −0.006) and\n  XGBOD (−0.016 → −0.010)", "| xgbod | 42 | -0.016 (0.46) | -0.010 ("),
    ("docs/results.md", "no Table I verdict on NNG-Mix vs Baseline changes",
     "No Table I verdict on NNG-Mix vs Baseline changes (4 detectors)."),
]


@pytest.mark.parametrize("doc, sentence, evidence", LEAKAGE_QUOTED, ids=[f"{d}:{s[:30]}" for d, s, _ in LEAKAGE_QUOTED])
def test_quoted_leakage_figure_matches_the_page(doc, sentence, evidence):
    text = " ".join((ROOT / doc).read_text().split())
    assert " ".join(sentence.split()) in text, f"{doc} no longer says {sentence!r}: update LEAKAGE_QUOTED"
    page = " ".join((ROOT / "results" / "leakage.md").read_text().split())
    assert " ".join(evidence.split()) in page, f"results/leakage.md no longer says {evidence!r}: rewrite {doc}"
