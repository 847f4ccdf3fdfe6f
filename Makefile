# adbench-repro: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)
VENV ?= .venv
SHARED_ADBENCH ?= ../shared/adbench
DATA_ROOT ?= $(or $(ADBENCH_DATA),data/adbench)
# study options: QUICK=1 (small documented subset), DETECTORS=deepsad,mlp  DATASETS=6_cardio,...  SEEDS=0,1  JOBS=2
#                DRY_RUN=1 (counts and time estimate only)  OUT=dir (where the table goes)  YES=1 (start a long study without asking)
QUICK ?=
DETECTORS ?=
DATASETS ?=
JOBS ?=
SEEDS ?=
YES ?=
STUDY_ARGS = $(if $(QUICK),--quick) $(if $(DETECTORS),--detectors $(DETECTORS)) $(if $(DATASETS),--datasets $(DATASETS)) \
             $(if $(SEEDS),--seeds $(SEEDS)) $(if $(JOBS),--jobs $(JOBS)) $(if $(DRY_RUN),--dry-run) $(if $(OUT),--out $(OUT)) \
             $(if $(YES),--yes)

.DEFAULT_GOAL := help
.PHONY: help setup data test test-slow test-cluster test-all mlflow-ui run bench bench-augmenters bench-detectors bench-sweep \
        reproduce-all results store-check clean

help: ## list the targets (coloured on a terminal only)
	@if [ -t 1 ]; then c='\033[36m'; e='\033[0m'; else c=''; e=''; fi; \
	grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' -v c="$$c" -v e="$$e" '{printf "  %s%-20s%s %s\n", c, $$1, e, $$2}'; \
	printf "  $$c%-20s$$e %s\n" "reproduce-<study>" "run a study (resuming), then rebuild its table; QUICK=1 DETECTORS=a,b DATASETS=a,b SEEDS=0,1 JOBS=n DRY_RUN=1"
	@echo "                       studies: $(STUDIES)"

setup: ## create .venv and install the package with dev extras (CPU torch 2.13.0)
	test -d $(VENV) || python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q "torch==2.13.0"
	$(VENV)/bin/python -m pip install -q -e ".[dev]"

data: ## link ../shared/adbench into data/adbench when present, else download ADBench (checksummed)
	$(PYTHON) -m adbench_repro.datasets.download --root $(DATA_ROOT) --link $(SHARED_ADBENCH)

run: ## one experiment on the embedded defaults (6_cardio, 1%, MLP) logged to the project's mlflow.db
	$(PYTHON) -m adbench_repro.run

test: ## the default test suite (no slow, no GPU tests)
	$(PYTHON) -m pytest -q

test-slow: ## slow tests only (full-default detectors, real studies)
	$(PYTHON) -m pytest -q -m slow

test-cluster: ## end to end on a local SLURM + PostgreSQL-backed MLflow server (root; scripts/local_cluster.sh)
	$(PYTHON) -m pytest -q -m cluster tests/test_cluster.py

test-all: ## every test (GPU ones skip without CUDA)
	$(PYTHON) -m pytest -q -m "slow or not slow"

mlflow-ui: ## browse the runs of the project's mlflow.db (or MLFLOW_TRACKING_URI): prints the AUCROC view's URL, serves http://127.0.0.1:$${PORT:-5000}
	@$(PYTHON) -c 'import os, types; from adbench_repro import paths, tracking; c, e = tracking.open_experiment(types.SimpleNamespace(tracking_uri=paths.tracking_uri(), experiment_name="nng-mix")); print("store", paths.tracking_uri()); print("open", tracking.ui_url(e, "http://127.0.0.1:" + os.environ.get("PORT", "5000")))'
	$(PYTHON) -m mlflow ui --backend-store-uri "$$($(PYTHON) -m adbench_repro.paths)" --host 127.0.0.1 --port $${PORT:-5000}

bench: bench-augmenters bench-detectors bench-sweep ## every benchmark (writes results/bench/)

bench-augmenters: ## vectorised NNG-Mix/Mixup vs a per-sample reference
	$(PYTHON) scripts/bench_augmenters.py

bench-detectors: ## tensor-sliced DeepSAD vs a Dataset/DataLoader reference; fit time of each detector
	set -o pipefail; $(PYTHON) scripts/bench_detectors.py | tee results/bench/detectors.txt

bench-sweep: ## a realistic 48-run sweep through the pool (longest first, as given), joblib and 1 worker
	$(PYTHON) scripts/bench_sweep.py

# every spec in conf/study (a new one needs no edit here); reproduce-all runs this project's (kind: paper|beyond)
STUDIES := $(sort $(notdir $(basename $(wildcard conf/study/*.yaml))))
PROJECT_STUDIES := table1 $(filter-out table1,$(sort $(notdir $(basename $(shell grep -lE '^kind: (paper|beyond)' conf/study/*.yaml)))))

# reproduce-<study> for any spec conf/study/<study>.yaml (listed by `make help`)
reproduce-%:
	@test -f conf/study/$*.yaml || { echo "no study spec conf/study/$*.yaml; studies: $(STUDIES)" >&2; exit 2; }
	$(PYTHON) -m adbench_repro.reproduce $* $(STUDY_ARGS)

reproduce-all: ## every study of the paper and beyond it, Table I first
	for s in $(PROJECT_STUDIES); do \
	  $(PYTHON) -m adbench_repro.reproduce $$s $(STUDY_ARGS) || exit 1; done

results: ## rebuild every paper/beyond table, the claims and compute pages from the committed store (no runs)
	$(PYTHON) -m adbench_repro.aggregate --all

store-check: ## the committed store: one result per config hash, provenance, stale runs per component
	$(PYTHON) -m adbench_repro.store check

clean: ## remove Hydra output folders of the project home (keeps mlflow.db and results/)
	home="$$($(PYTHON) -m adbench_repro.paths --home)" && rm -rf "$$home/outputs" "$$home/multirun"
