"""The package's exceptions: one base type, with a subclass per kind of failure.

Every message names what is wrong and where (a dotted config path, a file, a run
directory), so that the CLI can print it as one line without a traceback.
"""

from __future__ import annotations

from typing import Any


class MazeError(Exception):
    """Base class of every error mazedsl raises on purpose."""


class ConfigError(MazeError, ValueError):
    """A config value, key, override or file is invalid.

    ``path`` is the dotted config path (``algorithm.lr``), ``source`` where the value
    came from (``override 'algorithm.lr=-1'``), when known.
    """

    def __init__(self, message: str, path: str = "", source: str | None = None) -> None:
        self.message = message
        self.path = path
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.source:
            text += f" (from {self.source})"
        return text

    def prefixed(self, segment: str | int) -> "ConfigError":
        """The same error one level further down: ``segment.path``."""
        seg = f"[{segment}]" if isinstance(segment, int) else str(segment)
        if not self.path:
            path = seg
        elif self.path.startswith("["):
            path = seg + self.path
        else:
            path = f"{seg}.{self.path}"
        return ConfigError(self.message, path, self.source)

    def with_source(self, source: str | None) -> "ConfigError":
        """The same error, saying where the bad value came from."""
        return ConfigError(self.message, self.path, source or self.source)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ConfigError, (self.message, self.path, self.source))


class EnvError(MazeError):
    """An environment cannot be built or is not supported (unknown id, bad spaces)."""


class RunDirError(MazeError):
    """A run directory is missing, is not a run, or cannot be written."""


class CheckpointError(MazeError):
    """A checkpoint is truncated, unreadable, or belongs to other spaces."""


class TrainingError(MazeError):
    """Training cannot go on (for example a NaN or infinite loss)."""


class UnsafeTargetError(ConfigError):
    """A config names a ``_target_`` outside the allowlist."""
