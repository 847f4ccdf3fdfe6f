"""Warm-up for a sweep's forkserver: importing this module does, once, the work that every worker
would otherwise repeat on its first jobs (about 3 s of CPU each on a 2-core EPYC):

* import ``torch._dynamo`` (torch imports it lazily at the first optimizer step, ~0.7 s) and MLflow's
  SQLAlchemy tracking store (~0.7 s);
* compile PyOD's numba function for HBOS, which XGBOD fits on every run (``@njit`` without an on-disk
  cache: ~1.9 s of JIT compilation in each new process).

It is listed last in ``FORKSERVER_PRELOAD``, so workers forked from the server start warm; it then
freezes the server's heap for the GC (``workers.freeze_heap``). Torch is
kept at one thread here so that no OpenMP pool exists in the server when it forks. A failing step
only costs the speed-up (each worker then does it lazily), so it is logged, not raised.
"""

from __future__ import annotations

import logging

from .workers import freeze_heap

log = logging.getLogger(__name__)


def _torch() -> None:
    import torch
    import torch._dynamo  # noqa: F401 - the import is the warm-up

    torch.set_num_threads(1)
    layer = torch.nn.Linear(4, 1)
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)
    layer(torch.zeros(2, 4)).sum().backward()
    opt.step()


def _mlflow_store() -> None:
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401


def _pyod_hbos() -> None:
    import numpy as np
    from pyod.models.hbos import HBOS

    x = np.random.default_rng(0).normal(size=(64, 3))
    HBOS().fit(x).decision_function(x)


def warm_up() -> None:
    """Run every warm-up step; failures are logged (the workers then pay the cost themselves)."""
    for step in (_torch, _mlflow_store, _pyod_hbos):
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - a warm-up must never break the worker pool
            log.warning("sweep warm-up step %s failed (workers will do it lazily): %s", step.__name__, exc)


warm_up()
freeze_heap()  # workers forked from here neither traverse nor copy this heap in their GC passes
