"""Sweep support for ``python -m adbench_repro.run -m ...``: dataset-family expansion, worker sizing,
progress and the end-of-sweep summary, and tracking-store preparation.

The Hydra side (sweeper, process-pool launcher, callback) lives in
``hydra_plugins/adbench_repro_plugins``; this package holds the logic they share, free of Hydra
plugin machinery so that it can be unit-tested directly.
"""

from .datasets import expand_dataset_value, rewrite_dataset_override
from .outcome import JobOutcome, outcome_of
from .progress import SweepProgress, format_summary
from .store import prepare_tracking_store
from .workers import pool_size, worker_env

__all__ = [
    "expand_dataset_value", "rewrite_dataset_override", "JobOutcome", "outcome_of", "SweepProgress",
    "format_summary", "prepare_tracking_store", "pool_size", "worker_env",
]
