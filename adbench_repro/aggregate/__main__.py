"""CLI: ``python -m adbench_repro.aggregate <study> [--tracking-uri URI] [--experiment NAME]
[--runs FILE.csv.gz ...] [--no-store] [--out results] [--quick] [--conf-dir conf] [override ...]``."""

from __future__ import annotations

import argparse
import sys

from ..studies import StudyError, available_studies, dump_study, load_study
from ..paths import results_root
from . import REPO_ROOT, aggregate_study, collect_runs
from .expected import CONF_DIR, ComposeError
from .publish import publish_study
from .runs import DEFAULT_EXPERIMENT, RunsError, read_mlflow


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m adbench_repro.aggregate",
        description="Aggregate the current runs (committed store results/store/, MLflow store, --runs files) into a "
                    "study's table/figure: results/<study>.md, .csv, .tex, results/figures/<study>.png (figure "
                    "studies); a user's study also gets the runs it used.")
    ap.add_argument("study", nargs="?", help="study name (conf/study/<study>.yaml); omit with --list or --all")
    ap.add_argument("--list", action="store_true", help="list the studies and their run counts, then exit")
    ap.add_argument("--all", action="store_true",
                    help="rebuild every kind: paper|beyond study from the committed store alone, then the claims once")
    ap.add_argument("--tracking-uri", default=None,
                    help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else the project's mlflow.db)")
    ap.add_argument("--experiment", default=DEFAULT_EXPERIMENT, help="MLflow experiment (default: %(default)s)")
    ap.add_argument("--runs", nargs="+", default=[], metavar="FILE.csv.gz",
                    help="exported runs (from other machines) merged with the stores; the committed store's run of "
                         "a config hash wins, then the latest")
    ap.add_argument("--no-store", action="store_true",
                    help="do not read the MLflow store: the committed store and the --runs files only")
    ap.add_argument("--out", default=None,
                    help="output folder (default: results/ for the paper's and this project's studies, "
                         "results/studies/<name>/ for your own; quick/ below it with --quick)")
    ap.add_argument("--quick", action="store_true",
                    help="the study's QUICK subset only (its datasets, seeds and detectors; title says QUICK)")
    ap.add_argument("--no-publish", action="store_true",
                    help="do not log the study to the MLflow store as a run of <experiment>-studies (also: "
                         "ADBENCH_NO_PUBLISH=1; never with --no-store)")
    ap.add_argument("--conf-dir", default=str(CONF_DIR), help="Hydra config folder (default: the repo's conf/)")
    ap.add_argument("overrides", nargs="*",
                    help="Hydra overrides the runs were made with on top of the study (as given to reproduce), "
                         "e.g. protocol.duplicate_small=false; they select which runs match")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.all:
            return rebuild_all(args.conf_dir)
        if args.list or not args.study:
            if not args.list:
                print("error: give a study name; available studies:", ", ".join(available_studies()),
                      file=sys.stderr)
                return 2
            for name in available_studies():
                print(dump_study(load_study(name)))
            return 0
        study = load_study(args.study)
        out = args.out or results_root() / study.results_dir(args.quick)
        if args.quick:
            study = study.quick_view()
        if args.tracking_uri and not args.no_store:  # a store named explicitly must exist (a typo is no table)
            read_mlflow(args.tracking_uri, args.experiment)
        runs = collect_runs(args.tracking_uri, args.experiment, args.runs, use_store=not args.no_store)
        result = aggregate_study(study, runs, out_dir=out, conf_dir=args.conf_dir,
                                 extra_overrides=args.overrides)
    except (StudyError, RunsError, ComposeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t = result.table
    print(f"{study.name}: {t.runs_used} runs used ({t.runs_unmatched} FINISHED runs of other configurations "
          f"ignored); {len(study.datasets) - len(t.missing_datasets)}/{len(study.datasets)} datasets have runs")
    for kind, path in result.outputs.items():
        print(f"  {kind}: {path}")
    if not (args.no_store or args.no_publish):
        publish_study(result, out, study, args.tracking_uri, args.experiment)
    return 0


def rebuild_all(conf_dir: str = str(CONF_DIR)) -> int:
    """Every ``kind: paper|beyond`` study's table from the committed store, then the claims and compute pages
    once (what ``make results`` runs)."""
    from .claims import write_claims
    from .runs import compute_markdown

    runs = collect_runs(use_store=False)
    out = REPO_ROOT / "results"
    for name in available_studies():
        study = load_study(name)
        if study.kind not in ("paper", "beyond"):
            continue
        result = aggregate_study(study, runs, out_dir=out, conf_dir=conf_dir, pages=False)
        print(f"{name}: {result.table.runs_used} runs used", flush=True)
    (out / "compute.md").write_text(compute_markdown())
    print(f"claims: {write_claims(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
