"""The committed results stay findable: every run of the committed store has the config hash of a configuration
of some study, composed from today's conf/ (a changed default would orphan it), and its tags agree with it."""

from __future__ import annotations

import pytest

from adbench_repro import store
from adbench_repro.aggregate.expected import expected_configs
from adbench_repro.studies import available_studies, load_study

#: the default suite checks the runs on these datasets (every study and detector has some); slow: all
SAMPLE_DATASETS = ("14_glass", "4_breastw", "6_cardio")


def check_planned(datasets: tuple[str, ...] | None) -> None:
    runs = store.read()
    if datasets is not None:
        runs = runs[runs["tags.dataset"].isin(datasets)]
    assert len(runs), "no committed runs to check"
    planned: dict[str, dict] = {}
    for name in available_studies():
        keep = None if datasets is None else (lambda c: c["dataset"] in datasets)
        for h, configs in expected_configs(load_study(name), keep=keep).items():
            planned.setdefault(h, configs[0])
    orphans = runs.loc[~runs["tags.config_hash"].isin(set(planned)), "tags.config_hash"].tolist()
    assert not orphans, f"{len(orphans)} of {len(runs)} committed runs match no study configuration, e.g. {orphans[:3]}"
    for row in runs.to_dict("records"):
        config = planned[row["tags.config_hash"]]
        assert (row["tags.dataset"], row["tags.detector"], int(row["tags.seed"])) == (
            config["dataset"], config["detector"], int(config["seed"]))


def test_committed_runs_match_a_study_by_hash():
    """Default suite: the runs on three datasets (a changed detector, augmenter or protocol default moves every
    hash); ``make test-slow`` checks every run."""
    check_planned(SAMPLE_DATASETS)


@pytest.mark.slow
def test_every_committed_run_matches_a_study_by_hash():
    check_planned(None)
