"""The table of runs: one row per run directory (or sweep), keyed by its path, updated cell by cell.

Rows can be marked (space) for Compare; a sweep row stands for all its jobs.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from mazedsl_tui.formatting import STATUS_STYLES, fmt_float, fmt_int, fmt_started, plain, run_id, status_text

COLUMNS = (("", "mark"), ("Experiment", "experiment"), ("Run", "run"), ("Algo", "algorithm"),
           ("Env", "env"), ("Status", "status"), ("Steps", "steps"), ("Best eval", "best_eval"),
           ("Started", "started"))
NARROW_HIDDEN = {"env"}
MARK = "●"


def run_name(info: Any, long: bool) -> str:
    """The run column: the folder name, or on narrow terminals its distinguishing id
    (``20260105-093012_3fa9c1`` -> ``3fa9c1``; a sweep too, ``sweep_20260108-090000_1a2b3c``
    -> ``1a2b3c``: its status cell says it is a sweep, and a cut name pushed Started off); any
    other name whole up to 12 columns, else cut with '…'."""
    name = info.path.name
    if long:
        return name
    return run_id(name) or (name if len(name) <= 12 else name[:11] + "…")


class RunsTable(DataTable):
    """Runs, newest first. ``update_runs`` adds, removes and updates rows by key (the run path)."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open"),
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.long = False
        self.narrow = False
        self.marked: set[str] = set()
        self._rows: dict[str, tuple[str, ...]] = {}
        self._order: list[str] = []
        self._statuses: dict[str, str] = {}
        self._last_runs: list[Any] = []

    def on_mount(self) -> None:
        self._add_columns()

    def visible_columns(self) -> list[str]:
        return [key for _, key in COLUMNS if not self.narrow or key not in NARROW_HIDDEN]

    def _add_columns(self) -> None:
        for label, key in COLUMNS:
            if key in self.visible_columns():
                self.add_column(label, key=key)

    def _cells(self, info: Any) -> dict[str, Any]:
        key = str(info.path)
        status = self._statuses.get(key, info.status)
        if getattr(info, "is_sweep", False):
            failed = f" {info.n_failed}✘" if info.n_failed else ""
            status_cell = Text(f"⧉ sweep ×{len(info.jobs)}{failed}", style=STATUS_STYLES.get(status, "dim"))
        else:
            status_cell = status_text(status)
        return {
            "mark": Text(MARK if key in self.marked else " ", style="bold #61afef"),
            "experiment": plain(info.experiment),
            "run": plain(run_name(info, self.long)),
            "algorithm": plain(info.algorithm),
            "env": plain(info.env),
            "status": status_cell,
            "steps": Text(fmt_int(info.steps), justify="right"),
            "best_eval": Text(fmt_float(info.best_eval, 1), justify="right"),
            "started": fmt_started(info.started, long=self.long),
        }

    def set_long(self, long: bool, narrow: bool = False) -> None:
        """Wide terminals get full run names and dates; narrow ones (80 columns) drop the env
        column. The run column always stays: rows of one experiment must be told apart."""
        if (long, narrow) != (self.long, self.narrow):
            self.long, self.narrow = long, narrow
            self.clear(columns=True)
            self._rows.clear()
            self._order = []
            self._add_columns()
            self.update_runs(self._last_runs, self._statuses)

    def update_runs(self, runs: list[Any], statuses: dict[str, str] | None = None) -> None:
        """Show ``runs``; ``statuses`` (path -> status) overrides run.json's where given."""
        self._last_runs = runs
        self._statuses = dict(statuses or {})
        keys = [str(info.path) for info in runs]
        self.marked &= set(keys)
        visible = self.visible_columns()
        if keys != self._order:
            selected = self.selected_key()
            self.clear()
            self._rows.clear()
            for info, key in zip(runs, keys):
                cells = self._cells(info)
                self.add_row(*(cells[c] for c in visible), key=key)
                self._rows[key] = tuple(str(cells[c]) for c in visible)
            self._order = keys
            if selected in self._rows:
                self.move_cursor(row=self.get_row_index(selected))
            return
        for info, key in zip(runs, keys):
            self._update_row(info, key, visible)

    def _update_row(self, info: Any, key: str, visible: list[str]) -> None:
        cells = self._cells(info)
        plain = tuple(str(cells[c]) for c in visible)
        if plain != self._rows[key]:
            for column, old, new in zip(visible, self._rows[key], plain):
                if old != new:
                    # update_width: a cell that grew (2,048 -> 200,192 steps) must widen its column
                    self.update_cell(key, column, cells[column], update_width=True)
            self._rows[key] = plain

    def toggle_mark(self, key: str | None = None) -> bool | None:
        """Mark or unmark a row (the highlighted one by default); its new state, None if no row."""
        key = key if key is not None else self.selected_key()
        if key is None or key not in self._rows:
            return None
        if key in self.marked:
            self.marked.discard(key)
        else:
            self.marked.add(key)
        info = next((r for r in self._last_runs if str(r.path) == key), None)
        if info is not None:
            self._update_row(info, key, self.visible_columns())
        return key in self.marked

    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - no valid cursor
            return None

    def cell_text(self, row_key: str, column: str) -> str:
        """The plain text of a cell (for tests and the command palette)."""
        value = self.get_cell(row_key, column)
        return value.plain if isinstance(value, Text) else str(value)
