"""adbench-repro: reproduce (and go past) NNG-Mix on the ADBench datasets."""

from pathlib import Path

__version__ = "0.1.0"

#: the Hydra config tree (conf/ beside the package in a source checkout; install editable)
CONF_DIR = Path(__file__).resolve().parents[1] / "conf"

from .api import data_root, evaluate, run_study  # noqa: E402 - the Python API (the README's first example)

__all__ = ["CONF_DIR", "__version__", "data_root", "evaluate", "run_study"]
