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


def check_hashes(path: Path, sample: bool) -> None:
    """Every run of ``path`` has the hash of a configuration of its study composed from today's conf/, and its
    tags agree with that configuration. ``sample``: only the runs of one detector (the exports take turns, so
    that every detector is checked in some export) on the first three datasets."""
    study = load_study(path.name.split(".")[0])
    runs = read_run_files([path])
    if sample:
        detectors = sorted(runs["tags.detector"].unique())
        detector = detectors[EXPORTS.index(path) % len(detectors)]
        runs = runs[runs["tags.detector"] == detector]
        runs = runs[runs["tags.dataset"].isin(sorted(runs["tags.dataset"].unique())[:3])]
    keys = set(zip(runs["tags.dataset"], runs["tags.detector"]))
    expected = expected_configs(study, keep=lambda c: (c["dataset"], c["detector"]) in keys)
    orphans = runs.loc[~runs["tags.config_hash"].isin(set(expected)), "tags.config_hash"].tolist()
    assert not orphans, f"{path}: {len(orphans)} of {len(runs)} runs match no configuration of {study.name}"
    for row in runs.head(200).to_dict("records"):
        config = expected[row["tags.config_hash"]][0]
        assert (row["tags.dataset"], row["tags.detector"], int(row["tags.seed"])) == (
            config["dataset"], config["detector"], int(config["seed"]))


@pytest.mark.parametrize("path", EXPORTS, ids=lambda p: p.name)
def test_committed_runs_match_their_study_by_hash(path):
    """Default suite: a sample of each export (a changed detector, augmenter or protocol default moves every
    hash of it); ``make test-slow`` checks every run."""
    check_hashes(path, sample=True)


@pytest.mark.slow
@pytest.mark.parametrize("path", EXPORTS, ids=lambda p: p.name)
def test_every_committed_run_matches_its_study_by_hash(path):
    check_hashes(path, sample=False)
