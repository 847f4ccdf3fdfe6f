"""Sweep support for ``python -m adbench_repro.run -m ...``: dataset-family expansion, worker sizing,
progress and the end-of-sweep summary, and tracking-store preparation.

The Hydra side (sweeper, process-pool launcher, callback) lives in
``hydra_plugins/adbench_repro_plugins``; this package holds the logic they share, free of Hydra
plugin machinery so that it can be unit-tested directly. Import its modules directly (nothing is
re-exported here: ``sweep.workers`` must stay importable without Hydra or MLflow, see ``start_forkserver``).
"""
