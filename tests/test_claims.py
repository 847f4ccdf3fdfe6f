"""results/claims.md: the quoted claims file, and verdicts built from synthetic study tables whose answer is
known by construction (one verdict asserted per case)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from adbench_repro.aggregate.claims import (CLAIMS_FILE, CONTRADICTED, INCONCLUSIVE, MIXED, MOSTLY, NOT_REPRODUCED,
                                            NOT_RUN, QUOTE_GAP, REPRODUCED, ClaimsError, build_claims, combine,
                                            load_claims, write_claims)
from adbench_repro.aggregate.stats import min_wilcoxon_p
from adbench_repro.aggregate.table import AVERAGE, build_table
from adbench_repro.studies import load_study
from helpers import synthetic_study

PAPER = Path(__file__).resolve().parents[2] / "shared" / "papers" / "nng-mix-2311.11961.fulltext.txt"
CPU_ROWS = ["deepsad", "xgbod", "mlp", "catboost"]
ALL_ROWS = ["deepsad", "xgbod", "mlp", "fttransformer", "catboost"]


def claim(tmp_path, cid: str):
    (c,) = build_claims(tmp_path, ids=[cid])
    return c


def _norm(text: str) -> str:
    text = re.sub(r"\$\s*(\d+)\s*\\times\s*\$", r"\1x", text)  # "$10\times$" is quoted as "10x"
    return " ".join(text.replace("×", "x").split())


def _quoted(quote: str, text: str) -> bool:
    """Every part of ``quote`` (split at the page-break mark " […] ") appears verbatim in ``text``, in order and
    within a page of each other."""
    at = -1
    for i, part in enumerate(quote.split(QUOTE_GAP.strip())):
        part = part.strip()
        found = text.find(part, at + 1)
        if found < 0 or (i and found - at > 3000):
            return False
        at = found + len(part)
    return True


def test_the_claims_file_quotes_the_paper():
    claims = load_claims()
    assert len(claims) >= 25 and len({c.id for c in claims}) == len(claims)
    if not PAPER.is_file():
        pytest.skip(f"{PAPER} not present")
    texts = {}
    for c in claims:  # each quote against its own source (default: the NNG-Mix paper)
        path = PAPER.parent / c.source
        if path.is_file():
            texts.setdefault(c.source, _norm(path.read_text()))
    assert PAPER.name in texts
    missing = [c.id for c in claims if c.source in texts and not _quoted(_norm(c.quote), texts[c.source])]
    assert not missing, f"quotes not found verbatim in their source: {missing}"


def test_a_claim_from_another_paper_names_its_text(tmp_path):
    entry = {"id": "x", "quote": "q", "where": "w", "study": "table1", "kind": "better", "pairs": [["NNG-Mix", "Baseline"]]}
    ok = tmp_path / "ok.yaml"
    ok.write_text(yaml.safe_dump([entry, {**entry, "id": "y", "source": "other-paper.summary.txt"}]))
    assert [c.source for c in load_claims(ok)] == [PAPER.name, "other-paper.summary.txt"]
    bad = tmp_path / "claims.yaml"
    bad.write_text(yaml.safe_dump([{**entry, "source": "../papers/x.txt"}]))
    with pytest.raises(ClaimsError, match=r"claims.yaml: claim 1 \(x\): source must be a .txt file name"):
        load_claims(bad)


def test_a_claim_naming_an_unknown_column_is_refused(tmp_path):
    bad = tmp_path / "claims.yaml"
    bad.write_text(yaml.safe_dump([{"id": "x", "quote": "q", "where": "w", "study": "fig5", "kind": "range_within",
                                    "groups": [["k=3", "λ~U(0"]]}]))
    with pytest.raises(ClaimsError, match=r"claims.yaml: claim 1 \(x\).*'λ~U\(0'.*not columns of study 'fig5'"):
        load_claims(bad)


def test_smallest_wilcoxon_p_matches_scipy():
    from scipy.stats import wilcoxon

    for n in (1, 3, 5, 6, 8):
        exact = wilcoxon(range(1, n + 1), method="exact").pvalue if n > 1 else 1.0
        assert min_wilcoxon_p(n) == pytest.approx(exact)
    assert min_wilcoxon_p(5) > 0.05 > min_wilcoxon_p(6)


def test_better_on_every_row_is_reproduced_only_when_every_row_ran(tmp_path):
    synthetic_study("table1", ALL_ROWS, {"NNG-Mix": 0.05}, tmp_path)
    assert claim(tmp_path, "all-detectors-gain").verdict == REPRODUCED
    synthetic_study("table1", CPU_ROWS, {"NNG-Mix": 0.05}, tmp_path)
    c = claim(tmp_path, "all-detectors-gain")
    assert c.verdict == MOSTLY and "fttransformer not run" in c.why and c.counts == (4, 0, 0)


def test_no_gain_on_two_rows_makes_the_all_detectors_claim_mostly(tmp_path):
    shift = {"NNG-Mix": 0.05}
    synthetic_study("table1", ALL_ROWS, {}, tmp_path, row_shift={"deepsad": shift, "mlp": shift,
                                                                  "fttransformer": shift, "xgbod": {}, "catboost": {}})
    c = claim(tmp_path, "all-detectors-gain")
    assert c.verdict == MOSTLY and c.counts == (3, 2, 0)


def test_equal_columns_are_a_clear_null_not_a_missing_p_value(tmp_path):
    """gn_ablation: NNG-Mix 10x identical to w/o GN 10x is equivalence, so 'GN helps' is not reproduced."""
    synthetic_study("gn_ablation", CPU_ROWS, {}, tmp_path)
    c = claim(tmp_path, "gn-adds")
    assert c.verdict == CONTRADICTED and c.counts == (0, 4, 0)
    synthetic_study("gn_ablation", CPU_ROWS, {"NNG-Mix 10x": 0.03}, tmp_path)
    assert claim(tmp_path, "gn-adds").verdict == REPRODUCED


def test_plateau_is_judged_by_equivalence(tmp_path):
    flat = {"10x": 0.05, "20x": 0.05, "50x": 0.05, "100x": 0.05}
    synthetic_study("fig3a", ALL_ROWS, flat, tmp_path)
    assert claim(tmp_path, "plateau").verdict == REPRODUCED
    decline = {**flat, "100x": 0.02}  # one row declines by 0.03 at 100x: a decline, not a plateau
    synthetic_study("fig3a", ALL_ROWS, flat, tmp_path, row_shift={"catboost": decline})
    c = claim(tmp_path, "plateau")
    assert c.verdict == MOSTLY and c.counts == (14, 1, 0) and "catboost 2/1/0" in c.ours


def test_too_few_datasets_is_inconclusive_not_a_null(tmp_path):
    """Five datasets can never give p < 0.05 (Wilcoxon): noise without a shift is undecided, not 'no gain'."""
    synthetic_study("table8", ["deepsad"], {}, tmp_path, n_datasets=5, noise=0.05)
    c = claim(tmp_path, "combinations-lose")
    assert c.verdict == INCONCLUSIVE and "cannot be significant with 5 datasets" in " ".join(c.details)


def test_partial_family_is_inconclusive(tmp_path):
    """CV with 21 of 61 files: however clear our gain, the paper's family average cannot be compared."""
    synthetic_study("table2", ALL_ROWS, {"NNG-Mix": 0.08}, tmp_path, n_datasets=21)
    c = claim(tmp_path, "cv-best")
    assert c.verdict == INCONCLUSIVE and "data: 21 of 61 files" in c.why


