"""Study specs (conf/study/*.yaml) and adbench_repro.studies: validation, expansion, quick subsets."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from adbench_repro.datasets.catalog import FAMILIES
from adbench_repro.studies import (STUDY_DIR, StudyError, available_studies, expand, load_study, matches,
                                   normalise, parse_seeds, parse_study, to_override_list, widen)

N_CLASSICAL, N_CV, N_NLP = 47, 61, 13
DETS = 5
#: detector-seed pairs of the seed-0 paper studies: Deep SAD and MLP over 5 seeds (issue 20), the rest seed 0
DET_SEEDS = 2 * 5 + 3

# run configurations per study, derived by hand from the paper's setting (datasets x detectors x columns)
EXPECTED_RUNS = {
    "table1": N_CLASSICAL * (DETS + 1) * 8 * 5,  # baseline + 7 generators at 10x, 5 seeds; + deepsad_pretrained
    "table2": N_CV * DETS * 8,
    "table3": N_NLP * DETS * 8,
    "table4": N_CLASSICAL * DET_SEEDS * (1 + 5 * 3),  # baseline once (not once per multiplier) + 5 generators x 3
    "table5": N_CLASSICAL * DET_SEEDS * 3 * (1 + 3),  # 3 label ratios x (baseline + NNG-Mix 1/5/10)
    "table6": N_CLASSICAL * DET_SEEDS * (1 + 4 * 3),  # baseline + 4 variants x 3 multipliers
    "table7": N_CLASSICAL * 1 * 4 * 5,          # DeepSAD only, 5 seeds
    "table8": N_CLASSICAL * 1 * 3 * 5,
    "fig3a": N_CLASSICAL * DET_SEEDS * (1 + 6),
    "fig3b": N_CLASSICAL * DET_SEEDS * 6 * 2,
    "fig4": N_CLASSICAL * DET_SEEDS * 6 * 2 + N_CLASSICAL * 2 * 2 * 4,  # + the trees at gamma 1.0, seeds 1-4
    "fig5": N_CLASSICAL * DET_SEEDS * (4 + 3 + 2 + 1),
    "fig7": N_CLASSICAL * 2 * 8 * 5,            # 2 Deep SAD variants x 8 columns x 5 seeds
    "table1_dedup": 12 * 4 * 8,                 # beyond the paper: 12 small datasets, 4 CPU detectors
    "table1_grouped": 12 * 4 * 8 * 5,           # beyond the paper: the same over 5 seeds, grouped split
    "xgbod_sigma": N_CLASSICAL * 1 * 3 * 5,     # beyond the paper: XGBOD, 3 columns, 5 seeds
    "gn_ablation": N_CLASSICAL * 4 * 3 * 5,     # beyond the paper: 4 CPU detectors, 3 columns, 5 seeds
    "table2_sigma": N_CV * 1 * 3 * 5,           # beyond the paper: MLP, 3 columns, 5 seeds
    "table3_sigma": N_NLP * 1 * 3 * 5,
    "table1_uniform": N_CLASSICAL * 4 * 3 * 5,  # beyond the paper: Baseline, NNG-Mix, Uniform; 4 CPU detectors
    "families": N_CLASSICAL * 10 * 3 * 5,       # beyond the paper: the 4 CPU detectors + 6 of ADBench's, 3 columns
    "table1_fttransformer_cpu": 13 * 1 * 2 * 3,  # Table I's FTTransformer Baseline/NNG-Mix where a CPU carries it
    "budgets": N_CLASSICAL * 4 * 7 * 3,         # beyond the paper: Baseline + 2 generators x 3 budgets, seeds 0-2
    "table1_grouped_full": N_CLASSICAL * 4 * 2 * 5,  # beyond the paper: Baseline, NNG-Mix; fully grouped split
}


def test_family_sizes():
    assert (len(FAMILIES["classical"]), len(FAMILIES["cv"]), len(FAMILIES["nlp"])) == (N_CLASSICAL, N_CV, N_NLP)


#: the paper's tables and figures that the project reproduces
PAPER_ARTEFACTS = {"table1", "table2", "table3", "table4", "table5", "table6", "table7", "table8",
                   "fig3a", "fig3b", "fig4", "fig5", "fig7"}


def test_every_paper_artefact_has_a_spec():
    # only specs marked `kind: paper`: a user's study (no kind) or one beyond the paper does not count
    assert {n for n in available_studies() if load_study(n).kind == "paper"} == PAPER_ARTEFACTS


def test_committed_study_tables_come_from_project_studies():
    # a spec whose table is committed under results/ must say kind: paper or beyond, else reproduce would now
    # write it under results/studies/<name>/ (the default for a user's study)
    from adbench_repro.aggregate import REPO_ROOT

    for name in available_studies():
        if (REPO_ROOT / "results" / f"{name}.md").is_file():
            assert load_study(name).kind in ("paper", "beyond"), f"conf/study/{name}.yaml: add `kind: beyond`"


@pytest.mark.parametrize("name", available_studies())
def test_run_counts_and_no_duplicates(name):
    study = load_study(name)
    configs = expand(study)
    if name in EXPECTED_RUNS:  # the hand-derived counts of this project's studies; any other spec: generic checks
        assert len(configs) == EXPECTED_RUNS[name]
    else:
        assert configs
    keys = [tuple(sorted(map(str, c.items()))) for c in configs]
    assert len(set(keys)) == len(keys)
    for c in configs:
        # the multiplier is 0 exactly when it cannot matter: nothing generated, or a training-row budget
        assert (c["multiplier"] == 0) == (c["augmenter"] == "none" or c.get("budget.fraction_of_train") is not None)
        assert len(study.column_for(c)) == 1  # every configuration fills exactly one column


@pytest.mark.parametrize("name", sorted(EXPECTED_RUNS))
def test_specs_say_they_are_not_hydra_configs(name):
    text = (STUDY_DIR / f"{name}.yaml").read_text()
    assert text.startswith("#") and "NOT a Hydra config" in text.splitlines()[0] + text.splitlines()[1]


def test_baseline_runs_are_shared_across_multipliers_and_studies():
    t4 = expand(load_study("table4"), seeds=[0])
    baseline = [c for c in t4 if c["augmenter"] == "none"]
    assert len(baseline) == N_CLASSICAL * DETS
    assert {c["multiplier"] for c in baseline} == {0}
    t1_base = [c for c in expand(load_study("table1"), seeds=[0]) if c["augmenter"] == "none"
               and c["detector"] != "deepsad_pretrained"]  # Table I's extra row
    assert sorted(map(str, t1_base)) == sorted(map(str, baseline))


def test_table1_uniform_reuses_table1_baseline_and_nng_mix():
    """Its Baseline and NNG-Mix configurations are Table I's own (so the same config hashes: reused, not rerun)."""
    study = load_study("table1_uniform")
    table1 = {tuple(sorted(map(str, c.items()))) for c in expand(load_study("table1"))}
    mine = expand(study)
    shared = [c for c in mine if study.column_for(c)[0].label in ("Baseline", "NNG-Mix")]
    assert len(shared) == N_CLASSICAL * 4 * 2 * 5
    assert all(tuple(sorted(map(str, c.items()))) in table1 for c in shared)
    new = [c for c in mine if c not in shared]
    assert {c["augmenter"] for c in new} == {"uniform"}
    assert not any(tuple(sorted(map(str, c.items()))) in table1 for c in new)


