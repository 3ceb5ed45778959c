"""Equality of plain config values, shared by ``mazedsl.config.diff`` and ``mazedsl.compare``
(which imports no OmegaConf)."""

from __future__ import annotations

from typing import Any


def same_value(a: Any, b: Any) -> bool:
    """Equal config values, list by list; a bool is never equal to a number (``True != 1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return bool(a == b)
