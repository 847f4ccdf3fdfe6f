"""What became of one job of a sweep: finished, skipped or failed (with its error line)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from hydra.core.utils import JobReturn, JobStatus, filter_overrides

FINISHED, SKIPPED, FAILED = "finished", "skipped", "failed"


class JobFailed(RuntimeError):
    """A job's exception carried back from a worker process as text (always picklable)."""

    def __init__(self, error_line: str, details: str = "") -> None:
        super().__init__(error_line)
        self.error_line = error_line
        self.details = details

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
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return JobFailed(error_line(exc), details)


@dataclass(frozen=True)
class JobOutcome:
    """One job's result as the sweep reports it."""

    index: int
    overrides: str
    status: str  # finished | skipped | failed
    detail: str = ""  # aucroc for finished runs, the error line for failed ones
    working_dir: str = ""


def job_output_dir(ret: JobReturn) -> str:
    """The job's output folder (``<sweep dir>/<n>``, where its log is), else Hydra's working dir."""
    try:
        return str(ret.hydra_cfg.hydra.runtime.output_dir)
    except AttributeError:
        return ret.working_dir or ""


def outcome_of(index: int, ret: JobReturn) -> JobOutcome:
    """Classify a :class:`JobReturn` (the task returns ``{"status": ...}`` as the runner does)."""
    overrides = " ".join(filter_overrides(list(ret.overrides or [])))
    if ret.status != JobStatus.COMPLETED:
        exc = ret._return_value
        line = error_line(exc) if isinstance(exc, BaseException) else f"job status {ret.status.name}"
        return JobOutcome(index, overrides, FAILED, line, job_output_dir(ret))
    value = ret._return_value
    status = value.get("status", FINISHED) if isinstance(value, dict) else FINISHED
    detail = f"aucroc={value['aucroc']:.4f}" if isinstance(value, dict) and "aucroc" in value else ""
    if isinstance(value, dict) and value.get("reason"):
        detail = str(value["reason"])
    if status not in (FINISHED, SKIPPED):
        status = FINISHED
    return JobOutcome(index, overrides, status, detail, job_output_dir(ret))
