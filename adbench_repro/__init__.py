"""adbench-repro: reproduce (and go past) NNG-Mix on the ADBench datasets."""

from pathlib import Path

__version__ = "0.1.0"

#: the Hydra config tree (conf/ beside the package in a source checkout; install editable)
CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