def test_table6_ablation_overrides():
    configs = expand(load_study("table6"), datasets=["6_cardio"], detectors=["deepsad"])
    by_col = {load_study("table6").column_for(c)[0].label: c for c in configs}
    assert by_col["w/o NN and GN 5x"]["augmenter"] == "mixup" and by_col["w/o NN and GN 5x"]["augmenter.pool"] == "all"
    assert by_col["w/o NN 1x"]["augmenter.use_nn"] is False
    assert by_col["w/o GN 10x"]["augmenter.use_noise"] is False
    assert "augmenter.use_nn" not in by_col["NNG-Mix 10x"] and by_col["NNG-Mix 10x"]["augmenter"] == "nng_mix"
    assert "augmenter.use_nn=false" in to_override_list(by_col["w/o NN 1x"])


def test_quick_subset():
    study = load_study("table1")
    quick = expand(study, quick=True)
    assert {c["dataset"] for c in quick} == set(study.quick["datasets"])
    assert {c["seed"] for c in quick} == {0}
    assert "fttransformer" not in {c["detector"] for c in quick}
    cols = Counter(study.column_for(c)[0].label for c in quick)
    assert set(cols) == {c.label for c in study.columns}  # all columns
    assert len(quick) == len(study.quick["datasets"]) * 4 * 8
    with_ft = expand(study, quick=True, detectors=["deepsad", "fttransformer"])
    assert {c["detector"] for c in with_ft} == {"deepsad", "fttransformer"}
    fig7 = expand(load_study("fig7"), quick=True)
    assert {c["seed"] for c in fig7} == {0, 1}


