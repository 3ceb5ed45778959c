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
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE, what the shell reports for a tool its reader left


def quit_on_closed_output() -> int:
    """Stop quietly once the output's reader is gone, as Unix tools do: stdout and stderr go to
    the null device (Python's closing flush then has nowhere to fail); returns EXIT_PIPE_CLOSED."""
    from mazedsl.terminal import silence_output

    silence_output()
    return EXIT_PIPE_CLOSED


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


def _own_dirs() -> list[str]:
    """The folders of mazedsl's own code: the ``mazedsl`` package and the TUI (``tui/``)."""
    import importlib.util
    import os

    import mazedsl

    package = os.path.dirname(os.path.abspath(mazedsl.__file__))
    dirs = [package, os.path.join(os.path.dirname(package), "tui")]
    try:
        spec = importlib.util.find_spec("mazedsl_tui")  # finds it without importing it
        dirs += list(spec.submodule_search_locations or []) if spec else []
    except (ImportError, ValueError):
        pass
    return [os.path.abspath(d) for d in dirs]


def _library_dirs() -> list[str]:
    """The folders of the Python standard library and of installed packages."""
    import os
    import sysconfig

    paths = sysconfig.get_paths()
    return [os.path.abspath(paths[key]) for key in ("stdlib", "platstdlib", "purelib", "platlib")
            if paths.get(key)]


def _under(path: str, folders: list[str]) -> bool:
    import os

    return any(path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
               for folder in folders)


def user_frame(exc: BaseException) -> tuple[str, int, str] | None:
    """Where ``exc`` was raised when that is the user's code: ``(file, line, function)``,
    else None (mazedsl's own code: a bug in mazedsl).

    The traceback is walked from the innermost frame outwards, passing over frames of the
    standard library and of installed packages (site-packages, dist-packages); the first
    other frame decides: in mazedsl's package or the TUI it is mazedsl's, anywhere else
    (your env, your model, your algorithm) it is yours."""
    import os
    import traceback

    own, libraries = _own_dirs(), _library_dirs()
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = frame.filename
        if name.startswith("<"):  # <frozen ...>, <string>: no file to blame
            continue
        path = os.path.abspath(name)
        if _under(path, own):
            return None
        parts = path.split(os.sep)
        if _under(path, libraries) or "site-packages" in parts or "dist-packages" in parts:
            continue
        return name, frame.lineno or 0, frame.name
    return None


def exit_code_of(exc: BaseException, debug: bool = False) -> int:
    """Report ``exc`` on stderr and return the exit status: 2 for a mistake of the user
    (:class:`~mazedsl.errors.MazeError`), 130 for Ctrl-C, 1 for anything else: one line
    naming where the traceback is (the run's train.log when training wrote it there, else
    a new file in the temp folder) and, when the exception was raised in the user's own code
    (:func:`user_frame`), that place; otherwise it is reported as a bug in mazedsl.
    ``debug`` prints the traceback too."""
    import traceback

    from mazedsl.errors import MazeError
    from mazedsl.run.status import TRACEBACK_LOG
    from mazedsl.terminal import is_reader_gone

    if isinstance(exc, KeyboardInterrupt):
        error("interrupted")
        return EXIT_INTERRUPTED
    if is_reader_gone(exc):
        return quit_on_closed_output()
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    if isinstance(exc, MazeError):
        error(str(exc))
        return EXIT_USER
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    what = f"{type(exc).__name__}{': ' + first if first else ''}"
    logged = getattr(exc, TRACEBACK_LOG, None)
    if isinstance(logged, str) and logged:
        where = f"traceback in {logged}"
    else:
        try:
            where = f"traceback written to {write_traceback(exc)}"
        except OSError as write_error:
            where = f"traceback could not be written ({write_error}); rerun with --debug"
    try:
        frame = user_frame(exc)
    except Exception:  # noqa: BLE001 - blaming must never hide the error itself
        frame = None
    if frame is not None:
        file, line, function = frame
        print(f"error: {what} (raised in your code at {file}:{line}, in {function}; {where})",
              file=sys.stderr)
    else:
        print(f"error: internal error, this is a bug in mazedsl: {what} ({where})",
              file=sys.stderr)
    return EXIT_BUG


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on stdout (plain text when not a terminal). Cells, headers and title are
    shown as they are: ``[cartpole_ppo:latest]`` in a value is text, not rich markup."""
    from rich.table import Table
    from rich.text import Text

    from mazedsl.terminal import console as pipe_aware_console

    table = Table(title=None if title is None else Text(title), show_lines=False)
    for i, col in enumerate(columns):
        # short columns (numbers, names) keep their width; a long first column (a sweep's
        # configuration) folds instead of squeezing the others to nothing
        widest = max([len(col), *(len(str(row[i])) for row in rows)]) if i else 0
        table.add_column(Text(col), overflow="fold", min_width=min(widest, 24) or None)
    for row in rows:
        table.add_row(*(Text("-" if v is None else str(v)) for v in row))
    console = pipe_aware_console()
    if not console.is_terminal:
        console.width = 160
    console.print(table)


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
    n = len(summary["returns"])
    print(f"{title}: mean return {summary['mean_return']:.2f} ± {summary['std_return']:.2f} "
          f"(min {summary['min_return']:.2f}, max {summary['max_return']:.2f}), "
          f"mean length {summary['mean_length']:.1f} over {n} episode{'s' * (n != 1)}")
