"""Hydra command-line override tokens (``key=value``, ``+key=value``, ``~key``), read without Hydra.

Standard library only: the sweep's early forkserver start (``sweep.workers``) parses the command line
with it before anything heavy is imported.
"""

from __future__ import annotations


def override_key(token: str) -> str:
    """The config key an override sets: ``"+augmenter.k=5"`` -> ``"augmenter.k"``, ``"~seed"`` -> ``"seed"``."""
    return token.split("=", 1)[0].lstrip("+~")
