"""Load and validate one ADBench ``.npz`` file (``X``, ``y``) without pickle."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from .catalog import DatasetInfo, get_dataset


class DataError(ValueError):
    """A dataset file is missing, unreadable or malformed; the message names the file."""


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$ADBENCH_DATA``, else the project's ``data/adbench`` (the
    checkout's, whatever the current folder: :func:`adbench_repro.paths.project_data`)."""
    if root is None or str(root) == "":
        from ..paths import project_data

        root = os.environ.get("ADBENCH_DATA") or project_data()
    return Path(root).expanduser()


def dataset_path(name: str, root: str | os.PathLike | None = None) -> Path:
    """``<root>/<Family>/<name>.npz`` for a known dataset id."""
    return resolve_data_root(root) / get_dataset(name).relpath


def _how_to_get(info: DatasetInfo) -> str:
    return (
        f"get it with `make data` (links ../shared/adbench when present, else downloads ADBench), "
        f"or set data.root / ADBENCH_DATA to a folder holding {info.relpath}"
    )


def load_arrays(name: str, root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read ``X`` and ``y`` for dataset ``name`` and check them.

    Raises :class:`DataError` (naming the file) for a missing root or file, an unreadable or
    pickled ``.npz``, missing keys, ``X``/``y`` length mismatch, non-finite ``X``, labels outside
    {0, 1}, or a dataset without anomalies (or without normal rows).
    """
    info = get_dataset(name)
    data_root = resolve_data_root(root)
    if not data_root.is_dir():
        raise DataError(f"data root {str(data_root)!r} does not exist (looked for {info.relpath}); {_how_to_get(info)}")
    path = data_root / info.relpath
    if not path.is_file():
        raise DataError(f"dataset file {str(path)!r} not found; {_how_to_get(info)}")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        raise DataError(f"{path}: corrupt or not an .npz (zip) archive; delete it and run `make data` again")
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
            missing = {"X", "y"} - keys
            if missing:
                raise DataError(f"{path}: missing array(s) {sorted(missing)} (found {sorted(keys)})")
            X = npz["X"]
            y = npz["y"]
    except DataError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{path}: holds object arrays that need pickle; refusing to load (allow_pickle=False)") from exc
        raise DataError(f"{path}: not a readable .npz file ({exc})") from exc
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: corrupt or unreadable .npz file ({exc}); delete it and run `make data` "
                        "(or `python -m adbench_repro.datasets.download`) to fetch it again") from exc
    return validate_arrays(X, y, source=str(path))


def validate_arrays(X: np.ndarray, y: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Check shapes and values of a dataset; returns ``(X, y)`` with ``y`` as int64."""
    if X.dtype == object or y.dtype == object:
        raise DataError(f"{source}: X and y must be numeric arrays, got dtypes {X.dtype} and {y.dtype}")
    if X.ndim != 2:
        raise DataError(f"{source}: X must be 2-D (rows x features), got shape {X.shape}")
    y = np.asarray(y).reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise DataError(f"{source}: y must be 1-D, got shape {y.shape}")
    if len(X) != len(y):
        raise DataError(f"{source}: X has {len(X)} rows but y has {len(y)} labels")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise DataError(f"{source}: X must be real-valued, got dtype {X.dtype}")
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        bad = int((~np.isfinite(X)).any(axis=1).sum())
        raise DataError(f"{source}: X contains NaN or inf in {bad} row(s)")
    labels = np.unique(y)
    if not np.isin(labels, [0, 1]).all():
        raise DataError(f"{source}: y must contain only 0 (normal) and 1 (anomaly), found {labels[:10].tolist()}")
    n_anom = int((y == 1).sum())
    if n_anom == 0:
        raise DataError(f"{source}: no anomalies (y has no 1); semi-supervised AD needs some")
    if n_anom == len(y):
        raise DataError(f"{source}: every row is an anomaly (y has no 0)")
    return X, y.astype(np.int64)
