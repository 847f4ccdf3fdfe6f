"""Get the ADBench files: link a local mirror, or download from upstream with checksums.

    python -m adbench_repro.datasets.download [--root data/adbench] [--family classical cv nlp] [--link DIR]

Upstream is the public ADBench repository (``adbench/datasets/<Family>/<id>.npz``); set
``ADBENCH_URL`` to use a mirror with the same layout. Files whose SHA-256 is listed in
``SHA256SUMS`` (beside this module) are verified; a mismatch deletes the download and fails.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from .catalog import FAMILIES, get_dataset
from .loader import resolve_data_root

UPSTREAM = "https://github.com/Minqi824/ADBench/raw/main/adbench/datasets"
CHECKSUMS = Path(__file__).with_name("SHA256SUMS")


def known_checksums() -> dict[str, str]:
    """``{"Classical/6_cardio.npz": sha256}`` from the bundled SHA256SUMS."""
    out = {}
    for line in CHECKSUMS.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.strip().lstrip("*").removeprefix("./")] = digest
    return out


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def link_mirror(root: Path, mirror: Path) -> None:
    """Make ``root`` a symbolic link to a local mirror (e.g. ../shared/adbench)."""
    if root.is_symlink() or root.exists():
        print(f"{root} already exists; leaving it as it is")
        return
    root.parent.mkdir(parents=True, exist_ok=True)
    root.symlink_to(mirror.resolve(), target_is_directory=True)
    print(f"linked {root} -> {mirror.resolve()}")


def download(root: Path, families: list[str], base_url: str = UPSTREAM) -> int:
    """Download every missing file of ``families`` into ``root``; returns the number of failures."""
    sums = known_checksums()
    failures = 0
    names = [n for fam in families for n in FAMILIES[fam]]
    for name in tqdm(names, desc="ADBench files", unit="file"):
        rel = get_dataset(name).relpath
        dest = root / rel
        if dest.is_file() and (rel not in sums or sha256(dest) == sums[rel]):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".part")
        url = f"{base_url}/{rel}"
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, open(tmp, "wb") as out:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=name, leave=False) as bar:
                    for chunk in iter(lambda: resp.read(1 << 16), b""):
                        out.write(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError) as exc:
            tmp.unlink(missing_ok=True)
            failures += 1
            tqdm.write(f"FAILED {rel}: {exc} (offline? copy the files into {root} by hand, same layout)")
            continue
        digest = sha256(tmp)
        if rel in sums and digest != sums[rel]:
            tmp.unlink()
            failures += 1
            tqdm.write(f"FAILED {rel}: checksum mismatch (got {digest[:12]}..., expected {sums[rel][:12]}...)")
            continue
        if rel not in sums:
            tqdm.write(f"note: no known checksum for {rel}; sha256 {digest}")
        os.replace(tmp, dest)
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Link or download the ADBench datasets")
    ap.add_argument("--root", default=None, help="data root (default: $ADBENCH_DATA, else the checkout's data/adbench)")
    ap.add_argument("--family", nargs="+", choices=sorted(FAMILIES), default=["classical", "cv", "nlp"])
    ap.add_argument("--link", default=None, help="link ROOT to this local mirror instead of downloading, if it exists")
    args = ap.parse_args(argv)
    root = resolve_data_root(args.root)
    if args.link and Path(args.link).is_dir():
        link_mirror(root, Path(args.link))
        return 0
    failures = download(root, args.family, os.environ.get("ADBENCH_URL", UPSTREAM))
    if failures:
        print(f"{failures} file(s) could not be fetched; the others are in {root}", file=sys.stderr)
        return 1
    print(f"all files present in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
