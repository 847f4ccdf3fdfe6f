"""The leakage audit (datasets/audit.py): exact-duplicate counting and ADBench's small-dataset resampling."""

from __future__ import annotations

import numpy as np

from adbench_repro.datasets.audit import audit_dataset, audit_markdown, share_seen_in_training, shared_rows


def test_share_seen_counts_exact_duplicates_only():
    train = np.array([[0.1, 0.2], [0.3, 0.4]])
    test = np.array([[0.1, 0.2], [0.3, 0.40000001], [0.5, 0.6], [0.1, 0.2]])
    assert share_seen_in_training(train, test) == 0.5  # rows 0 and 3; the near-copy does not count


def test_resampling_a_small_dataset_puts_test_rows_in_training(adbench_root):
    row = audit_dataset("45_wine", adbench_root)  # 129 distinct rows resampled to 1000 before the split
    assert row.duplicated and row.rows == 129 and row.self_duplicates == 0
    assert row.seen_with > 0.9 and row.seen_without == 0.0 and row.seen_grouped == 0.0
    assert row.seen_split >= row.seen_with  # the whole training split bounds what the detector sees
    big = audit_dataset("6_cardio", adbench_root)  # 1831 rows: not resampled, the setting changes nothing
    assert not big.duplicated and big.seen_with == big.seen_without
    md = audit_markdown([row, big], [])
    assert "| 45_wine | 129 | yes |" in md


def test_shared_rows_between_datasets_from_one_source(adbench_root):
    pairs = shared_rows(["4_breastw", "42_WBC", "6_cardio"], adbench_root)
    assert [(a, b) for a, b, *_ in pairs] == [("4_breastw", "42_WBC")]  # both from the Wisconsin breast data
    assert pairs[0][2] > 0
