"""What the Hydra plugins of ``hydra_plugins/adbench_repro_plugins`` (the sweeper, the pool launcher) use,
kept free of plugin machinery so that it is unit-tested directly: dataset families, jobs files, worker
sizing, progress and the summary (jobs run in the order given)."""
