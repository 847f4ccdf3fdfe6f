"""Signals that end the run in progress KILLED, and a section they cannot break into.

SIGTERM (scancel, pkill, a SLURM time limit or preemption, Ray cancelling a task), SIGUSR2 (submitit's warning
before the time limit) and Ctrl-C raise :class:`Interrupted` in the main thread. While a run is being ended,
:func:`deferred` holds them off, so a second or third signal (SLURM sends SIGTERM to the task and to its step)
cannot leave the run RUNNING. After the first signal the process starts no further job (:func:`stopping`); an
idle pool worker is not interrupted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

#: why each signal arrives, in the ``error`` tag of the run it ends
REASONS = {"SIGINT": "Ctrl-C", "SIGTERM": "cancelled, preempted or out of time",
           "SIGUSR2": "the time limit is near"}
SIGNALS = tuple(getattr(signal, name) for name in REASONS if hasattr(signal, name))

_busy = threading.Event()  # a pool worker is running a job
_stopping = threading.Event()  # a signal came: this process starts no further job
_worker = [False]
_first: list[int] = []  # the first signal received: what the interruption is named after


class Interrupted(KeyboardInterrupt):
    """A signal ended the run in progress; ``str()`` is the sentence of its ``error`` tag."""


def sentence(signum: int) -> str:
    """``"interrupted by SIGTERM (cancelled, preempted or out of time)"``."""
    name = signal.Signals(signum).name
    return f"interrupted by {name} ({REASONS.get(name, 'a signal')})"


def error_tag(exc: BaseException) -> str:
    """The ``error`` tag of a run ended by ``exc``: the sentence for an interrupt, ``Type: message`` otherwise."""
    if isinstance(exc, Interrupted):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return sentence(_first[0] if _first else signal.SIGINT)
    return f"{type(exc).__name__}: {exc}"[:5000]


def _on_signal(signum, frame) -> None:
    _stopping.set()
    _first[:] = _first or [signum]
    if _worker[0] and not _busy.is_set():  # an idle pool worker: nothing to end; it takes no further job
        return
    raise Interrupted(sentence(_first[0]))  # a later signal (the sweep's SIGTERM after Ctrl-C) keeps the first name


def interrupt_on_signals(worker: bool = False) -> dict:
    """In a job's or a sweep's process (main thread only): SIGINT, SIGTERM and SIGUSR2 raise :class:`Interrupted`
    and make :func:`stopping` true. ``worker=True`` (a pool worker): they raise only while :class:`busy`.
    Returns the handlers replaced, for :func:`restore`."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    _worker[0] = _worker[0] or worker
    return {sig: signal.signal(sig, _on_signal) for sig in SIGNALS}


def restore(handlers: dict) -> None:
    """Put back the signal handlers that :func:`interrupt_on_signals` replaced."""
    for sig, handler in handlers.items():
        if handler is not None:  # None: installed outside Python, cannot be put back
            signal.signal(sig, handler)


def reset() -> None:
    """Forget the signals of an earlier command run in this process (a notebook calling the API again)."""
    _stopping.clear()
    _first.clear()


def stopping() -> bool:
    """True once a signal came (raised or held off): this process must not start another job."""
    return _stopping.is_set()


def is_busy() -> bool:
    """True while a pool worker runs a job (inside :class:`busy`)."""
    return _busy.is_set()


class busy:
    """Context manager around a job in a pool worker: a signal interrupts it (see :func:`interrupt_on_signals`)."""

    def __enter__(self) -> None:
        _busy.set()

    def __exit__(self, *exc) -> None:
        _busy.clear()


@contextlib.contextmanager
def deferred():
    """Hold off SIGINT, SIGTERM and SIGUSR2 inside the block (main thread; elsewhere a no-op): one that comes
    only makes :func:`stopping` true, so the block (ending a run) always completes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, lambda s, f: _stopping.set()) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def exit_on_next_signal(message: str = "[sweep] second interrupt: exiting now; a run still being ended stays "
                        "RUNNING until its lease notices (the next sweep takes it over)", code: int = 130) -> None:
    """In a sweep stopping after a first signal (main thread): the next SIGINT or SIGTERM prints ``message`` and
    exits at once with ``code``."""
    if threading.current_thread() is not threading.main_thread():
        return

    def now(signum, frame) -> None:
        if message:
            os.write(2, f"\n{message}\n".encode())
        os._exit(code)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, now)
