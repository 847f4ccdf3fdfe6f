"""adbench-repro: reproduce (and go past) NNG-Mix on the ADBench datasets."""

__version__ = "0.1.0"
