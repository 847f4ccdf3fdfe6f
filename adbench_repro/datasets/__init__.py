"""ADBench datasets: catalogue, validated loading and the ADBench-identical split protocol."""

from .catalog import FAMILIES, FAMILY_FOLDERS, DatasetInfo, all_datasets, dataset_names, get_dataset
from .loader import DataError, dataset_path, load_arrays, resolve_data_root, validate_arrays
from .split import Split, adbench_generate, make_split

__all__ = [
    "FAMILIES", "FAMILY_FOLDERS", "DatasetInfo", "all_datasets", "dataset_names", "get_dataset",
    "DataError", "dataset_path", "load_arrays", "resolve_data_root", "validate_arrays",
    "Split", "adbench_generate", "make_split", "load_split",
]


def load_split(name: str, root=None, seed: int = 0, **protocol) -> Split:
    """Load dataset ``name`` from ``root`` and split it (see :func:`make_split` for options)."""
    X, y = load_arrays(name, root)
    return make_split(X, y, seed, **protocol)
