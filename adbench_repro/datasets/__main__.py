"""Dataset card: ``python -m adbench_repro.datasets [--root DIR] [--family classical|cv|nlp] [--audit]``.

``--audit`` prints the leakage audit instead (:mod:`.audit`): per dataset, the share of test rows that
have an exact duplicate among the training rows with and without ADBench's resampling of small datasets,
and the pairs of datasets that share rows.

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
    ap.add_argument("--root", default=None, help="data root (default: $ADBENCH_DATA, else the checkout's data/adbench)")
    ap.add_argument("--family", choices=sorted(FAMILIES), default=None)
    ap.add_argument("--audit", action="store_true", help="leakage audit (Markdown) instead of the card")
    ap.add_argument("--seed", type=int, default=0, help="split seed of the audit (default: 0)")
    args = ap.parse_args(argv)
    if args.audit:
        from .audit import audit, audit_markdown

        print(audit_markdown(*audit(args.root, args.family or "classical", args.seed), seed=args.seed), end="")
        return
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
    print(f"{present}/{len(rows)} present locally; missing ones: `make data` (or see docs/data.md).")


if __name__ == "__main__":
    main()
