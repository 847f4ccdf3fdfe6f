"""Hydra command-line override tokens (``key=value``, ``+key=value``, ``~key``), read without Hydra."""

from __future__ import annotations


def override_key(token: str) -> str:
    """The config key an override sets: ``"+augmenter.k=5"`` -> ``"augmenter.k"``, ``"~seed"`` -> ``"seed"``."""
    return token.split("=", 1)[0].lstrip("+~")