def test_a_claim_about_an_unrun_row_is_not_run(tmp_path):
    synthetic_study("fig4", CPU_ROWS, {}, tmp_path)
    assert claim(tmp_path, "fttransformer-pollution").verdict == NOT_RUN


def test_a_significant_gain_of_the_wrong_size_is_mixed(tmp_path):
    """'up to 16.4%' for the supervised rows: a +0.05 gain everywhere is real (direction for) but not that size
    (0.164 outside our interval: against)."""
    synthetic_study("table1", ALL_ROWS, {"NNG-Mix": 0.05}, tmp_path)
    c = claim(tmp_path, "classical-supervised-max")
    assert c.verdict == MIXED and c.counts == (1, 1, 0) and "direction for, size against" in c.details[0]


def test_a_size_inside_our_interval_is_reproduced(tmp_path):
    """The paper's 16.4% on MLP, ours a noisy +0.164: the figure lies in our 95% interval, which excludes 0."""
    synthetic_study("table1", ALL_ROWS, {}, tmp_path, noise=0.01, row_shift={"mlp": {"NNG-Mix": 0.164}})
    c = claim(tmp_path, "classical-supervised-max")
    assert c.verdict == REPRODUCED and c.counts == (2, 0, 0) and "0.164 is inside the interval" in c.details[0]


