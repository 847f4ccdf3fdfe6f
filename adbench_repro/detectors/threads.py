"""The thread count a library detector uses when its config says -1."""

from __future__ import annotations


def thread_budget(n_jobs: int) -> int:
    """``n_jobs``, or the run's thread budget for -1 (torch's thread count: all cores for one run,
    cores / workers in a sweep), so parallel sweep workers do not oversubscribe the CPU."""
    if n_jobs == -1:
        import torch

        return max(1, torch.get_num_threads())
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be -1 or >= 1, got {n_jobs}")
    return n_jobs
