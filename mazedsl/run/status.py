"""``run.json``'s status around one training, for the native trainer and the RLlib loop."""

from __future__ import annotations

import logging
from datetime import datetime
from types import TracebackType
from typing import Any, Callable


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


class TrainingStatus:
    """Marks the run ``running`` on entry (keeping the first ``started``); on exit
    ``finished`` or ``interrupted`` (from :meth:`done`, or Ctrl-C), else ``failed`` with the
    error, with the steps and best evaluation ``counters()`` gives then; logs it and closes
    the run. Exceptions propagate."""

    def __init__(self, run: Any, logger: logging.Logger,
                 counters: Callable[[], tuple[int, float | None]], **running: Any) -> None:
        self.run, self.logger, self.counters, self.running = run, logger, counters, running
        self.status, self.error = "failed", None

    def __enter__(self) -> "TrainingStatus":
        started = self.run.run_info().get("started") or _now()
        self.run.update_info(status="running", started=started, ended=None, error=None,
                             **self.running)
        return self

    def done(self, summary: Any) -> Any:
        """Record how training ended (``summary.stopped``) and return the summary."""
        self.status = "interrupted" if summary.stopped == "interrupted" else "finished"
        return summary

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if isinstance(exc, KeyboardInterrupt):
            self.status = "interrupted"
        elif exc is not None:
            self.status = "failed"
            self.error = f"{type(exc).__name__}: {exc}"
            self.logger.error("training failed: %s", self.error)
        steps, best = self.counters()
        self.run.update_info(status=self.status, ended=_now(), steps=steps, best_eval=best,
                             error=self.error, stopped=self.status)
        self.logger.info("training %s at step %d (best eval %s)", self.status, steps, best)
        self.run.close()
