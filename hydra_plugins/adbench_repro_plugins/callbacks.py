"""Hydra callback: create the tracking store and the experiment in the parent, before any job."""

from __future__ import annotations

from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class PrepareTrackingStore(Callback):
    """On multirun start, create the MLflow store's tables and the experiment once (race-free)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from adbench_repro.sweep.store import prepare_tracking_store

        prepare_tracking_store(config)