def test_expand_filters_reject_unknown_names_with_did_you_mean():
    study = load_study("table7")
    with pytest.raises(StudyError, match="unknown detector 'xgbodd'.*did you mean xgbod"):
        expand(study, detectors=["xgbodd"])
    with pytest.raises(StudyError, match="did you mean 6_cardio"):
        expand(study, datasets=["cardio"])
    with pytest.raises(StudyError, match="'0-x' is not a seed or a range"):
        expand(study, seeds="0-x")
    assert {c["dataset"] for c in expand(study, datasets=["6_cardio"])} == {"6_cardio"}


def test_parse_seeds_takes_ranges_lists_and_python_values():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,2,5-7,2") == [0, 2, 5, 6, 7]
    assert parse_seeds(range(3)) == parse_seeds(["0", 1, "2"]) == [0, 1, 2]
    assert parse_seeds(3) == [3] and parse_seeds(None) is None
    for bad in ("4-2", "-1", "a", [1.5], [True]):
        with pytest.raises(StudyError, match="is not a seed or a range"):
            parse_seeds(bad)


def test_values_beyond_the_spec_widen_it_like_its_own(tmp_path):
    """--seeds/--detectors/--datasets beyond the spec: the new values join every block and the table (a user study
    of the same name, so the committed results are never overwritten); values it uses only select."""
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(_spec()))
    mini = load_study(path)
    assert widen(mini, seeds=[0], detectors="mlp", datasets=["14_glass"]) is mini  # nothing new
    configs = expand(mini, seeds="0-2", detectors="mlp,deepsad", datasets="14_glass,42_WBC")
    assert len(configs) == 2 * 2 * 3 * 2  # augmenters x detectors x seeds x datasets
    assert Counter(c["seed"] for c in configs) == {0: 8, 1: 8, 2: 8}
    assert {(c["dataset"], c["detector"]) for c in configs} == {
        (d, m) for d in ("14_glass", "42_WBC") for m in ("mlp", "deepsad")}
    wide = widen(mini, seeds="0-2", detectors="mlp,deepsad", datasets="14_glass,42_WBC")
    assert wide.datasets == ["14_glass", "42_WBC"] and wide.sweeps[0]["seed"] == [0, 1, 2]
    assert "widened beyond its spec: seeds 1, 2; detectors deepsad; datasets 42_WBC" in wide.title
    assert all(wide.column_for(c) for c in configs)
    # the spec's own configurations are among the widened ones, unchanged
    assert all(c in configs for c in expand(mini))
    assert expand(mini, seeds=[1]) == [c for c in expand(wide) if c["seed"] == 1 and c["dataset"] == "14_glass"
                                       and c["detector"] == "mlp"]
    assert widen(mini, datasets="nlp").datasets == ["14_glass", *FAMILIES["nlp"]]  # a family names its datasets
    paper = widen(load_study("table7"), seeds=[5])
    assert paper.kind == "user" and str(paper.results_dir()) == "results/studies/table7"
    assert str(load_study("table7").results_dir()) == "results"


