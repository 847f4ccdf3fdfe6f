"""What became of each job of a sweep (finished, skipped, failed, killed), progress with ETA, and the summary."""

from __future__ import annotations

import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, TextIO

from hydra.core.utils import JobReturn, JobStatus, filter_overrides

from .. import interrupts
from ..plan import override_key

FINISHED, SKIPPED, FAILED, KILLED = "finished", "skipped", "failed", "killed"


class JobFailed(RuntimeError):
    """A job's exception carried back from a worker process as text (always picklable)."""

    def __init__(self, error_line: str, details: str = "") -> None:
        super().__init__(error_line)
        self.error_line, self.details = error_line, details

    def __reduce__(self):
        return (JobFailed, (self.error_line, self.details))


def error_line(exc: BaseException) -> str:
    """``"Type: message"`` on one line (first line of the message)."""
    if isinstance(exc, JobFailed):
        return exc.error_line
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}".rstrip(": ")


def as_job_failed(exc: BaseException) -> JobFailed:
    """``exc`` as a :class:`JobFailed` holding its error line and formatted traceback."""
    if isinstance(exc, JobFailed):
        return exc
    return JobFailed(error_line(exc), "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


@dataclass(frozen=True)
class JobOutcome:
    """One job's result as the sweep reports it."""

    index: int
    overrides: str
    status: str  # finished | skipped | failed | killed (interrupted by a signal: its run ended KILLED)
    detail: str = ""  # aucroc for finished runs, the reason for skipped ones, the error line for failed/killed ones
    working_dir: str = ""


def failed_return(overrides, exc: BaseException, working_dir: str = "") -> JobReturn:
    """A FAILED ``JobReturn`` carrying ``exc``, for a job that brought back no return of its own."""
    ret = JobReturn(overrides=list(overrides), status=JobStatus.FAILED)
    ret.return_value, ret.working_dir = exc, working_dir
    return ret


def job_output_dir(ret: JobReturn) -> str:
    """The job's output folder (``<sweep dir>/<n>``, where its log is), else Hydra's working dir."""
    try:
        return str(ret.hydra_cfg.hydra.runtime.output_dir)
    except AttributeError:
        return ret.working_dir or ""


def outcome_of(index: int, ret: JobReturn) -> JobOutcome:
    """Classify a :class:`JobReturn` (the task returns ``{"status": ..., "aucroc"|"reason": ...}`` as the runner does)."""
    overrides = " ".join(filter_overrides(list(ret.overrides or [])))
    if ret.status != JobStatus.COMPLETED:
        exc = ret._return_value
        line = error_line(exc) if isinstance(exc, BaseException) else f"job status {ret.status.name}"
        return JobOutcome(index, overrides, FAILED, line, job_output_dir(ret))
    value = ret._return_value if isinstance(ret._return_value, dict) else {}
    status = SKIPPED if value.get("status") == SKIPPED else FINISHED
    detail = str(value.get("reason") or (f"aucroc={value['aucroc']:.4f}" if "aucroc" in value else ""))
    return JobOutcome(index, overrides, status, detail, job_output_dir(ret))


def _hms(seconds: float) -> str:
    return str(timedelta(seconds=int(round(max(0.0, seconds)))))


class SweepProgress:
    """Counts job outcomes as they arrive and prints one progress line per job. ``pre_done`` outcomes (skipped
    without running) count as done but not in the rate used for the ETA."""

    def __init__(self, total: int, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
                 show_keys: set[str] | None = None):
        self.total, self.stream, self.clock, self.start = total, stream, clock, clock()
        #: override keys shown in progress lines (None: all), e.g. only those that vary in the sweep
        self.show_keys = show_keys
        self.outcomes: list[JobOutcome] = []
        self._pre_done = 0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    def eta_s(self) -> float | None:
        """Seconds left at the rate of the jobs run so far (None before the first one)."""
        ran = len(self.outcomes) - self._pre_done
        return (self.clock() - self.start) / ran * (self.total - len(self.outcomes)) if ran > 0 else None

    def add(self, outcome: JobOutcome, pre_done: bool = False, quiet: bool = False) -> None:
        """Record one outcome and print the progress line (unless ``quiet``)."""
        self.outcomes.append(outcome)
        self._pre_done += pre_done
        if not quiet:
            self.emit(self.line(outcome))

    def line(self, last: JobOutcome | None = None) -> str:
        eta = self.eta_s()
        text = (f"[sweep] {len(self.outcomes)}/{self.total} done | finished {self.count(FINISHED)} skipped "
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


class ReportsProgress:
    """Mixin of a launcher that reports each job to ``progress`` as it completes (the adbench pool and SLURM
    launchers); the sweeper then does not report per batch. It lives here, not in ``hydra_plugins``: Hydra's
    plugin scan re-executes plugin modules, so a class defined there is not the same object twice."""

    progress: "SweepProgress | None" = None

    def _report(self, idx: int, ret: JobReturn) -> None:
        if self.progress is not None:
            outcome = outcome_of(idx, ret)
            skipped = outcome.status == SKIPPED  # counted in the summary; a line each would drown a resume
            self.progress.add(outcome, pre_done=skipped, quiet=skipped)

    def _killed(self, idx: int, overrides: list[str], why: str | BaseException) -> None:
        if self.progress is not None:
            why = why if isinstance(why, str) else interrupts.error_tag(why)
            self.progress.add(JobOutcome(idx, " ".join(filter_overrides(list(overrides))), KILLED, why))


def shorten(overrides: str, keys: set[str] | None) -> str:
    """Only the ``key=value`` tokens of ``overrides`` whose key is in ``keys`` (all when None)."""
    kept = [t for t in overrides.split() if keys is None or override_key(t) in keys]
    return " ".join(kept) or overrides


def varying_keys(jobs: list[list[str]]) -> set[str]:
    """Override keys whose value differs between the jobs of a sweep (or that some jobs lack)."""
    values: dict[str, set[str]] = {}
    counts: Counter = Counter()
    for job in jobs:
        for token in job:
            values.setdefault(override_key(token), set()).add(token.partition("=")[2])
            counts[override_key(token)] += 1
    return {k for k, v in values.items() if len(v) > 1 or counts[k] < len(jobs)}


def format_summary(outcomes: list[JobOutcome], elapsed_s: float, total: int | None = None) -> str:
    """Multi-line end-of-sweep summary: counts (``left``: not run), why jobs were skipped, then each failed or
    killed job with its error line."""
    total = len(outcomes) if total is None else total
    n = Counter(o.status for o in outcomes)
    lines = [f"[sweep] summary: {total} jobs | finished {n[FINISHED]} | skipped {n[SKIPPED]} | failed {n[FAILED]} | "
             f"killed {n[KILLED]} | left {total - len(outcomes)} | elapsed {_hms(elapsed_s)}"]
    why = Counter(o.detail or "skipped" for o in outcomes if o.status == SKIPPED)
    if why:
        lines.append("[sweep]   skipped: " + ", ".join(f"{v} {k}" for k, v in sorted(why.items())))
    for o in sorted((o for o in outcomes if o.status in (FAILED, KILLED)), key=lambda o: o.index):
        where = f" (log in {o.working_dir}/)" if o.working_dir else ""
        lines.append(f"[sweep]   {o.status.upper()} #{o.index} {o.overrides}: {o.detail}{where}")
    return "\n".join(lines)
