"""How long a run trained: run.json's ``train_seconds``, the wall time of all its training
sessions (each ``mazedsl train --resume`` starts one), not the time from the first session's
start to the last one's end, which counts the time the run sat between them."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """A run.json time (ISO format), or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def training_time(raw: dict[str, Any]) -> tuple[float, int] | None:
    """(seconds the run trained, sessions) from a run.json that has ``ended`` (None while the
    run trains, or when its times are unknown). Runs written before ``train_seconds`` was
    recorded: ``ended - started``, one session."""
    if raw.get("ended") is None:
        return None
    seconds = raw.get("train_seconds")
    sessions = raw.get("sessions")
    if isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds >= 0:
        return float(seconds), sessions if isinstance(sessions, int) and sessions > 0 else 1
    started, ended = parse_time(raw.get("started") or raw.get("created")), parse_time(raw.get("ended"))
    if started is None or ended is None:
        return None
    return max(0.0, (ended - started).total_seconds()), 1