def test_fluctuations_within_the_papers_threshold(tmp_path):
    k = {"k=3": 0.0, "k=5": 0.005, "k=10": 0.01, "k=20": 0.0}
    synthetic_study("fig5", ALL_ROWS, k, tmp_path)
    assert claim(tmp_path, "insensitive").verdict == REPRODUCED
    synthetic_study("fig5", ALL_ROWS, {"σ=0.3": 0.05, "k=20": 0.05, "α=2.0": 0.05}, tmp_path)
    assert claim(tmp_path, "insensitive").verdict == CONTRADICTED


def test_largest_gain_row(tmp_path):
    synthetic_study("table1", ALL_ROWS, {}, tmp_path, row_shift={"mlp": {"NNG-Mix": 0.1}, "deepsad": {"NNG-Mix": 0.02}})
    assert claim(tmp_path, "mlp-benefits-most").verdict == REPRODUCED
    synthetic_study("table1", ALL_ROWS, {}, tmp_path, row_shift={"mlp": {"NNG-Mix": 0.02}, "deepsad": {"NNG-Mix": 0.1}})
    assert claim(tmp_path, "mlp-benefits-most").verdict == NOT_REPRODUCED


def test_report_counts_every_verdict(tmp_path):
    synthetic_study("table1", CPU_ROWS, {"NNG-Mix": 0.05}, tmp_path)
    md = write_claims(tmp_path).read_text()
    n = len(load_claims())
    summaries = re.findall(r"Summary \((\d+) claims: (\d+) reproduced, (\d+) mostly, (\d+) mixed, (\d+) not "
                           r"reproduced, (\d+) contradicted, (\d+) inconclusive, (\d+) not run\.\)", md)
    assert len(summaries) == 2  # the paper's claims, then the rows beyond the paper, each with its own count
    assert all(int(g[0]) == sum(int(x) for x in g[1:]) for g in summaries)
    beyond = [c for c in load_claims() if c.beyond]
    assert int(summaries[0][0]) == n - len(beyond) and int(summaries[1][0]) == len(beyond) >= 2
    assert sum(line.startswith("| [") for line in md.splitlines()) == n and "“we demonstrate that NNG-Mix outperforms" in md
    assert all(re.search(r"\*\*(reproduced|mostly|mixed|not reproduced|contradicted)\*\* \(\d+ for / \d+ against / "
                         r"\d+ undecided", line) for line in md.splitlines() if line.startswith("| [")
               and re.search(r"\*\*(reproduced|mostly|mixed|not reproduced|contradicted)\*\*", line))


def test_average_row_compares_like_for_like():
    """The paper's Average is the mean of the paper's cells over the rows we ran, not its printed 5-row mean."""
    study = load_study("table1")
    paper = pd.DataFrame([{"row": r, "column": c.label, "value": v}
                          for r, v in zip(ALL_ROWS + [AVERAGE], [0.7, 0.8, 0.6, 0.9, 0.85, 0.77])
                          for c in study.columns])
    recs = pd.DataFrame([{"row": r, "column": c.label, "dataset": d, "seed": 0, "value": 0.75,
                          "run_id": f"{r}{d}{c.label}", "config_hash": f"{r}{d}{c.label}"}
                         for r in CPU_ROWS for d in study.datasets for c in study.columns])
    t = build_table(study, recs, paper)
    avg = t.long[(t.long["level"] == "average") & (t.long["column"] == "NNG-Mix")].iloc[0]
    assert avg["paper"] == pytest.approx((0.7 + 0.8 + 0.6 + 0.85) / 4)  # not 0.77, not with FTTransformer's 0.9
    assert avg["diff"] == pytest.approx(0.75 - 0.7375)
    partial = build_table(study, recs[recs["dataset"].isin(study.datasets[:20])], paper)
    assert partial.long["diff"].isna().all() and not partial.paper_comparable  # 20 of 47 files: not comparable


def test_uniform_claim_is_judged_on_the_classifier_rows(tmp_path):
    """2506.13955's claim covers MLP, CatBoost and XGBOD; Deep SAD's row does not enter it."""
    gain = {"Uniform": 0.05}
    synthetic_study("table1_uniform", CPU_ROWS, {}, tmp_path,
                    row_shift={"deepsad": {}, "mlp": gain, "catboost": gain, "xgbod": gain})
    c = claim(tmp_path, "uniform-helps-classifiers")
    assert c.verdict == REPRODUCED and c.source.startswith("synthetic-anomalies-bridging-2506.13955")
    synthetic_study("table1_uniform", CPU_ROWS, {}, tmp_path,
                    row_shift={"deepsad": gain, "mlp": gain, "catboost": {}, "xgbod": {}})
    c = claim(tmp_path, "uniform-helps-classifiers")
    assert c.verdict == CONTRADICTED and [d.split(":")[:2] for d in c.details] == [
        ["for", " mlp"], ["against", " catboost"], ["against", " xgbod"]]  # equal columns: equivalent, not a gain
    synthetic_study("table1_uniform", ["deepsad", "mlp"], {}, tmp_path, row_shift={"deepsad": {}, "mlp": gain})
    c = claim(tmp_path, "uniform-helps-classifiers")
    assert c.verdict == MIXED and "catboost, xgbod not run" in c.why  # 1 of 3 rows: at most mixed


