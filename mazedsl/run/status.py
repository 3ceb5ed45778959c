"""``run.json``'s status around one training, for the native trainer and the RLlib loop."""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime
from types import TracebackType
from typing import Any, Callable

from mazedsl.terminal import is_reader_gone

TRACEBACK_LOG = "mazedsl_traceback_log"
"""The attribute :class:`TrainingStatus` sets on an unexpected exception whose traceback it
wrote to the run's log: train.log's path (the CLI's error line names it)."""


#: How a training stops before its run's budget, which a resume continues: run.json says
#: ``interrupted`` (the other reasons, ``budget``, ``early_stopping`` and ``target_return``,
#: end the run: ``finished``).
STOPPED_SHORT = ("interrupted", "epochs")


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _seconds(value: Any) -> float:
    """run.json's ``train_seconds`` as a number (0 when absent or unreadable)."""
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else 0.0


class TrainingStatus:
    """Takes the run's training lock (``RUN/.lock``, held until the run is closed: another
    process training this run is refused in one line naming it; see run/lock.py) and marks
    the run ``running`` on entry (keeping the first ``started``; counting the
    training ``sessions``: a resume starts one); on exit ``finished`` (its budget reached, or
    stopped early by ``patience`` or ``target_return``) or ``interrupted`` (Ctrl-C, or a stop
    before the budget such as ``train(n_epochs=...)``: a resume continues it), from
    :meth:`done`, and ``stopped``, the summary's reason (``budget``, ``epochs``, ...), else
    ``failed`` with the error, with the steps and best
    evaluation ``counters()`` gives then and ``train_seconds``, the wall time of all sessions
    so far (not the time between sessions); logs it (an unexpected exception with its
    traceback) and closes the run, which releases the lock. Exceptions propagate."""

    def __init__(self, run: Any, logger: logging.Logger,
                 counters: Callable[[], tuple[int, float | None]], **running: Any) -> None:
        self.run, self.logger, self.counters, self.running = run, logger, counters, running
        self.status, self.error = "failed", None
        self.stopped: str | None = None

    def __enter__(self) -> "TrainingStatus":
        lock = getattr(self.run, "lock", None)
        if lock is not None:
            lock()
        info = self.run.run_info()
        started = info.get("started") or _now()
        self._trained_before = _seconds(info.get("train_seconds"))
        self._sessions = int(info.get("sessions") or (1 if info.get("ended") else 0)) + 1
        self._t0 = time.monotonic()
        self.run.update_info(status="running", started=started, ended=None, error=None,
                             sessions=self._sessions, **self.running)
        return self

    def done(self, summary: Any) -> Any:
        """Record how training ended (``summary.stopped``) and return the summary."""
        self.stopped = summary.stopped
        self.status = "interrupted" if summary.stopped in STOPPED_SHORT else "finished"
        return summary

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            self.stopped = None  # what ended it is the exception, not a summary
        if isinstance(exc, KeyboardInterrupt) or (exc is not None and is_reader_gone(exc)):
            self.status = "interrupted"  # Ctrl-C, or the reader of the output went away
        elif exc is not None:
            self.status = "failed"
            self.error = f"{type(exc).__name__}: {exc}"
            self._log_failure(exc_type, exc, tb)
        steps, best = self.counters()
        trained = round(self._trained_before + time.monotonic() - self._t0, 3)
        self.run.update_info(status=self.status, ended=_now(), steps=steps, best_eval=best,
                             error=self.error, stopped=self.stopped or self.status,
                             train_seconds=trained)
        self.logger.info("training %s at step %d (best eval %s)", self.status, steps, best)
        self.run.close()

    def _log_failure(self, exc_type: type[BaseException] | None, exc: BaseException,
                     tb: TracebackType | None) -> None:
        """``training failed: ...`` in train.log; an unexpected exception (not a MazeError)
        with its full traceback, and marked with train.log's path (the CLI's error line
        names it: :data:`TRACEBACK_LOG`)."""
        from mazedsl.errors import MazeError

        if isinstance(exc, MazeError) or not isinstance(exc, Exception):
            self.logger.error("training failed: %s", self.error)
            return
        self.logger.error("training failed: %s", self.error, exc_info=(exc_type, exc, tb))
        try:
            setattr(exc, TRACEBACK_LOG, str(self.run.path / "train.log"))
        except (AttributeError, TypeError):  # an exception type that takes no attributes
            pass
