"""The committed results stay findable: every run exported under results/runs/ has the config hash of one
configuration of its study, composed from today's conf/ (a changed default would orphan them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adbench_repro.aggregate.expected import expected_configs
from adbench_repro.aggregate.runs import read_run_files
from adbench_repro.studies import available_studies, load_study

RUNS = Path(__file__).resolve().parents[1] / "results" / "runs"
EXPORTS = sorted(p for p in RUNS.glob("*.csv.gz") if p.name.split(".")[0] in available_studies())


def test_there_are_committed_runs():
    assert EXPORTS, f"no study exports under {RUNS}"


@pytest.mark.parametrize("path", EXPORTS, ids=lambda p: p.name)
def test_committed_runs_match_their_study_by_hash(path):
    study = load_study(path.name.split(".")[0])
    runs = read_run_files([path])
    expected = expected_configs(study)
    orphans = runs.loc[~runs["tags.config_hash"].isin(set(expected)), "tags.config_hash"].tolist()
    assert not orphans, f"{path}: {len(orphans)} of {len(runs)} runs match no configuration of {study.name}"
    # and the tags agree with the configuration the hash stands for
    for row in runs.head(200).to_dict("records"):
        config = expected[row["tags.config_hash"]][0]
        assert (row["tags.dataset"], row["tags.detector"], int(row["tags.seed"])) == (
            config["dataset"], config["detector"], int(config["seed"]))