def test_uniform_claim_is_judged_at_every_training_row_budget(tmp_path):
    """The budgets study: 2506.13955's claim at 10 % and 50 % of the training rows, one claim per budget, each on
    its own column (here the trees gain only at 50 %)."""
    synthetic_study("budgets", CPU_ROWS, {}, tmp_path,
                    row_shift={"deepsad": {}, "mlp": {"Uniform 10%": 0.05, "Uniform 50%": 0.05},
                               "catboost": {"Uniform 50%": 0.05}, "xgbod": {"Uniform 50%": 0.05}})
    c10 = claim(tmp_path, "uniform-helps-classifiers-10pct-train")
    c50 = claim(tmp_path, "uniform-helps-classifiers-50pct-train")
    assert c10.beyond and c50.beyond and c10.study == c50.study == "budgets"
    assert c50.verdict == REPRODUCED
    assert c10.verdict == CONTRADICTED and [d.split(":")[:2] for d in c10.details] == [
        ["for", " mlp"], ["against", " catboost"], ["against", " xgbod"]]


def test_more_against_than_for_is_never_mixed_or_better():
    """The acceptance rule of issue 31, on every balance of up to 12 comparisons."""
    from adbench_repro.aggregate.claims import AGAINST, FOR, UNDECIDED

    for f in range(13):
        for a in range(13 - f):
            for u in range(13 - f - a):
                for most in (False, True):
                    v = combine([FOR] * f + [AGAINST] * a + [UNDECIDED] * u, most)
                    if a > f:
                        assert v in (NOT_REPRODUCED, CONTRADICTED), (f, a, u, most, v)
                    if f + a + u and f == f + a + u:
                        assert v == REPRODUCED
    assert combine([FOR] + [AGAINST] * 5 + [UNDECIDED] * 6) == NOT_REPRODUCED  # issue 31's plateau, old "partly"
    assert combine([FOR] * 7 + [AGAINST] + [UNDECIDED] * 4) == MOSTLY
    assert combine([FOR] * 2 + [AGAINST] * 2 + [UNDECIDED] * 4) == MIXED
    assert combine([UNDECIDED] * 3) == INCONCLUSIVE and combine([]) == NOT_RUN


def test_equivalence_is_refuted_only_outside_the_margin_with_confidence():
    """Issue 31: Deep SAD 50x vs 10x, +0.013, significant, but its 90% interval 0.007-0.019 straddles the 0.01
    margin: undecided, not against. Wholly beyond the margin: against."""
    from adbench_repro.aggregate.claims import AGAINST, UNDECIDED, outcome

    line = pd.Series({"significant": True, "mean_diff": 0.013, "p_equivalent": 0.27, "p_better": 0.0,
                      "p_worse": 0.73, "bayes_samples": 50_000, "ci90_low": 0.007, "ci90_high": 0.019})
    assert outcome(line, "equivalent") == UNDECIDED
    beyond = line.copy()
    beyond["ci90_low"] = 0.011
    assert outcome(beyond, "equivalent") == AGAINST


def test_a_probability_at_the_cut_within_monte_carlo_error_decides_nothing():
    """Issue 31: XGBOD at γ = 0, P(better) 0.0504 against a 0.05 cut from 10,000 draws: undecided, either way."""
    from adbench_repro.aggregate.claims import FOR, UNDECIDED, outcome

    line = pd.Series({"significant": False, "mean_diff": -0.01, "p_equivalent": 0.3, "p_better": 0.0504,
                      "p_worse": 0.65, "bayes_samples": 10_000})
    assert outcome(line, "no_gain") == UNDECIDED
    assert outcome(line.copy().replace(0.0504, 0.0496), "no_gain") == UNDECIDED
    assert outcome(line.copy().replace(0.0504, 0.03), "no_gain") == FOR


