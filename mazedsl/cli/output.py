"""Shared CLI output: one-line errors, tables and JSON."""

from __future__ import annotations

import json
import sys
from typing import Any, Sequence


def error(message: str) -> None:
    """Print a one-line (two at most) error to stderr."""
    lines = str(message).strip().splitlines() or ["unknown error"]
    print(f"error: {lines[0]}", file=sys.stderr)
    if len(lines) > 1:
        print(f"  {lines[1]}", file=sys.stderr)


EXIT_USER = 2
EXIT_BUG = 1
EXIT_INTERRUPTED = 130


def write_traceback(exc: BaseException) -> str:
    """Write ``exc``'s full traceback to a new file in the temp folder; returns its path."""
    import os
    import tempfile
    import time
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    fd, path = tempfile.mkstemp(prefix=f"mazedsl-traceback-{time.strftime('%Y%m%d-%H%M%S')}-",
                                suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"argv: {sys.argv}\n{text}")
    return path


def exit_code_of(exc: BaseException, debug: bool = False) -> int:
    """Report ``exc`` on stderr and return the exit status: 2 for a mistake of the user
    (:class:`~mazedsl.errors.MazeError`), 130 for Ctrl-C, 1 for anything else (a bug: one
    line naming the file that holds the traceback). ``debug`` prints the traceback too."""
    import traceback

    from mazedsl.errors import MazeError

    if isinstance(exc, KeyboardInterrupt):
        error("interrupted")
        return EXIT_INTERRUPTED
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    if isinstance(exc, MazeError):
        error(str(exc))
        return EXIT_USER
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    try:
        where = f"traceback written to {write_traceback(exc)}"
    except OSError as write_error:
        where = f"traceback could not be written ({write_error}); rerun with --debug"
    print(f"error: internal error, this is a bug in mazedsl: {type(exc).__name__}"
          f"{': ' + first if first else ''} ({where})", file=sys.stderr)
    return EXIT_BUG


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on stdout (plain text when not a terminal). Cells, headers and title are
    shown as they are: ``[cartpole_ppo:latest]`` in a value is text, not rich markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=None if title is None else Text(title), show_lines=False)
    for i, col in enumerate(columns):
        # short columns (numbers, names) keep their width; a long first column (a sweep's
        # configuration) folds instead of squeezing the others to nothing
        widest = max([len(col), *(len(str(row[i])) for row in rows)]) if i else 0
        table.add_column(Text(col), overflow="fold", min_width=min(widest, 24) or None)
    for row in rows:
        table.add_row(*(Text("-" if v is None else str(v)) for v in row))
    console = Console()
    Console(width=console.width if console.is_terminal else 160).print(table)


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def eval_summary(result: Any) -> dict[str, Any]:
    """An EvalResult as eval.json has it (returns, lengths, n_episodes and their statistics)."""
    return dict(result.summary())


def print_eval(title: str, summary: dict[str, Any]) -> None:
    print(f"{title}: mean return {summary['mean_return']:.2f} ± {summary['std_return']:.2f} "
          f"(min {summary['min_return']:.2f}, max {summary['max_return']:.2f}), "
          f"mean length {summary['mean_length']:.1f} over {len(summary['returns'])} episodes")
