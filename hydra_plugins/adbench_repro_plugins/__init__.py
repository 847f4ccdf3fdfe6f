"""Hydra plugins of adbench-repro: the ``adbench`` sweeper (which checks the tracking store before a
multirun), the ``adbench_pool`` process-pool launcher and the ``adbench_slurm`` launcher.

Hydra imports every module of the ``hydra_plugins`` namespace at start-up; the modules here
register their configs in Hydra's ConfigStore (``hydra/sweeper=adbench``,
``hydra/launcher=adbench_pool``, and the dataset families ``dataset=classical|cv|nlp``); this one registers the
resolvers ``${adbench.home:}``, ``${adbench.store:}`` and ``${adbench.data:}`` that ``conf/`` uses for the
project's store and folders (:mod:`adbench_repro.paths`).
"""
from adbench_repro.paths import register_resolvers

register_resolvers()
