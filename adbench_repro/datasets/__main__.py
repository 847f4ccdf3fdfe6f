"""Dataset card: ``python -m adbench_repro.datasets [--root DIR] [--family classical|cv|nlp]``.

Lists every ADBench dataset with family, rows, features, anomaly %, whether it is present locally,
and what the ADBench protocol does to it (duplicated to 1000 rows / subsampled to 10000 rows).
"""

from __future__ import annotations

import argparse

import numpy as np

from .catalog import FAMILIES, PUBLISHED_SIZE, all_datasets
from .loader import resolve_data_root
from .split import N_LOWER, N_UPPER


def card_rows(root=None, family: str | None = None) -> list[dict]:
    """One dict per dataset: name, family, rows, features, anomaly_pct, present, protocol, source."""
    data_root = resolve_data_root(root)
    rows = []
    for info in all_datasets():
        if family and info.family != family:
            continue
        path = data_root / info.relpath
        present = path.is_file()
        n = d = pct = None
        source = "-"
        if present:
            with np.load(path, allow_pickle=False) as npz:
                n, d = npz["X"].shape
                pct = 100.0 * float(np.mean(npz["y"]))
            source = "file"
        elif info.name in PUBLISHED_SIZE:
            n, d, pct = PUBLISHED_SIZE[info.name]
            source = "published"
        effect = "-" if n is None else ("duplicated to 1000" if n < N_LOWER else
                                        "subsampled to 10000" if n > N_UPPER else "as is")
        rows.append(dict(name=info.name, family=info.folder, rows=n, features=d, anomaly_pct=pct,
                         present=present, protocol=effect, source=source))
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None, help="data root (default: $ADBENCH_DATA or ./data/adbench)")
    ap.add_argument("--family", choices=sorted(FAMILIES), default=None)
    args = ap.parse_args(argv)
    rows = card_rows(args.root, args.family)
    print(f"data root: {resolve_data_root(args.root).resolve()}")
    print(f"{'dataset':<24} {'family':<15} {'rows':>7} {'feat':>5} {'anom%':>6} {'local':>5}  protocol")
    for r in rows:
        n = "?" if r["rows"] is None else str(r["rows"])
        d = "?" if r["features"] is None else str(r["features"])
        p = "?" if r["anomaly_pct"] is None else f"{r['anomaly_pct']:.2f}"
        note = "" if r["source"] != "published" else "  (published size)"
        print(f"{r['name']:<24} {r['family']:<15} {n:>7} {d:>5} {p:>6} {'yes' if r['present'] else 'no':>5}  {r['protocol']}{note}")
    present = sum(r["present"] for r in rows)
    print(f"{present}/{len(rows)} present locally; missing ones: `make data` (or see README, 'Data').")


if __name__ == "__main__":
    main()
