"""Atomic file writes and the append-only metrics stream.

Every file of a run directory is written to a temporary file in the same folder and
renamed into place, so a crash or kill never leaves a half-written file behind. The file gets
the mode an ordinary ``open()`` would give a new file (``0o666 & ~umask``), not mkstemp's 0600,
so other users and processes can read shared results as they can ``metrics.jsonl``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from mazedsl.errors import RunDirError

_FALLBACK_UMASK: int | None = None


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows.

    Linux reports it in ``/proc/self/status`` (``Umask:``); elsewhere the ``os.umask`` round
    trip (set, then restore: process-global, so racy with threads creating files) runs once and
    its answer is cached.
    """
    global _FALLBACK_UMASK
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    if _FALLBACK_UMASK is None:
        mask = os.umask(0o022)
        os.umask(mask)
        _FALLBACK_UMASK = mask
    return _FALLBACK_UMASK


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename), with the mode a new
    file gets from ``open()`` (``0o666 & ~umask``)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise RunDirError(f"{path.parent}: cannot write here ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            _open_mode(fh.fileno())
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _open_mode(fd: int) -> None:
    """Give the file ``fd`` the mode ``open()`` gives a new file (mkstemp's is 0600); where the
    file system cannot change modes, the file keeps mkstemp's."""
    if hasattr(os, "fchmod"):
        try:
            os.fchmod(fd, 0o666 & ~current_umask())
        except OSError:
            pass


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    return repr(obj)


class MetricsWriter:
    """Appends one JSON object per line to ``metrics.jsonl`` and flushes each line."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fh = open(self.path, "a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record, default=_json_default, allow_nan=True) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> "MetricsWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_metrics(path: str | os.PathLike[str], offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete records of ``metrics.jsonl`` from byte ``offset``, and the offset to resume at.

    A partial last line (a writer mid-line) is left for the next call, so tailing is safe.
    """
    records: list[dict[str, Any]] = []
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return records, offset
    end = data.rfind(b"\n") + 1
    for line in data[:end].splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records, offset + end


def iter_metrics(path: str | os.PathLike[str], phase: str | None = None) -> Iterator[dict[str, Any]]:
    """All complete records of a metrics file, optionally of one ``phase``."""
    records, _ = read_metrics(path)
    for rec in records:
        if phase is None or rec.get("phase") == phase:
            yield rec
