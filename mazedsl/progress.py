"""The training progress bar (rich): steps, steps/s, latest returns and best evaluation."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from mazedsl.terminal import console


FIELDS = "{task.fields[speed]:>7}/s  return {task.fields[ret]:>7}  best eval {task.fields[best]:>7}"
SHORT_FIELDS = "{task.fields[speed]}/s ret {task.fields[ret]} best {task.fields[best]}"
WIDEST = {"speed": "9" * 7, "ret": "-1234.5", "best": "-1234.5"}  # the figures' widest values


def progress_columns(total: int, width: int) -> list[Any]:
    """The bar's columns for a terminal ``width`` columns wide. Where the whole line does not
    fit (80 columns, or output that is not a terminal, with a large budget) the bar takes only
    the room the figures leave, then goes, then the labels get shorter: the line is not cut."""
    digits = len(f"{total:,}")
    steps = f"{{task.completed:>{digits},.0f}}/{{task.total:,.0f}}"

    def widest(fields: str, unit: str) -> int:  # "train", steps, figures, "0:00:00", spaces between
        figures = fields.format(task=SimpleNamespace(fields=WIDEST))
        return len("train") + 2 * digits + 1 + len(unit) + len(figures) + len("0:00:00") + 3

    full = widest(FIELDS, " steps")
    if width < full:
        return [TextColumn("[bold]train[/]"), TextColumn(steps), TextColumn(SHORT_FIELDS), TimeRemainingColumn()]
    bar = min(30, width - full - 1)
    return [TextColumn("[bold]train[/]"), *([BarColumn(bar_width=bar)] if bar >= 5 else []),
            TextColumn(steps + " steps"), TextColumn(FIELDS), TimeRemainingColumn()]


class TrainingProgress:
    """A rich progress bar on stderr; use as a context manager. ``on_closed``: called once the
    reader of the output went away (``mazedsl train ... 2>&1 | head``), e.g. the trainer's
    ``request_stop``."""

    def __init__(self, total: int, start: int = 0, on_closed: Callable[[], None] | None = None) -> None:
        out = console(stderr=True, on_closed=on_closed)
        self._progress = Progress(*progress_columns(total, out.width), console=out, refresh_per_second=4)
        self._task = self._progress.add_task("train", total=total, completed=start, speed="-",
                                             ret="-", best="-")
        self._best: float | None = None

    def update(self, steps: int, info: dict[str, Any]) -> None:
        fields: dict[str, Any] = {"speed": f"{info.get('steps_per_s', 0):.0f}"}
        if "ep_return_mean" in info:
            fields["ret"] = f"{info['ep_return_mean']:.1f}"
        if info.get("best_eval") is not None:
            self._note_best(float(info["best_eval"]))
        self._progress.update(self._task, completed=steps, **fields)

    def note_eval(self, step: int, mean_return: float) -> None:
        """Print an evaluation line; the bar's ``best eval`` follows it (also the last one)."""
        self._progress.console.print(f"eval at step {step:,}: mean return {mean_return:.1f}")
        self._note_best(float(mean_return))

    def _note_best(self, value: float) -> None:
        if value == value and (self._best is None or value > self._best):  # NaN never counts
            self._best = value
            self._progress.update(self._task, best=f"{value:.1f}")

    @property
    def best(self) -> float | None:
        """The best evaluation return shown."""
        return self._best

    def __enter__(self) -> "TrainingProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()
