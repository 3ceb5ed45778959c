"""The table of runs: one row per run directory, keyed by its path, updated cell by cell."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from mazedsl_tui.formatting import fmt_float, fmt_int, fmt_started, status_text

COLUMNS = (("Experiment", "experiment"), ("Run", "run"), ("Algo", "algorithm"), ("Env", "env"),
           ("Status", "status"), ("Steps", "steps"), ("Best eval", "best_eval"), ("Started", "started"))
NARROW_HIDDEN = {"run"}


class RunsTable(DataTable):
    """Runs, newest first. ``update_runs`` adds, removes and updates rows by key (the run path)."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.long = False
        self._rows: dict[str, tuple[str, ...]] = {}
        self._order: list[str] = []
        self._statuses: dict[str, str] = {}

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for label, key in COLUMNS:
            if self.long or key not in NARROW_HIDDEN:
                self.add_column(label, key=key)

    def _cells(self, info: Any) -> dict[str, Any]:
        return {
            "experiment": info.experiment,
            "run": info.path.name,
            "algorithm": info.algorithm,
            "env": info.env,
            "status": status_text(self._statuses.get(str(info.path), info.status)),
            "steps": Text(fmt_int(info.steps), justify="right"),
            "best_eval": Text(fmt_float(info.best_eval, 1), justify="right"),
            "started": fmt_started(info.started, long=self.long),
        }

    def set_long(self, long: bool) -> None:
        """Wide terminals get the run name column and full dates."""
        if long != self.long:
            self.long = long
            runs = self._last_runs if hasattr(self, "_last_runs") else []
            self.clear(columns=True)
            self._rows.clear()
            self._order = []
            self._add_columns()
            self.update_runs(runs, self._statuses)

    def update_runs(self, runs: list[Any], statuses: dict[str, str] | None = None) -> None:
        """Show ``runs``; ``statuses`` (path -> status) overrides run.json's where given."""
        self._last_runs = runs
        self._statuses = dict(statuses or {})
        keys = [str(info.path) for info in runs]
        visible = [key for _, key in COLUMNS if self.long or key not in NARROW_HIDDEN]
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
            cells = self._cells(info)
            plain = tuple(str(cells[c]) for c in visible)
            if plain != self._rows[key]:
                for column, old, new in zip(visible, self._rows[key], plain):
                    if old != new:
                        self.update_cell(key, column, cells[column])
                self._rows[key] = plain

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
