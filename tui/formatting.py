"""Formatting of run values for tables and summaries (one place, so every screen agrees)."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from rich.text import Text

STATUS_STYLES = {
    "running": "bold #e5c07b",
    "finished": "#98c379",
    "failed": "bold #e06c75",
    "crashed": "bold #e06c75",
    "interrupted": "#c678dd",
    "starting": "#61afef",
    "damaged": "bold #d19a66",
}
STATUS_ICONS = {
    "running": "▶",
    "finished": "✔",
    "failed": "✘",
    "crashed": "✘",
    "interrupted": "■",
    "starting": "…",
    "damaged": "!",
}

MISSING = "—"


_STAMPED = re.compile(r"^(?:sweep_)?\d{8}-\d{6}_(\w+)$")


def run_id(name: str) -> str | None:
    """The id of a timestamped run or sweep folder name (``20260105-093012_3fa9c1`` ->
    ``3fa9c1``, ``sweep_20260108-090000_1a2b3c`` -> ``1a2b3c``); None for any other name
    (``job_000``, a name of your own)."""
    match = _STAMPED.match(name)
    return match.group(1) if match else None


def plain(value: Any) -> Text:
    """``value`` as text shown as it is: a DataTable reads a ``str`` cell as rich markup, so
    ``algorithm.episodes=[cartpole_ppo:latest]`` or a run named ``[bold]x`` would lose its
    brackets (and what is between them)."""
    return value if isinstance(value, Text) else Text(str(value))


def status_text(status: str) -> Text:
    """A run status with its icon and colour (``✔ finished``)."""
    icon = STATUS_ICONS.get(status, "?")
    return Text(f"{icon} {status}", style=STATUS_STYLES.get(status, "dim"))


def budget_unit(plays_episodes: bool) -> str:
    """What a run's step counter (``total_steps``, ``steps``) counts: env steps, or, for a
    learner that plays no env episodes (BC learns from recorded ones: run.json's
    ``train_episodes`` false), the training samples it used."""
    return "env steps" if plays_episodes else "training samples"


def step_noun(plays_episodes: bool) -> str:
    """The short word for those counts after a number (``2,048 steps``, ``2,048 samples``)."""
    return "steps" if plays_episodes else "samples"


def steps_axis(plays: Any) -> str:
    """What the steps of several runs count (``plays``: each run's ``plays_episodes``): env
    steps, training samples (all learn from recordings, as BC does), or both."""
    kinds = set(plays)
    if not kinds or kinds == {True}:
        return budget_unit(True)
    if kinds == {False}:
        return budget_unit(False)
    return f"{budget_unit(True)} / {budget_unit(False)}"


def fmt_int(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return MISSING


def fmt_float(value: Any, digits: int = 1) -> str:
    """A number with ``digits`` decimals, or an em dash for a missing / non-finite value."""
    if value is None:
        return MISSING
    try:
        number = float(value)
    except (TypeError, ValueError):
        return MISSING
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return f"{number:,.{digits}f}"


def fmt_metric(value: Any) -> str:
    """A loss-like value: 4 significant digits, scientific when tiny or huge."""
    if value is None:
        return MISSING
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != 0 and (abs(number) < 1e-3 or abs(number) >= 1e5):
        return f"{number:.3e}"
    return f"{number:.4g}"


def fmt_started(started: datetime | None, long: bool = True) -> str:
    if started is None:
        return MISSING
    return started.strftime("%Y-%m-%d %H:%M" if long else "%m-%d %H:%M")


def fmt_duration(seconds: Any) -> str:
    try:
        total = int(float(seconds))
    except (TypeError, ValueError):
        return MISSING
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def short_path(path: Any, root: Any) -> str:
    """``path`` relative to ``root`` when it lies below it (screens never show tmp paths)."""
    from pathlib import Path

    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except (ValueError, OSError):
        return str(path)


def cwd_path(path: Any) -> str:
    """``path`` as the user would type it here: relative to the working directory when it lies
    below it, else absolute (the commands the UI shows work copy-pasted)."""
    import os

    absolute = os.path.abspath(os.fspath(path))
    relative = os.path.relpath(absolute)
    return absolute if relative == ".." or relative.startswith(".." + os.sep) else relative
