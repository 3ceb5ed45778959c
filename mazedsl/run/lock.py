"""The lock a training process holds on its run directory while it trains (``RUN/.lock``).

An OS lock (``fcntl.flock``) on ``RUN/.lock``, taken before a training (or a resume) writes
anything and held until it ends: the OS drops it when the process dies, even on ``kill -9``.
So a second trainer of the same run is refused (naming the first one's pid and host, which
the lock file holds), and a run whose ``run.json`` still says ``running`` while nobody holds
its lock is known to have died (listed as :data:`CRASHED`). Where the OS has no ``fcntl``
(Windows) nothing is locked and such runs keep their recorded status.
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from mazedsl.errors import RunDirError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, runs keep their recorded status
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"
#: The status a run is listed with when run.json says ``running`` but its trainer is gone.
CRASHED = "crashed"
#: How long acquiring waits for a momentary holder (a reader probing the lock) to let go.
ACQUIRE_WAIT_S = 2.0


def lock_path(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / LOCK_FILE


def lock_holder(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """What the lock file says about the process that took the lock last (``pid``, ``host``,
    ``since``); empty when there is none, or it is unreadable."""
    try:
        holder = json.loads(lock_path(run_dir).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def describe_holder(holder: dict[str, Any]) -> str:
    """``pid 123 on host h (since ...)`` as far as ``holder`` tells."""
    text = f"pid {holder.get('pid', '?')}"
    if holder.get("host"):
        text += f" on host {holder['host']}"
    if holder.get("since"):
        text += f" since {holder['since']}"
    return text


def is_training(run_dir: str | os.PathLike[str]) -> bool:
    """Whether a process holds the run's training lock now (False where the OS has no locks)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(lock_path(run_dir), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # a file system without locks
        return False
    finally:
        os.close(fd)  # (drops the shared lock just taken)
    return False


def trainer_alive(run_dir: str | os.PathLike[str]) -> bool | None:
    """True: a process trains the run now; False: none does, so a ``running`` run died;
    None: this cannot be told (no locks on this OS, a run trained before the lock existed,
    or one trained on another host, whose lock this host may not see)."""
    if fcntl is None or not lock_path(run_dir).is_file():
        return None
    if is_training(run_dir):
        return True
    host = lock_holder(run_dir).get("host")
    return None if host and host != socket.gethostname() else False


class RunLock:
    """The exclusive training lock of one run directory (``acquire`` / ``release``;
    re-acquiring a held lock does nothing). The file object keeps it: when this object is
    garbage-collected, or the process dies, the OS releases the lock."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.run_dir = Path(run_dir)
        self._fh: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self, wait_s: float = ACQUIRE_WAIT_S) -> None:
        """Take the lock, or raise :class:`RunDirError` naming the process that trains the run."""
        if self._fh is not None or fcntl is None:
            return
        path = lock_path(self.run_dir)
        try:
            fh = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o666), "r+b")
        except OSError as exc:
            raise RunDirError(f"{path}: cannot create the run's lock ({exc.strerror or exc})") from None
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:  # someone else's; or a reader probing it for a moment
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                fh.close()
                holder = describe_holder(lock_holder(self.run_dir))
                raise RunDirError(f"{self.run_dir}: this run is training in another process "
                                  f"({holder}); stop that one first (Ctrl-C there, or kill -INT "
                                  "its pid), or wait until it ends") from None
            except OSError:  # a file system without locks (some network mounts): no lock
                fh.close()
                return
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": datetime.now().isoformat(timespec="seconds")}
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(holder).encode("utf-8") + b"\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        """Let go of the lock (the lock file stays, emptied)."""
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            fh.seek(0)
            fh.truncate()
        except OSError:
            pass
        finally:
            fh.close()  # closing the file releases the lock
