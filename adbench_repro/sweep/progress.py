"""Progress across the jobs of a sweep (done / total, failures, elapsed, ETA) and the final summary."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from typing import Callable, TextIO

from ..overrides import override_key
from .outcome import FAILED, FINISHED, SKIPPED, JobOutcome


def _hms(seconds: float) -> str:
    return str(timedelta(seconds=int(round(max(0.0, seconds)))))


class SweepProgress:
    """Counts job outcomes as they arrive and prints one progress line per job.

    ``pre_done`` outcomes (e.g. skipped in the parent before launching) count as done but not in
    the rate used for the ETA.
    """

    def __init__(self, total: int, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
                 show_keys: set[str] | None = None):
        if total < 0:
            raise ValueError(f"total must be >= 0, got {total}")
        self.total = total
        #: override keys shown in progress lines (None: all), e.g. only those that vary in the sweep
        self.show_keys = show_keys
        self.stream = stream
        self.clock = clock
        self.start = clock()
        self.outcomes: list[JobOutcome] = []
        self._pre_done = 0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def done(self) -> int:
        return len(self.outcomes)

    def eta_s(self) -> float | None:
        """Seconds left at the rate of the jobs run so far (None before the first one)."""
        ran = self.done - self._pre_done
        if ran <= 0:
            return None
        return (self.clock() - self.start) / ran * (self.total - self.done)

    def add(self, outcome: JobOutcome, pre_done: bool = False, quiet: bool = False) -> None:
        """Record one outcome and print the progress line (unless ``quiet``)."""
        self.outcomes.append(outcome)
        self._pre_done += pre_done
        if not quiet:
            self.emit(self.line(outcome))

    def line(self, last: JobOutcome | None = None) -> str:
        eta = self.eta_s()
        text = (f"[sweep] {self.done}/{self.total} done | finished {self.count(FINISHED)} skipped "
                f"{self.count(SKIPPED)} failed {self.count(FAILED)} | elapsed {_hms(self.clock() - self.start)} "
                f"ETA {_hms(eta) if eta is not None else '?'}")
        if last is not None:
            text += f" | #{last.index} {last.status}" + (f" ({last.detail})" if last.detail else "")
            text += f": {shorten(last.overrides, self.show_keys)}"
        return text

    def emit(self, text: str) -> None:
        print(text, file=self.stream or sys.stdout, flush=True)

    def summary(self) -> str:
        return format_summary(self.outcomes, self.clock() - self.start, self.total)


def shorten(overrides: str, keys: set[str] | None) -> str:
    """Only the ``key=value`` tokens of ``overrides`` whose key is in ``keys`` (all when None)."""
    if keys is None:
        return overrides
    kept = [t for t in overrides.split() if override_key(t) in keys]
    return " ".join(kept) if kept else overrides


def varying_keys(jobs: list[list[str]]) -> set[str]:
    """Override keys whose value differs between the jobs of a sweep (or that some jobs lack)."""
    values: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for job in jobs:
        for token in job:
            key, value = override_key(token), token.partition("=")[2]
            values.setdefault(key, set()).add(value)
            counts[key] = counts.get(key, 0) + 1
    return {k for k, v in values.items() if len(v) > 1 or counts[k] < len(jobs)}


def format_summary(outcomes: list[JobOutcome], elapsed_s: float, total: int | None = None) -> str:
    """Multi-line end-of-sweep summary: counts, then each failed job with its error line."""
    total = len(outcomes) if total is None else total
    n = {s: sum(o.status == s for o in outcomes) for s in (FINISHED, SKIPPED, FAILED)}
    lines = [f"[sweep] summary: {total} jobs | finished {n[FINISHED]} | skipped {n[SKIPPED]} | "
             f"failed {n[FAILED]} | elapsed {_hms(elapsed_s)}"]
    if len(outcomes) < total:
        lines.append(f"[sweep]   not run: {total - len(outcomes)}")
    if n[SKIPPED]:
        why: dict[str, int] = {}
        for o in outcomes:
            if o.status == SKIPPED:
                key = "repeated in this sweep" if o.detail.startswith("same config") else (o.detail or "skipped")
                why[key] = why.get(key, 0) + 1
        lines.append("[sweep]   skipped: " + ", ".join(f"{v} {k}" for k, v in sorted(why.items())))
    for o in sorted((o for o in outcomes if o.status == FAILED), key=lambda o: o.index):
        where = f" (log in {o.working_dir}/)" if o.working_dir else ""
        lines.append(f"[sweep]   FAILED #{o.index} {o.overrides}: {o.detail}{where}")
    return "\n".join(lines)
