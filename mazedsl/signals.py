"""Signals during training: SIGINT/SIGTERM ask for a stop after the current update, and
a second Ctrl-C stops at once (the native trainer and the RLlib loop alike)."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator


@contextlib.contextmanager
def stop_on_signals(target: Any) -> Iterator[None]:
    """SIGINT/SIGTERM call ``target.request_stop()`` (main thread only); a second Ctrl-C
    raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    hits = {"n": 0}

    def handler(signum: int, frame: Any) -> None:
        hits["n"] += 1
        if hits["n"] > 1 and signum == signal.SIGINT:
            raise KeyboardInterrupt
        target.request_stop()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
