"""A reader gone away (``mazedsl ... | head``), handled as Unix tools do.

rich's own handler of a broken pipe ends the process with exit status 1, which the CLI keeps
for bugs, and in the middle of training it left the run ``failed``. Here a table printed to a
closed stdout raises :class:`BrokenPipeError`, which the CLI ends quietly with 141; the training
progress bar, once its reader is gone, silences the output and asks the trainer to stop after
the current update, as Ctrl-C does (the run is ``interrupted``: resumable); and a plain print
that meets the closed pipe during training also leaves the run ``interrupted``.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
import threading
from typing import Any, Callable

_closed = threading.Event()


def output_closed() -> bool:
    """Whether a console of this process found the reader of its output gone."""
    return _closed.is_set()


def reader_gone() -> bool:
    """Whether the reader of stdout or stderr went away (its pipe reports an error)."""
    import select

    try:
        poller = select.poll()
        for stream in (sys.stdout, sys.stderr):
            poller.register(stream.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _fd, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll, no file descriptor
        return False


def is_reader_gone(exc: BaseException) -> bool:
    """Whether ``exc`` is a write to an output whose reader went away (not another pipe's)."""
    return isinstance(exc, BrokenPipeError) and (output_closed() or reader_gone())


def silence_output() -> None:
    """stdout and stderr to the null device: later writes (and the closing flush) succeed."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            try:
                os.dup2(devnull, fd)
            except OSError:
                pass
    finally:
        os.close(devnull)


@functools.cache
def _console_class() -> type:
    from rich.console import Console

    class PipeAwareConsole(Console):
        def __init__(self, *args: Any, on_closed: Callable[[], None] | None = None,
                     **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._on_closed = on_closed

        def on_broken_pipe(self) -> None:
            self.quiet = True
            _closed.set()
            if self._on_closed is None:
                raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")
            silence_output()
            self._on_closed()

    return PipeAwareConsole


def console(on_closed: Callable[[], None] | None = None, **kwargs: Any) -> Any:
    """A rich Console (``kwargs`` as rich's) whose closed output raises BrokenPipeError, or,
    with ``on_closed`` (e.g. a trainer's ``request_stop``), silences the output and calls it."""
    return _console_class()(on_closed=on_closed, **kwargs)