def test_the_stated_deepsad_is_shown_beside_the_verdict_not_in_it(tmp_path):
    rows = CPU_ROWS + ["deepsad_pretrained"]
    synthetic_study("table1", rows, {}, tmp_path, row_shift={r: {"NNG-Mix": 0.05} for r in CPU_ROWS})
    c = claim(tmp_path, "all-detectors-gain")
    assert c.counts == (4, 0, 0) and c.stated.startswith("against: NNG-Mix − Baseline +0.000")
    assert any(d.startswith("stated Deep SAD (deepsad_pretrained)") for d in c.details)
    assert claim(tmp_path, "mlp-benefits-most").stated == ""  # not a Deep SAD claim


def test_only_and_best_setting_kinds(tmp_path):
    synthetic_study("table1", ALL_ROWS, {"NNG-Mix": 0.05}, tmp_path)
    c = claim(tmp_path, "only-nng-mix-consistent")
    assert c.verdict == REPRODUCED and c.counts == (5 + 6, 0, 0)  # 5 rows gain; 6 other columns fail
    synthetic_study("table1", ALL_ROWS, {"NNG-Mix": 0.05, "CutMix": 0.05}, tmp_path)
    c = claim(tmp_path, "only-nng-mix-consistent")
    assert c.verdict == MOSTLY and c.counts == (10, 1, 0) and "CutMix" in c.ours
    synthetic_study("fig5", ALL_ROWS, {"k=5": 0.03}, tmp_path)
    assert claim(tmp_path, "k-5-10-well-performing").verdict == REPRODUCED
    synthetic_study("fig5", ALL_ROWS, {"k=20": 0.03}, tmp_path)
    assert claim(tmp_path, "k-5-10-well-performing").verdict == CONTRADICTED


def test_every_quoted_part_of_table7_is_judged():
    """Issue 31: #22 judges the count and the maximum it quotes, not only the mean (committed Table VII)."""
    from adbench_repro.aggregate.claims import Claim, check_per_dataset, load

    s = load(Path(__file__).resolve().parents[1] / "results", "table7")
    if s is None:
        pytest.skip("no committed table7")
    spec = next(c.spec for c in load_claims() if c.id == "table7-per-dataset")
    c = Claim(id="x", quote="q", where="w", study="table7", kind="per_dataset", spec=spec)
    check_per_dataset(s, c)
    assert [d.split(":")[1].strip() for d in c.details] == ["count", "max", "mean"] and sum(c.counts) == 3
    assert "41 of 47 improved, max +0.229, mean +0.035" in c.paper
    one = Claim(id="y", quote="q", where="w", study="table7", kind="per_dataset",
                spec={"a": "1x", "b": "Baseline", "parts": ["majority"]})
    check_per_dataset(s, one)
    assert one.details[0].split(":")[1].strip() == "majority" and sum(one.counts) == 1


FAMILY_ROWS = ["deepsad", "devnet", "prenet", "feawad", "mlp", "catboost", "xgbod", "rf", "lightgbm", "xgboost"]


def test_families_differ_follows_the_family_gains(tmp_path):
    """Beyond the paper: a gain of the neural families only makes them differ from the trees (2 of 3 pairs), and
    the same gain everywhere makes every pair equivalent; rows without runs cap the verdict and are named."""
    neural = {r: {"NNG-Mix": 0.05} for r in FAMILY_ROWS[:5]}
    synthetic_study("families", FAMILY_ROWS, {}, tmp_path, noise=0.002,
                    row_shift={**neural, **{r: {} for r in FAMILY_ROWS[5:]}})
    c = claim(tmp_path, "gain-differs-between-families")
    assert c.counts[:2] == (2, 1) and c.beyond  # weakly supervised vs supervised: equal gains, equivalent
    assert [d.split(":")[0] for d in c.details] == ["against", "for", "for"]
    synthetic_study("families", FAMILY_ROWS, {"NNG-Mix": 0.05}, tmp_path, noise=0.002)
    assert claim(tmp_path, "gain-differs-between-families").verdict == CONTRADICTED
    synthetic_study("families", ["deepsad", "mlp"], {"NNG-Mix": 0.05}, tmp_path, noise=0.002)
    c = claim(tmp_path, "gain-differs-between-families")
    assert "tree ensembles" not in c.ours and "catboost" in c.why


def test_rows_that_are_datasets_are_not_partial_rows():
    """Table VII's rows are its datasets, one each by construction: no row is named as run on "1 of 43 datasets"
    (a verdict note that listed every dataset for claims 22 and 41; committed Table VII)."""
    results = Path(__file__).resolve().parents[1] / "results"
    if not (results / "table7.csv").is_file():
        pytest.skip("no committed table7")
    for c in build_claims(results, ids=["table7-per-dataset", "table7-one-x-majority"]):
        assert c.verdict != NOT_RUN and "of 43 datasets" not in c.why, (c.id, c.why)
