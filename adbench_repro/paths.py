"""Where the project writes, whatever the current folder: one answer for the CLI, the Python API and ``make``.

* The **project home** is ``$ADBENCH_HOME`` when set, else the checkout (the folder holding ``conf/`` beside the
  package) when it is writable, else ``~/.adbench_repro`` (a read-only or package-only install).
* The **tracking store** is the URI given (``mlflow.tracking_uri=...``, a ``tracking_uri`` argument), else
  ``$MLFLOW_TRACKING_URI``, else the project's store: ``sqlite:///<home>/mlflow.db`` as an absolute path (its
  artifacts in ``<home>/mlruns/``), the store that ``make mlflow-ui`` serves.
* **Tables** go under ``<home>/results/``; Hydra's ``outputs/`` and ``multirun/`` folders under ``<home>``.

``conf/`` reads these through the resolvers ``${adbench.home:}``, ``${adbench.store:}`` and ``${adbench.data:}``
(:func:`register_resolvers`; the package's Hydra plugin registers them in every process that composes a config).
``python -m adbench_repro.paths`` prints the tracking URI (``--home``: the home).
"""

from __future__ import annotations

import os
from pathlib import Path

from . import CONF_DIR

#: the environment variable that moves the project home (the store, Hydra's folders, the tables)
HOME_ENV = "ADBENCH_HOME"
#: the home of an install without a writable checkout
USER_HOME = Path("~/.adbench_repro")


def checkout_root() -> Path | None:
    """The source checkout the package runs from (the folder of ``conf/``), or None without one."""
    root = CONF_DIR.parent
    return root if CONF_DIR.is_dir() else None


def project_home() -> Path:
    """``$ADBENCH_HOME``, else the writable checkout, else ``~/.adbench_repro`` (absolute)."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser().resolve()
    root = checkout_root()
    if root is not None and os.access(root, os.W_OK):
        return root
    return USER_HOME.expanduser().resolve()


def project_store_uri() -> str:
    """The project's own tracking store: ``sqlite:///<home>/mlflow.db`` (absolute)."""
    return f"sqlite:///{project_home() / 'mlflow.db'}"


def tracking_uri(uri: str | None = None) -> str:
    """``uri``, else ``$MLFLOW_TRACKING_URI``, else :func:`project_store_uri`."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or project_store_uri()


def is_project_store(uri: str) -> bool:
    """Whether ``uri`` names the project's store (the one ``make mlflow-ui`` serves without options)."""
    from .tracking import sqlite_path

    db = sqlite_path(uri)
    return db is not None and db.resolve() == (project_home() / "mlflow.db").resolve()


def results_root() -> Path:
    """The folder that ``results/`` paths (a study's default output folder) are relative to: the home."""
    return project_home()


def project_data() -> Path:
    """The default data root: the checkout's ``data/adbench`` (``make data`` fills it), else the home's."""
    return (checkout_root() or project_home()) / "data" / "adbench"


def register_resolvers() -> None:
    """Register ``${adbench.home:}``, ``${adbench.store:}`` and ``${adbench.data:}`` with OmegaConf (idempotent)."""
    from omegaconf import OmegaConf

    for name, fn in (("adbench.home", lambda: str(project_home())), ("adbench.store", project_store_uri),
                     ("adbench.data", lambda: str(project_data()))):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m adbench_repro.paths", description=main.__doc__)
    ap.add_argument("--home", action="store_true", help="print the project home instead")
    args = ap.parse_args(argv)
    print(project_home() if args.home else tracking_uri())
    return 0


main.__doc__ = "Print the tracking URI that the CLI, the API and `make mlflow-ui` use (--home: the project home)."

if __name__ == "__main__":
    raise SystemExit(main())
