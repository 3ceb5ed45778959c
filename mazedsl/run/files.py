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
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise RunDirError(f"{path}: cannot write it ({write_problem(path, exc)})") from None
        raise


def write_problem(path: Path, exc: OSError) -> str:
    """Why ``path`` could not be written, in a few words (a folder in a file's place...)."""
    if path.is_dir():
        return "a folder is in its place; move it away"
    return exc.strerror or str(exc)


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
    """Appends one JSON object per line to ``metrics.jsonl`` and flushes each line; a file
    whose last line was cut by a crash is first ended (:func:`end_partial_line`), so no record
    is ever glued onto a partial one."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            end_partial_line(self.path)
            self._fh = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise RunDirError(f"{self.path}: cannot write it ({write_problem(self.path, exc)})"
                              ) from None

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


def end_partial_line(path: str | os.PathLike[str]) -> None:
    """End a file of JSON lines whose last line has no newline (a writer cut short): a whole
    JSON record gets its newline, a partial one is cut off. No file: nothing to do."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        start = size
        while start > 0:  # back to the newline before the last line
            step = min(start, 65536)
            fh.seek(start - step)
            chunk = fh.read(step)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                start = start - step + cut + 1
                break
            start -= step
        fh.seek(start)
        if _record(fh.read()) is not None:
            fh.write(b"\n")
        else:
            fh.truncate(start)


def _record(line: bytes) -> dict[str, Any] | None:
    """One metrics line as its record, or None when it is not a whole JSON object."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def rewind_metrics_file(path: str | os.PathLike[str], step: int, keep_eval_at_step: bool = True
                        ) -> int:
    """Cut ``metrics.jsonl`` back to a checkpoint taken at ``step``, atomically: a partial
    last line goes, and so does every record a training resumed from that checkpoint writes
    again: train and eval records of a later step, and the evaluation at ``step`` itself
    unless ``keep_eval_at_step`` (the checkpoint counted it: the trainer evaluates before it
    checkpoints, and the closing evaluation after the loop's checkpoint is counted only by
    the final one). Damaged lines are kept as they are. Returns how many lines went."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read it ({write_problem(path, exc)})") from None
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    dropped = 0
    if tail.strip():
        if _record(tail) is not None:
            lines.append(tail)  # a whole record that only lacks its newline
        else:
            dropped = 1
    kept: list[bytes] = []
    for line in lines:
        record = _record(line)
        at = record.get("step") if record is not None else None
        if isinstance(at, (int, float)) and not isinstance(at, bool) and (
                at > step or at == step and record.get("phase") == "eval" and not keep_eval_at_step):
            dropped += 1
            continue
        kept.append(line)
    if dropped or tail.strip():
        atomic_write_bytes(path, b"".join(line + b"\n" for line in kept))
    return dropped


def read_metrics(path: str | os.PathLike[str], offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete records of ``metrics.jsonl`` from byte ``offset``, and the offset to resume at.

    A partial last line (a writer mid-line) is left for the next call, so tailing is safe.
    No file: no records; anything but a file there (a folder): :class:`RunDirError`.
    """
    records: list[dict[str, Any]] = []
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return records, offset
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read it ({write_problem(Path(path), exc)})") from None
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
