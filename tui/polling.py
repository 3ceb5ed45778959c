"""Helpers for the polling loops of thread workers."""

from __future__ import annotations

import threading
import time
from typing import Any

_SLICE = 0.05


def sleep_unless_cancelled(worker: Any, seconds: float, wake: threading.Event | None = None) -> bool:
    """Sleep up to ``seconds``; False as soon as ``worker`` is cancelled, True when woken or done."""
    deadline = time.monotonic() + seconds
    while not worker.is_cancelled:
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        if wake is not None:
            if wake.wait(min(_SLICE, left)):
                wake.clear()
                return True
        else:
            time.sleep(min(_SLICE, left))
    return False


class FileTail:
    """Reads what was appended to a text file since the last call (from a byte offset)."""

    def __init__(self, path: Any, max_initial: int = 256_000) -> None:
        self.path = path
        self.offset = 0
        self.max_initial = max_initial

    def read(self) -> str:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(0, 2)
                size = fh.tell()
                if size < self.offset:  # truncated or replaced: start over
                    self.offset = 0
                if self.offset == 0 and size > self.max_initial:
                    self.offset = size - self.max_initial
                fh.seek(self.offset)
                data = fh.read()
        except OSError:
            return ""
        end = data.rfind(b"\n") + 1  # whole lines only
        self.offset += end
        return data[:end].decode("utf-8", errors="replace")
