"""The aggregator on a small synthetic MLflow store (SQLite in tmp) with hand-chosen AUCROC values."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest
import yaml

pytest.importorskip("mlflow")
from hydra import compose, initialize_config_dir  # noqa: E402
from mlflow.entities import Metric, Param  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from adbench_repro.aggregate import aggregate_study, collect_runs  # noqa: E402
from adbench_repro.aggregate.__main__ import main  # noqa: E402
from adbench_repro.aggregate.expected import CONF_DIR, HYDRA_NEUTRAL, expected_configs  # noqa: E402
from adbench_repro.aggregate.figures import gains, plot_study  # noqa: E402
from adbench_repro.aggregate.runs import export_runs, read_mlflow  # noqa: E402
from adbench_repro.confighash import config_hash  # noqa: E402
from helpers import identity_tags  # noqa: E402
from adbench_repro.studies import load_study, to_override_list  # noqa: E402

DATASETS = ["14_glass", "42_WBC", "45_wine"]
DETECTORS = ["deepsad", "mlp"]
SEEDS = [0, 1]
COLUMNS = {"Baseline": ("none", 0), "Mixup": ("mixup", 10), "NNG-Mix": ("nng_mix", 10)}
PROTOCOL = "protocol.duplicate_small=false"
PAPER = {("deepsad", "Baseline"): 0.700, ("deepsad", "NNG-Mix"): 0.800, ("Average", "Baseline"): 0.750}


def auc(det: str, col: str, ds: str, seed: int) -> float:
    """The AUCROC we log for one synthetic run."""
    return 0.5 + 0.1 * list(COLUMNS).index(col) + 0.02 * DATASETS.index(ds) + 0.01 * seed + 0.05 * (det == "mlp")


def planned(det: str, col: str, ds: str) -> bool:
    """Which cells get runs: no Mixup runs for mlp (a missing cell), no NNG-Mix runs on wine (coverage 2)."""
    return not (col == "Mixup" and det == "mlp") and not (col == "NNG-Mix" and ds == "45_wine")


def config(det, col, ds, seed, multiplier=None):
    aug, mult = COLUMNS[col]
    return {"dataset": ds, "label_ratio": "1pct", "augmenter": aug,
            "multiplier": mult if multiplier is None else multiplier, "detector": det, "seed": seed}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("agg")
    (root / "paper.csv").write_text("detector,column,value\n" + "".join(
        f"{r},{c},{v}\n" for (r, c), v in PAPER.items()))
    spec = {
        "name": "mini", "title": "Mini study", "datasets": DATASETS, "paper": str(root / "paper.csv"),
        "rows": "detector",
        "sweeps": [{"label_ratio": ["1pct"], "augmenter": ["none"], "detector": DETECTORS, "seed": SEEDS},
                   {"label_ratio": ["1pct"], "augmenter": ["mixup", "nng_mix"], "multiplier": [10],
                    "detector": DETECTORS, "seed": SEEDS}],
        "columns": [{"label": c, "match": {"augmenter": a}} for c, (a, _) in COLUMNS.items()],
        "figure": {"layout": "seeds", "x_label": "generator"},
    }
    spec_path = root / "mini.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))

    uri = f"sqlite:///{root}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("nng-mix")
    t0 = 1_700_000_000_000
    ids = {}
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        def identity(c, extra=()):  # full Hydra composition, as the runner does: hash, config, fingerprints
            overrides = [*HYDRA_NEUTRAL, *to_override_list(c), *extra]  # sweeper/launcher plugins: not needed
            return identity_tags(compose(config_name="config", overrides=overrides))

        def log(c, value, status, start, extra=()):
            tags = {k: str(v) for k, v in c.items()}
            tags.update(identity(c, extra), family="Classical")
            run = client.create_run(exp, start_time=start, tags=tags)
            client.log_batch(run.info.run_id, metrics=[Metric("aucroc", value, start, 0)],
                             params=[Param("seed", str(c["seed"])), Param("multiplier", str(c["multiplier"]))])
            if status != "RUNNING":
                client.set_terminated(run.info.run_id, status=status, end_time=start + 500)
            return run.info.run_id

        i = 0
        for det in DETECTORS:
            for col in COLUMNS:
                for ds in DATASETS:
                    for seed in SEEDS:
                        if planned(det, col, ds):
                            i += 1
                            ids[(det, col, ds, seed)] = log(config(det, col, ds, seed), auc(det, col, ds, seed),
                                                            "FINISHED", t0 + 1000 * i)
        # an older FINISHED run of the same configuration: superseded, never counted
        ids["old"] = log(config("deepsad", "Baseline", "14_glass", 0), 0.0, "FINISHED", t0 - 10_000)
        # FAILED / RUNNING runs of configurations the study needs: never counted
        ids["failed"] = log(config("mlp", "Mixup", "14_glass", 0), 0.99, "FAILED", t0 + 900_000)
        ids["running"] = log(config("deepsad", "NNG-Mix", "45_wine", 0), 0.99, "RUNNING", t0 + 900_500)
        # a FINISHED run of another configuration (5x): not part of the study
        ids["foreign"] = log(config("deepsad", "NNG-Mix", "14_glass", 0, multiplier=5), 0.01, "FINISHED",
                             t0 + 901_000)
        # a run made with an extra override on top of the study (another protocol)
        ids["protocol"] = log(config("mlp", "Baseline", "14_glass", 0), 0.33, "FINISHED", t0 + 902_000,
                              extra=[PROTOCOL])
    return {"root": root, "uri": uri, "spec": spec_path, "ids": ids}


def expected_cell(det: str, col: str) -> tuple[float, int]:
    """Mean over seeds per dataset, then over the datasets with runs; and the number of those datasets."""
    per_ds = [sum(auc(det, col, ds, s) for s in SEEDS) / len(SEEDS) for ds in DATASETS if planned(det, col, ds)]
    return (sum(per_ds) / len(per_ds), len(per_ds)) if per_ds else (math.nan, 0)


def test_cells_are_seed_then_dataset_means(store, tmp_path):
    runs = collect_runs(store["uri"], "nng-mix", committed=False)
    result = aggregate_study(store["spec"], runs, out_dir=tmp_path)
    t = result.table
    cells = t.long[t.long["level"] == "cell"].set_index(["row", "column"])
    for det in DETECTORS:
        for col in COLUMNS:
            want, n = expected_cell(det, col)
            got = cells.loc[(det, col)]
            if n == 0:
                assert math.isnan(got["value"]) and got["n_datasets"] == 0
            else:
                assert got["value"] == pytest.approx(want, abs=1e-12)
                assert got["n_datasets"] == n and got["n_seeds"] == len(SEEDS)
    # per-dataset level: mean and std over the two seeds
    per_ds = t.long[(t.long["level"] == "dataset") & (t.long["row"] == "mlp") & (t.long["column"] == "Baseline")
                    & (t.long["dataset"] == "42_WBC")].iloc[0]
    vals = [auc("mlp", "Baseline", "42_WBC", s) for s in SEEDS]
    assert per_ds["value"] == pytest.approx(sum(vals) / 2)
    assert per_ds["std_seeds"] == pytest.approx(abs(vals[0] - vals[1]) / math.sqrt(2))
    # Average row: mean over the detectors that have every column (deepsad: mlp has no Mixup), so that
    # every cell of the row averages the same detectors
    avg = t.long[t.long["level"] == "average"].set_index("column")
    assert t.average_rows == ["deepsad"]
    assert avg.at["Baseline", "value"] == pytest.approx(expected_cell("deepsad", "Baseline")[0])
    assert avg.at["Mixup", "value"] == pytest.approx(expected_cell("deepsad", "Mixup")[0])
    assert avg.at["Mixup", "n_rows"] == 1 and avg.at["Baseline", "n_rows"] == 1
    # paper values and differences
    assert cells.loc[("deepsad", "NNG-Mix"), "paper"] == 0.8
    assert cells.loc[("deepsad", "NNG-Mix"), "diff"] == pytest.approx(expected_cell("deepsad", "NNG-Mix")[0] - 0.8)
    # like for like: the Average row's paper value is the paper's cells over the rows averaged (deepsad only),
    # not the paper's printed Average (0.75)
    assert avg.at["Baseline", "paper"] == 0.7
    assert math.isnan(cells.loc[("mlp", "Baseline"), "paper"])


def test_excluded_runs(store, tmp_path):
    runs = collect_runs(store["uri"], "nng-mix", committed=False)
    t = aggregate_study(store["spec"], runs, out_dir=None).table
    used = set(t.records["run_id"])
    ids = store["ids"]
    assert not used & {ids["old"], ids["failed"], ids["running"], ids["foreign"], ids["protocol"]}
    assert t.runs_used == sum(isinstance(k, tuple) for k in ids)
    assert t.runs_unmatched == 2  # the 5x run and the other-protocol run
    glass0 = t.records[(t.records["row"] == "deepsad") & (t.records["column"] == "Baseline")
                       & (t.records["dataset"] == "14_glass") & (t.records["seed"] == 0)]
    assert glass0["value"].tolist() == [auc("deepsad", "Baseline", "14_glass", 0)]  # latest, counted once
    assert t.missing_datasets == []


def test_markdown_shows_missing_cells_and_paper_values(store, tmp_path):
    result = aggregate_study(store["spec"], collect_runs(store["uri"], committed=False), out_dir=tmp_path)
    md = result.outputs["md"].read_text()
    mlp_line = next(line for line in md.splitlines() if line.startswith("| mlp |"))
    cells = [c.strip() for c in mlp_line.strip("|").split("|")]
    assert cells[2] == "—"  # Mixup for mlp: no runs
    assert "0.000" not in md
    want, _ = expected_cell("deepsad", "NNG-Mix")
    assert f"({0.8:.3f}, {want - 0.8:+.3f})" in md
    assert "NNG-Mix: 2 datasets x 2 seed(s)" in md
    # best bold / second underlined per row: for deepsad NNG-Mix > Mixup > Baseline by construction
    deepsad_line = next(line for line in md.splitlines() if line.startswith("| deepsad |"))
    assert f"**{want:.3f}**" in deepsad_line and f"<u>{expected_cell('deepsad', 'Mixup')[0]:.3f}</u>" in deepsad_line
    long = pd.read_csv(result.outputs["csv"])
    assert set(long["level"]) == {"average", "cell", "dataset"}
    assert result.outputs["tex"].read_text().count(r"\\") >= 4
    assert result.outputs["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_merged_exports_equal_one_store(store, tmp_path):
    single = aggregate_study(store["spec"], collect_runs(store["uri"], committed=False), out_dir=None).table.long
    raw = read_mlflow(store["uri"], "nng-mix")  # all FINISHED runs, the superseded duplicate included
    old = raw["run_id"] == store["ids"]["old"]
    first = raw[~old].iloc[::2]
    second = pd.concat([raw[~old].iloc[1::2], raw[old]])
    f1 = export_runs(first, tmp_path / "a.csv.gz")
    f2 = export_runs(second, tmp_path / "b.csv.gz")
    for files in ([f1, f2], [f2, f1]):
        merged = aggregate_study(store["spec"], collect_runs(run_files=files, use_store=False, committed=False), out_dir=None)
        pd.testing.assert_frame_equal(merged.table.long, single)
    # the export of the runs used is itself a valid input
    out = aggregate_study(store["spec"], collect_runs(store["uri"], committed=False), out_dir=tmp_path / "res")
    exported = pd.read_csv(out.outputs["runs"])
    assert len(exported) == out.table.runs_used and set(exported["status"]) == {"FINISHED"}
    again = aggregate_study(store["spec"], collect_runs(run_files=[out.outputs["runs"]], use_store=False, committed=False),
                            out_dir=None)
    pd.testing.assert_frame_equal(again.table.long, single)


def test_cli(store, tmp_path, capsys):
    assert main([str(store["spec"]), "--tracking-uri", store["uri"], "--out", str(tmp_path)]) == 0
    assert (tmp_path / "mini.md").is_file() and (tmp_path / "runs" / "mini.csv.gz").is_file()
    assert (tmp_path / "figures" / "mini.png").is_file()
    assert main(["tabel1", "--tracking-uri", store["uri"]]) == 2
    err = capsys.readouterr().err
    assert "unknown study 'tabel1'" in err and "table1" in err and "fig3a" in err
    missing = f"sqlite:///{tmp_path}/nothing.db"
    assert main(["table1", "--tracking-uri", missing, "--out", str(tmp_path)]) == 2
    assert "no MLflow store" in capsys.readouterr().err
    assert not (tmp_path / "nothing.db").exists()  # reading never creates a store


def test_lines_figure_layouts(store, tmp_path):
    t = aggregate_study(store["spec"], collect_runs(store["uri"], committed=False), out_dir=None).table
    for panel_by in ("none", "row"):
        t.study.figure = {"layout": "lines", "panel_by": panel_by, "x_label": "x"}
        path = plot_study(t, tmp_path / panel_by)
        assert path.read_bytes()[:4] == b"\x89PNG"


def test_gain_figure_pairs_each_column_with_the_baseline_per_dataset(store, tmp_path):
    t = aggregate_study(store["spec"], collect_runs(store["uri"], committed=False), out_dir=None).table
    g = gains(t, "Baseline").set_index(["row", "column"])
    # auc() puts every column 0.1 x its index above Baseline on each dataset; Mixup has no mlp runs and
    # NNG-Mix none on wine, so the pairs are over 3 and 2 datasets
    assert g.loc[("deepsad", "Mixup"), "gain"] == pytest.approx(0.1)
    assert g.loc[("deepsad", "Mixup"), "n"] == 3
    assert g.loc[("mlp", "NNG-Mix"), "gain"] == pytest.approx(0.2)
    assert g.loc[("mlp", "NNG-Mix"), "n"] == 2
    assert ("mlp", "Mixup") not in g.index
    assert g.loc[("deepsad", "NNG-Mix"), "low"] == pytest.approx(0.2)  # equal differences: a point interval
    t.study.figure = {"layout": "gain", "baseline": "Baseline", "groups": {"neural": ["deepsad"]}}
    assert plot_study(t, tmp_path).read_bytes()[:4] == b"\x89PNG"
    t.study.figure = {"layout": "gain", "baseline": "Baseline", "groups": {"trees": ["catboost"]}}
    with pytest.raises(ValueError, match="catboost"):
        plot_study(t, tmp_path)


def test_fig5_defaults_share_one_config_hash():
    study = dataclasses.replace(load_study("fig5"), datasets=["14_glass", "45_wine"])  # 2 of 47, for speed
    expected = expected_configs(study)
    shared = [cs for cs in expected.values() if len(cs) > 1]
    # k=10, sigma=0.01 and alpha=0.2 are the default NNG-Mix: one run per dataset x detector x seed fills 3
    # columns; Deep SAD and MLP run seeds 0-4, the other three detectors seed 0
    det_seeds = 2 * 5 + 3
    assert len(shared) == 2 * det_seeds
    assert all({study.column_for(c)[0].label for c in cs} == {"k=10", "σ=0.01", "α=0.2"} for cs in shared)
    assert len(expected) == 2 * det_seeds * (10 - 2)


def test_extra_overrides_select_runs_made_with_them(store):
    t = aggregate_study(store["spec"], collect_runs(store["uri"], committed=False), out_dir=None, extra_overrides=[PROTOCOL]).table
    assert t.records["run_id"].tolist() == [store["ids"]["protocol"]]
    assert t.value("mlp", "Baseline") == 0.33
    assert math.isnan(t.value("deepsad", "Baseline"))
    with pytest.raises(ValueError, match="dataset and seed come from the study"):
        aggregate_study(store["spec"], collect_runs(store["uri"], committed=False), out_dir=None, extra_overrides=["seed=3"])


def test_rebuilding_from_the_export_writes_the_same_bytes(store, tmp_path):
    """Aggregating the exported runs again (e.g. `aggregate <study> --runs results/runs/... --no-store`)
    rewrites every output byte for byte, so git sees no change when nothing changed."""
    first = aggregate_study(store["spec"], collect_runs(store["uri"], committed=False), out_dir=tmp_path / "a")
    export = first.outputs["runs"]
    again = aggregate_study(store["spec"], collect_runs(run_files=[export], use_store=False, committed=False), out_dir=tmp_path / "a")
    before = {p: p.read_bytes() for p in first.outputs.values()}
    assert set(first.outputs) == set(again.outputs)
    assert {p: p.read_bytes() for p in again.outputs.values()} == before


def test_a_row_on_a_subset_of_the_datasets_is_not_compared_with_the_paper(store, tmp_path):
    """A detector row with runs on few of the datasets (FTTransformer where a CPU carries it) is a mean over that
    subset: the table shows the paper's value without a difference (n/c) and names the row and its coverage."""
    runs = collect_runs(store["uri"], committed=False)
    subset = ~((runs["tags.detector"] == "deepsad") & runs["tags.dataset"].isin(["42_WBC", "45_wine"]))
    md = aggregate_study(store["spec"], runs[subset], out_dir=tmp_path).outputs["md"].read_text()
    deepsad_line = next(line for line in md.splitlines() if line.startswith("| deepsad |"))
    assert "(0.700, n/c)" in deepsad_line and "(0.800, n/c)" in deepsad_line
    assert "deepsad on 1 of 3 datasets x 2 seed(s)" in md
    full = aggregate_study(store["spec"], runs, out_dir=tmp_path / "full").outputs["md"].read_text()
    assert "n/c" not in full and "Rows on a subset" not in full
