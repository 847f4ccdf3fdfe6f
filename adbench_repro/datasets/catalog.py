"""The ADBench dataset catalogue: every dataset id, its family folder and its published size.

Ids and folders follow upstream ADBench (``adbench/datasets/<folder>/<id>.npz``). The paper uses
the Classical datasets, the CV datasets as ResNet-18 embeddings and the NLP datasets as BERT
embeddings; each class-specific CV/NLP file (e.g. ``CIFAR10_3``) is one dataset here.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

#: family key -> folder name under the data root
FAMILY_FOLDERS: dict[str, str] = {
    "classical": "Classical",
    "cv": "CV_by_ResNet18",
    "nlp": "NLP_by_BERT",
}

_CLASSICAL = [
    "1_ALOI", "2_annthyroid", "3_backdoor", "4_breastw", "5_campaign", "6_cardio", "7_Cardiotocography",
    "8_celeba", "9_census", "10_cover", "11_donors", "12_fault", "13_fraud", "14_glass", "15_Hepatitis",
    "16_http", "17_InternetAds", "18_Ionosphere", "19_landsat", "20_letter", "21_Lymphography",
    "22_magic.gamma", "23_mammography", "24_mnist", "25_musk", "26_optdigits", "27_PageBlocks",
    "28_pendigits", "29_Pima", "30_satellite", "31_satimage-2", "32_shuttle", "33_skin", "34_smtp",
    "35_SpamBase", "36_speech", "37_Stamps", "38_thyroid", "39_vertebral", "40_vowels", "41_Waveform",
    "42_WBC", "43_WDBC", "44_Wilt", "45_wine", "46_WPBC", "47_yeast",
]
_MNIST_C = [
    "brightness", "canny_edges", "dotted_line", "fog", "glass_blur", "identity", "impulse_noise",
    "motion_blur", "rotate", "scale", "shear", "shot_noise", "spatter", "stripe", "translate", "zigzag",
]
_MVTEC = [
    "bottle", "cable", "capsule", "carpet", "grid", "hazelnut", "leather", "metal_nut", "pill", "screw",
    "tile", "toothbrush", "transistor", "wood", "zipper",
]
_CV = (
    [f"CIFAR10_{i}" for i in range(10)]
    + [f"FashionMNIST_{i}" for i in range(10)]
    + [f"MNIST-C_{c}" for c in _MNIST_C]
    + [f"MVTec-AD_{c}" for c in _MVTEC]
    + [f"SVHN_{i}" for i in range(10)]
)
_NLP = [f"20news_{i}" for i in range(6)] + [f"agnews_{i}" for i in range(4)] + ["amazon", "imdb", "yelp"]

FAMILIES: dict[str, list[str]] = {"classical": _CLASSICAL, "cv": _CV, "nlp": _NLP}

#: Published (rows, features, anomaly %) for the ADBench Classical datasets (ADBench paper,
#: Table 1). Used by the dataset card for files that are not present locally.
PUBLISHED_SIZE: dict[str, tuple[int, int, float]] = {
    "1_ALOI": (49534, 27, 3.04), "2_annthyroid": (7200, 6, 7.42), "3_backdoor": (95329, 196, 2.44),
    "4_breastw": (683, 9, 34.99), "5_campaign": (41188, 62, 11.27), "6_cardio": (1831, 21, 9.61),
    "7_Cardiotocography": (2114, 21, 22.04), "8_celeba": (202599, 39, 2.24), "9_census": (299285, 500, 6.20),
    "10_cover": (286048, 10, 0.96), "11_donors": (619326, 10, 5.93), "12_fault": (1941, 27, 34.67),
    "13_fraud": (284807, 29, 0.17), "14_glass": (214, 7, 4.21), "15_Hepatitis": (80, 19, 16.25),
    "16_http": (567498, 3, 0.39), "17_InternetAds": (1966, 1555, 18.72), "18_Ionosphere": (351, 32, 35.90),
    "19_landsat": (6435, 36, 20.71), "20_letter": (1600, 32, 6.25), "21_Lymphography": (148, 18, 4.05),
    "22_magic.gamma": (19020, 10, 35.16), "23_mammography": (11183, 6, 2.32), "24_mnist": (7603, 100, 9.21),
    "25_musk": (3062, 166, 3.17), "26_optdigits": (5216, 64, 2.88), "27_PageBlocks": (5393, 10, 9.46),
    "28_pendigits": (6870, 16, 2.27), "29_Pima": (768, 8, 34.90), "30_satellite": (6435, 36, 31.64),
    "31_satimage-2": (5803, 36, 1.22), "32_shuttle": (49097, 9, 7.15), "33_skin": (245057, 3, 20.75),
    "34_smtp": (95156, 3, 0.03), "35_SpamBase": (4207, 57, 39.91), "36_speech": (3686, 400, 1.65),
    "37_Stamps": (340, 9, 9.12), "38_thyroid": (3772, 6, 2.47), "39_vertebral": (240, 6, 12.50),
    "40_vowels": (1456, 12, 3.43), "41_Waveform": (3443, 21, 2.90), "42_WBC": (223, 9, 4.48),
    "43_WDBC": (367, 30, 2.72), "44_Wilt": (4819, 5, 5.33), "45_wine": (129, 13, 7.75),
    "46_WPBC": (198, 33, 23.74), "47_yeast": (1484, 8, 34.16),
}


@dataclass(frozen=True)
class DatasetInfo:
    """Where one ADBench dataset lives: its id, family key and folder."""

    name: str
    family: str

    @property
    def folder(self) -> str:
        return FAMILY_FOLDERS[self.family]

    @property
    def relpath(self) -> str:
        """Path relative to the data root, e.g. ``Classical/6_cardio.npz``."""
        return f"{self.folder}/{self.name}.npz"


_BY_NAME: dict[str, DatasetInfo] = {n: DatasetInfo(n, fam) for fam, names in FAMILIES.items() for n in names}


def all_datasets() -> list[DatasetInfo]:
    """Every ADBench dataset this harness knows, Classical first."""
    return list(_BY_NAME.values())


def dataset_names(family: str) -> list[str]:
    """Dataset ids of one family (``classical``, ``cv`` or ``nlp``)."""
    try:
        return list(FAMILIES[family])
    except KeyError:
        raise ValueError(f"unknown dataset family {family!r}; choose one of {sorted(FAMILIES)}") from None


def get_dataset(name: str) -> DatasetInfo:
    """Look a dataset id up; an unknown id raises ``ValueError`` suggesting close names."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    lowered = {n.lower(): n for n in _BY_NAME}
    # allow the short name (``cardio``) for convenience
    short = {n.split("_", 1)[1].lower(): n for n in _CLASSICAL}
    if name.lower() in lowered:
        hint = [lowered[name.lower()]]
    elif name.lower() in short:
        hint = [short[name.lower()]]
    else:
        hint = difflib.get_close_matches(name, list(_BY_NAME), n=3, cutoff=0.5)
        hint += [short[s] for s in difflib.get_close_matches(name.lower(), list(short), n=3, cutoff=0.6)]
    msg = f"unknown dataset {name!r}"
    if hint:
        msg += f"; did you mean {', '.join(dict.fromkeys(hint))}?"
    msg += " (`python -m adbench_repro.datasets` lists them all)"
    raise ValueError(msg)
