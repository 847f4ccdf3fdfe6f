"""The study runner's planning: grouping configurations into multiruns, hashing as the runner does."""

from __future__ import annotations

from adbench_repro import studies
from adbench_repro.reproduce import compose_hashes, group_for_multirun


def _expand_groups(groups: list[list[str]]) -> set[tuple]:
    out = set()
    for overrides in groups:
        kv = dict(o.split("=", 1) for o in overrides)
        for ds in kv.pop("dataset").split(","):
            for seed in kv["seed"].split(","):
                out.add(tuple(sorted({**kv, "dataset": ds, "seed": seed}.items())))
    return out


def test_groups_cover_exactly_the_configurations():
    configs = studies.expand("table1", quick=True)
    groups = group_for_multirun(configs)
    want = {tuple(sorted({k: str(v) for k, v in c.items()}.items())) for c in configs}
    assert _expand_groups(groups) == want
    # one multirun per (augmenter, detector): datasets and seeds are swept inside it
    assert len(groups) == len({(c["augmenter"], c["detector"]) for c in configs})


def test_uneven_seeds_split_into_separate_multiruns():
    configs = [
        {"dataset": "6_cardio", "augmenter": "none", "multiplier": 0, "detector": "mlp", "label_ratio": "1pct", "seed": 0},
        {"dataset": "6_cardio", "augmenter": "none", "multiplier": 0, "detector": "mlp", "label_ratio": "1pct", "seed": 1},
        {"dataset": "14_glass", "augmenter": "none", "multiplier": 0, "detector": "mlp", "label_ratio": "1pct", "seed": 0},
    ]
    groups = group_for_multirun(configs)
    assert len(groups) == 2
    assert _expand_groups(groups) == {tuple(sorted({k: str(v) for k, v in c.items()}.items())) for c in configs}


def test_baseline_hash_is_shared_across_multipliers_and_differs_by_parameter():
    base = {"dataset": "6_cardio", "label_ratio": "1pct", "detector": "mlp", "seed": 0}
    h = compose_hashes([
        {**base, "augmenter": "none", "multiplier": 0},
        {**base, "augmenter": "none", "multiplier": 10},
        {**base, "augmenter": "nng_mix", "multiplier": 10},
        {**base, "augmenter": "nng_mix", "multiplier": 10, "augmenter.k": 5},
        {**base, "augmenter": "nng_mix", "multiplier": 10, "augmenter.k": 10},
    ], [])
    assert h[0] == h[1]
    assert len({h[1], h[2], h[3]}) == 3
    assert h[4] == h[2]  # k=10 is the default: the same configuration