def test_a_widened_configuration_no_column_matches_is_an_error(tmp_path):
    spec = _spec(columns=[{"label": "Baseline", "match": {"augmenter": "none", "detector": "mlp"}},
                          {"label": "Mixup", "match": {"augmenter": "mixup"}}])
    study = parse_study(spec, tmp_path / "mini.yaml")
    with pytest.raises(StudyError, match=r"widened configuration .*'detector': 'deepsad'.* matches no column"):
        widen(study, detectors=["deepsad"])
    assert len(expand(study, seeds=[0, 1])) == 4  # a new seed lands in the columns


def test_a_user_study_dry_run_plans_seeds_beyond_its_spec(tmp_path, adbench_root, capsys):
    """Issue 33: `reproduce <a user study> --seeds 0,1 --dry-run` exits 0 and plans both seeds."""
    from adbench_repro.reproduce import main

    spec = tmp_path / "mine.yaml"
    spec.write_text(yaml.safe_dump(_spec(name="mine", datasets=["14_glass", "42_WBC"])))  # seed 0 only
    rc = main([str(spec), "--seeds", "0,1", "--dry-run", "--no-committed", f"data.root={adbench_root}",
               f"mlflow.tracking_uri=sqlite:///{tmp_path}/mlflow.db"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "widened beyond its spec: seeds 1" in out
    assert "8 runs: 0 in the committed store" in out  # 2 datasets x 2 augmenters x 2 seeds
    assert main([str(spec), "--seeds", "0", "--dry-run", "--no-committed", f"data.root={adbench_root}",
                 f"mlflow.tracking_uri=sqlite:///{tmp_path}/mlflow.db"]) == 0
    assert "4 runs: 0 in the committed store" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main([str(spec), "--detectors", "mpl", "--dry-run"])
    assert exc.value.code == 2 and "did you mean mlp?" in capsys.readouterr().err


def test_unknown_study_lists_available():
    with pytest.raises(StudyError, match=r"unknown study 'tabel1'.*fig5.*table1"):
        load_study("tabel1")


def _spec(**over):
    spec = {
        "name": "mini", "datasets": ["14_glass"], "rows": "detector",
        "sweeps": [{"label_ratio": ["1pct"], "augmenter": ["none", "mixup"], "multiplier": [10],
                    "detector": ["mlp"], "seed": [0]}],
        "columns": [{"label": "Baseline", "match": {"augmenter": "none"}},
                    {"label": "Mixup", "match": {"augmenter": "mixup"}}],
    }
    spec.update(over)
    return spec


def test_spec_errors_name_file_and_key(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(_spec()))
    assert len(expand(load_study(path))) == 2

    bad = _spec()
    del bad["sweeps"][0]["seed"]
    with pytest.raises(StudyError, match=r"mini.yaml: key 'sweeps\[0\]\.seed': missing"):
        parse_study(bad, path)
    bad = _spec(columns=[{"label": "Baseline", "match": {"augmenter": "none"}}])
    with pytest.raises(StudyError, match=r"key 'columns': no column matches.*mixup"):
        parse_study(bad, path)
    with pytest.raises(StudyError, match=r"key 'datasets'.*did you mean 6_cardio"):
        parse_study(_spec(datasets=["cardoi"]), path)
    bad = _spec()
    bad["sweeps"][0]["multiplier"] = ["10x"]
    with pytest.raises(StudyError, match=r"sweeps\[0\]\.multiplier"):
        parse_study(bad, path)
    with pytest.raises(StudyError, match="rows"):
        parse_study(_spec(rows="colour"), path)
    with pytest.raises(StudyError, match="unknown key"):
        parse_study(_spec(colums=[]), path)


def test_normalise_and_match():
    assert normalise("0.1") == normalise(0.1) == normalise("0.10")
    assert normalise("False") is False and normalise("true") is True
    assert normalise("None") is None and normalise(float("nan")) is None
    assert normalise("10") == normalise(10) == 10.0
    config = {"augmenter": "nng_mix", "augmenter.use_nn": "False", "multiplier": "10"}
    assert matches(config, {"augmenter": "nng_mix", "augmenter.use_nn": False, "multiplier": 10})
    assert matches(config, {"multiplier": [1, 10]})
    assert not matches(config, {"multiplier": [1, 5]})
    assert not matches(config, {"augmenter.use_noise": False})
    assert matches(config, {"augmenter.use_noise": "absent"})
    assert not matches(config, {"augmenter.use_nn": "absent"})


def test_column_mode_all_fills_every_matching_column(tmp_path):
    spec = _spec(columns=[{"label": "Any", "match": {"detector": "mlp"}},
                          {"label": "Baseline", "match": {"augmenter": "none"}},
                          {"label": "Mixup", "match": {"augmenter": "mixup"}}])
    first = parse_study(spec, tmp_path / "mini.yaml")
    every = parse_study({**spec, "column_mode": "all"}, tmp_path / "mini.yaml")
    base = next(c for c in expand(first) if c["augmenter"] == "none")
    assert [c.label for c in first.column_for(base)] == ["Any"]
    assert [c.label for c in every.column_for(base)] == ["Any", "Baseline"]


def test_kind_decides_where_the_table_goes(tmp_path):
    assert str(load_study("table1").results_dir()) == "results"
    assert str(load_study("xgbod_sigma").results_dir(quick=True)) == "results/quick"
    spec = yaml.safe_load((STUDY_DIR / "table8.yaml").read_text())
    del spec["kind"], spec["paper"]
    spec["name"] = "mine"
    user = parse_study(spec, tmp_path / "mine.yaml")
    assert user.kind == "user" and str(user.results_dir()) == "results/studies/mine"
    spec["kind"] = "pape"
    with pytest.raises(StudyError, match="mine.yaml.*kind"):
        parse_study(spec, tmp_path / "mine.yaml")


@pytest.mark.slow
def test_widened_runs_are_run_reused_and_tabled_like_the_specs(tmp_path, adbench_root, monkeypatch):
    """run_study(<user study>, seeds=...) beyond the spec: the new seed's runs are made, a wider call reuses them
    (by config hash) and the table counts every seed."""
    import adbench_repro
    from helpers import runs_in_store

    monkeypatch.setenv("ADBENCH_DATA", str(adbench_root))
    spec = tmp_path / "mine.yaml"
    spec.write_text(yaml.safe_dump(_spec(name="mine", datasets=["45_wine"],
                                         sweeps=[{"label_ratio": ["1pct"], "augmenter": ["none", "mixup"],
                                                  "multiplier": [1], "detector": ["mlp"], "seed": [0]}])))
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    options = dict(out=tmp_path / "out", committed=False, overrides=[f"mlflow.tracking_uri={uri}"], jobs=1)
    first = adbench_repro.run_study(str(spec), seeds=range(2), **options)
    assert sorted(first.table.records["seed"]) == [0, 0, 1, 1]
    ids = {r.info.run_id for r in runs_in_store(uri)}
    assert len(ids) == 4
    second = adbench_repro.run_study(str(spec), seeds="0-2", **options)
    assert len(ids & {r.info.run_id for r in runs_in_store(uri)}) == 4 and len(runs_in_store(uri)) == 6  # reused
    assert sorted(second.table.records["seed"]) == [0, 0, 1, 1, 2, 2]
    assert "widened beyond its spec: seeds 1, 2" in (tmp_path / "out" / "mine.md").read_text()


def test_families_reuses_table1_uniform_for_the_four_detectors_run_before():
    """Issue 32 item 3: the 4 CPU detectors' configurations are table1_uniform's (reused, not rerun); the 6 new
    detectors get the same three columns."""
    study = load_study("families")
    previous = {tuple(sorted(map(str, c.items()))) for c in expand(load_study("table1_uniform"))}
    mine = expand(study)
    old = [c for c in mine if c["detector"] in ("deepsad", "mlp", "catboost", "xgbod")]
    assert len(old) == len(previous) and all(tuple(sorted(map(str, c.items()))) in previous for c in old)
    new = [c for c in mine if c not in old]
    assert {c["detector"] for c in new} == {"devnet", "prenet", "feawad", "rf", "lightgbm", "xgboost"}
    assert {c["augmenter"] for c in new} == {"none", "nng_mix", "uniform"}
    assert {c["label_ratio"] for c in mine} == {"1pct"} and {c["seed"] for c in mine} == {0, 1, 2, 3, 4}
