"""Benchmark: what the label-free validation signals (adbench_repro/signals.py) add to a run's time.

Each (dataset, detector) runs the same NNG-Mix 10x configuration with ``validation.signals=false`` and
``true`` (``--repeats`` times each, alternating, one thread), and prints the median run time of each (load +
generate + fit + score [+ signals]), the signals' own median and the ratio with/without. The AUCROC of both
must be equal (the signals are outputs: the script fails otherwise).

    python scripts/bench_signals.py                      # writes results/bench/signals.txt
    python scripts/bench_signals.py --datasets 6_cardio --detectors mlp --repeats 1 --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adbench_repro.experiment import experiment  # noqa: E402

PARTS = ("load_s", "generate_s", "fit_s", "score_s")


def run_once(dataset: str, detector: str, signals: bool, data_root: str) -> dict:
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"dataset={dataset}", f"detector={detector}", "augmenter=nng_mix",
                                           "multiplier=10", "seed=0", "threads=1", "device=cpu",
                                           f"validation.signals={str(signals).lower()}", f"data.root={data_root}"])
    return experiment(cfg).metrics


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="6_cardio,44_Wilt,26_optdigits,22_magic.gamma")
    ap.add_argument("--detectors", default="deepsad,mlp")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    data_root = os.environ.get("ADBENCH_DATA", str(REPO / "data" / "adbench"))
    lines = [f"# bench_signals {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; median of {args.repeats}, one thread",
             f"{'dataset':18s} {'detector':8s} {'without (s)':>11s} {'with (s)':>9s} {'signals (s)':>11s} {'ratio':>6s}"]
    print(lines[0]), print(lines[1])
    for ds in args.datasets.split(","):
        for det in args.detectors.split(","):
            off, on, sig = [], [], []
            for _ in range(args.repeats):
                m_off = run_once(ds, det, False, data_root)
                m_on = run_once(ds, det, True, data_root)
                if m_on["aucroc"] != m_off["aucroc"]:
                    raise SystemExit(f"{ds}/{det}: AUCROC differs with the signals on ({m_on['aucroc']} vs "
                                     f"{m_off['aucroc']}): they must be outputs only")
                off.append(sum(m_off[k] for k in PARTS))
                on.append(sum(m_on[k] for k in PARTS) + m_on["signals_s"])
                sig.append(m_on["signals_s"])
            a, b = statistics.median(off), statistics.median(on)
            line = f"{ds:18s} {det:8s} {a:11.3f} {b:9.3f} {statistics.median(sig):11.3f} {b / a:6.2f}"
            print(line, flush=True)
            lines.append(line)
    if not args.no_write:
        out = REPO / "results" / "bench" / "signals.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
