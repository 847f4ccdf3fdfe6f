"""results/leakage.md compares Table I with and without ADBench's small-dataset resampling (synthetic tables)."""

from __future__ import annotations

from adbench_repro.aggregate.leakage import leakage_markdown
from adbench_repro.studies import load_study
from helpers import synthetic_study


def test_report_shows_a_gain_that_exists_only_with_resampling(tmp_path, adbench_root):
    small = load_study("table1_dedup").datasets
    others = ["6_cardio", "19_landsat", "30_satellite", "22_magic.gamma"]
    # with resampling NNG-Mix gains 0.05 everywhere; without it the gain on the small datasets is gone
    synthetic_study("table1", ["deepsad", "mlp"], {"NNG-Mix": 0.05}, tmp_path, n_datasets=16, datasets=small + others)
    synthetic_study("table1_dedup", ["deepsad", "mlp"], {}, tmp_path, n_datasets=12, datasets=small)
    md = leakage_markdown(tmp_path, adbench_root)
    assert "| 45_wine | 129 | yes |" in md  # the audit of the real data
    assert "| 4_breastw | 42_WBC |" in md
    assert "NNG-Mix's gain over the baseline there is +0.050 with and +0.000 without" in md
    assert "a significant change" in md
    # over all datasets NNG-Mix stays first (the large datasets keep its gain), with a smaller margin
    assert "ranking of the generators is unchanged" in md or "NNG-Mix ranks 1 with" in md


def test_report_says_what_is_missing(tmp_path, adbench_root):
    md = leakage_markdown(tmp_path, adbench_root)
    assert "needs both `table1` and `table1_dedup`" in md
