"""Prepare the tracking store once, in the sweep's parent process, before any job starts.

Workers racing to create a fresh SQLite store's tables leave it unusable ("table
_alembic_tmp_experiments already exists"); creating the tables and the experiment first avoids it.
"""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from .. import tracking

log = logging.getLogger(__name__)


def prepare_tracking_store(cfg: DictConfig, quiet: bool = False) -> tuple[object, str] | None:
    """Create the store's tables and the experiment named by ``cfg.mlflow``; ``(client, experiment_id)``.

    Returns None for a config without an ``mlflow`` section (nothing to prepare).
    """
    mlflow_cfg = cfg.get("mlflow")
    if mlflow_cfg is None or mlflow_cfg.get("tracking_uri") is None:
        return None
    client, exp_id = tracking.open_experiment(mlflow_cfg)
    if not quiet:
        log.info("tracking store ready: %s (experiment %s = %s)", mlflow_cfg.tracking_uri, mlflow_cfg.experiment_name,
                 exp_id)
    return client, exp_id
