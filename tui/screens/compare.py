"""Compare: marked runs' evaluation curves overlaid (seeds of one configuration as a mean line and
a band), a table of final/best eval per run, and the config keys that differ. Live."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane
from textual.widgets.data_table import ColumnKey
from textual.worker import get_current_worker

from mazedsl_tui.formatting import fmt_float, fmt_int, plain, run_id, status_text, steps_axis
from mazedsl_tui.library import describe_error
from mazedsl_tui.messages import ComparisonUpdated
from mazedsl_tui.polling import sleep_unless_cancelled
from mazedsl_tui.widgets.compare.plot import ComparePlot, group_color, group_key
from mazedsl_tui.widgets.footer import FitFooter


class ComparisonScreen(Screen):
    """A screen fed by a worker that loads a Comparison once, then re-reads only what changed
    on disk (stat first), posting a copy while any run is live."""

    comparison: Any = None
    error: str | None = None

    def load(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="compare-poll", name="poll comparison")
    def poll(self) -> None:
        worker = get_current_worker()
        app = self.app
        try:
            comparison = self.load()
        except Exception as exc:  # noqa: BLE001 - shown on the screen
            self.post_message(ComparisonUpdated(id(self), None, describe_error(exc)))
            return
        self.post_message(ComparisonUpdated(id(self), copy.deepcopy(comparison)))
        while comparison.live:
            if not sleep_unless_cancelled(worker, app.poll_interval):
                return
            if comparison.refresh():
                self.post_message(ComparisonUpdated(id(self), copy.deepcopy(comparison)))

    def on_comparison_updated(self, message: ComparisonUpdated) -> None:
        if message.owner != id(self):
            return
        self.comparison, self.error = message.comparison, message.error
        self.show()

    def show(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def _pm(pair: tuple[Any, Any], n: int) -> str:
    mean, std = pair
    if mean is None:
        return "—"
    return fmt_float(mean) if n < 2 else f"{fmt_float(mean)} ± {fmt_float(std)}"


def _cell_len(cell: str | Text) -> int:
    """The terminal cells a DataTable cell takes on one line."""
    return Text(cell).cell_len if isinstance(cell, str) else cell.cell_len


def _clip(label: str, width: int) -> str:
    """``label`` cut to ``width`` cells, ``…`` last when cut."""
    return label if len(label) <= width else label[:max(width - 1, 0)] + "…"


CONFIG_MIN = 16  # the configuration column's least width (a longer one is cut to the room left)
SHORT_SCREEN = 32  # rows: below it, the notes get two lines in the summary
SHORT_HEADERS = {"final": ("Final eval", "Final"), "best": ("Best eval", "Best")}


def cut_to_lines(text: str, width: int, lines: int) -> str:
    """``text`` wrapped to ``width`` columns, on at most ``lines`` lines (the last cut with "…")."""
    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][:width - 1].rstrip() + "…"
    return "\n".join(wrapped)


def run_label(name: str, short: bool) -> str:
    """A run in the tables: its folder name, or when ``short`` the id part of a timestamped
    one (``20260105-093012_3fa9c1`` -> ``3fa9c1``; ``job_000`` stays whole)."""
    return (run_id(name) if short else None) or name


def _value(value: Any) -> Text:
    return plain(f"{value:g}" if isinstance(value, float) else value)


class CompareScreen(ComparisonScreen):
    """Curves, per-run table and config diff of several runs."""

    short = False  # narrow: runs shown by their ids, shorter headers (set by the runs table)
    _diff_short = False  # whether the config diff's columns were named so

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("x", "toggle_x", "Steps/time"),
        Binding("b", "toggle_band", "Band"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False),
        Binding("right_square_bracket", "tab(1)", "Tabs", key_display="[ ]"),
    ]

    def __init__(self, run_dirs: list[Path], title: str | None = None,
                 loader: Callable[[], Any] | None = None) -> None:
        super().__init__()
        self.run_dirs = list(run_dirs)
        self.title_text = title
        self.loader = loader
        self.x = "steps"
        self.band = "minmax"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="compare-summary")
        yield ComparePlot(id="compare-plot")
        with TabbedContent(id="compare-tabs"):
            with TabPane("Runs", id="compare-runs-tab"):
                yield DataTable(id="compare-runs", cursor_type="row", zebra_stripes=True)
            with TabPane("Config diff", id="compare-diff-tab"):
                yield DataTable(id="compare-diff", cursor_type="row", zebra_stripes=True)
        yield FitFooter()

    def on_mount(self) -> None:
        n = len(self.run_dirs)
        self.sub_title = self.title_text or f"Compare {n} run{'s' * (n != 1)}"
        runs = self.query_one("#compare-runs", DataTable)
        # the numbers before the configuration: a long one (runs of different experiments differ
        # in most keys) is cut to the width left, never pushing them out of sight
        for label, key in (("", "color"), ("Run", "run"), ("Seed", "seed"), ("Final eval", "final"),
                           ("Best eval", "best"), ("Steps", "steps"), ("Status", "status"),
                           ("Configuration", "group")):
            runs.add_column(label, key=key)
        self.poll()

    def load(self) -> Any:
        if self.loader is not None:
            return self.loader()
        return self.app.library.compare(self.run_dirs, self.app.runs_root)

    # -- drawing -----------------------------------------------------------------------------------
    def show(self) -> None:
        if self.error:
            self.query_one("#compare-summary", Static).update(Text(f"Cannot compare: {self.error}",
                                                                   style="#e06c75"))
            return
        self._summary()
        self._plot()
        self._runs_table()
        self._diff_table()

    def _summary(self) -> None:
        """The runs, configurations and x axis, then the comparison's notes: up to three, each
        wrapped whole. Below SHORT_SCREEN rows they get two lines, so the plot and the tables
        keep their room: one note wrapped on both, or the first cut to one and a count."""
        c = self.comparison
        text = Text()
        # spaces end a styled run, never start one: SVG viewers drop a run's leading spaces
        text.append(f"{len(c.runs)} run{'s' * (len(c.runs) != 1)} ", style="bold")
        text.append(f"in {len(c.groups)} configuration{'s' * (len(c.groups) != 1)} ")
        text.append(f"· x: {self.steps_label() if self.x == 'steps' else 'wall time'}{' · ' if c.live else ''}",
                    style="dim")
        if c.live:
            text.append("live", style="bold #e5c07b")
        notes = [f"⚠ {note}" for note in c.all_notes()]
        total = len(notes)
        if self.size.height < SHORT_SCREEN:
            width = max(self.size.width - 2, 10)  # inside the summary's padding
            notes = [cut_to_lines(notes[0], width, 2 if total == 1 else 1)] if notes else []
        else:
            notes = notes[:3]
        more = total - len(notes)
        for note in notes:
            text.append(f"\n{note}", style="#e5c07b")
        if more:
            text.append(f"\n⚠ and {more} more (mazedsl compare lists them all)", style="#e5c07b")
        self.query_one("#compare-summary", Static).update(text)

    def _plot(self) -> None:
        curves = [(g.label, g.curve(self.x), g.n) for g in self.comparison.groups]
        self.query_one(ComparePlot).set_curves(curves, self.x, self.band, self.steps_label())

    def steps_label(self) -> str:
        """What the runs' steps count: env steps, or training samples for runs that learn from
        recordings (run.json's ``train_episodes`` false: BC)."""
        infos = (getattr(run, "info", None) for run in self.comparison.runs)
        return steps_axis(not (isinstance(info, dict) and info.get("train_episodes") is False) for info in infos)

    def _rows(self, short: bool) -> list[tuple[list[Any], str, str]]:
        """The runs table's rows: cells but the configuration, row key, configuration label."""
        rows: list[tuple[list[Any], str, str]] = []
        for i, group in enumerate(self.comparison.groups):
            r, g, b = group_color(i)
            swatch = Text.assemble(("━━", f"rgb({r},{g},{b})"), f" {group_key(i)}")
            for run in group.runs:
                rows.append(([swatch, plain(run_label(run.path.name, short)),
                              _value((run.config or {}).get("seed", "—")),
                              Text(fmt_float(run.final_eval), justify="right"),
                              Text(fmt_float(run.best_eval), justify="right"),
                              Text(fmt_int(run.last_step), justify="right"), status_text(run.status)],
                             str(run.path), group.label))
            for job in group.failed_jobs:
                rows.append(([Text.assemble(("✘ ", "#e06c75"), group_key(i)), plain(job.name), "—", "—", "—",
                              "—", Text(f"{job.status}: {job.error or ''}", style="#e06c75")],
                             f"job:{job.name}", group.label))
        return rows

    def _runs_table(self) -> None:
        table = self.query_one("#compare-runs", DataTable)
        cursor = table.cursor_row
        table.clear()
        columns = list(table.columns.values())
        config = columns[-1]
        # the table spans the screen (it is not laid out yet when the first comparison comes);
        # two columns are kept for a vertical scrollbar
        width = (table.size.width or self.size.width) - 2

        def layout(short: bool) -> tuple[list[tuple[list[Any], str, str]], int]:
            """Rows and column widths (the widths are set here, with the rows: DataTable sizes auto
            columns only when idle, and a screen drawn before that showed every column cut to its
            header); the room left for the configuration."""
            for key, labels in SHORT_HEADERS.items():
                table.columns[ColumnKey(key)].label = Text(labels[short])
            rows = self._rows(short)
            for n, column in enumerate(columns[:-1]):
                column.auto_width = False
                column.width = max([column.label.cell_len, *(_cell_len(cells[n]) for cells, _, _ in rows)])
            used = sum(c.width + 2 * table.cell_padding for c in columns[:-1]) + 2 * table.cell_padding
            return rows, width - used

        # where the configuration would get too little room (80 columns): run ids for timestamped
        # run names, shorter headers; the diff tab follows
        rows, room = layout(short=False)
        longest = max([config.label.cell_len, *(len(label) for _, _, label in rows)])
        self.short = room < min(longest, CONFIG_MIN)
        if self.short:
            rows, room = layout(short=True)
        config.auto_width = False
        config.width = min(longest, max(room, CONFIG_MIN))
        for cells, key, label in rows:
            table.add_row(*cells, plain(_clip(label, config.width)), key=key)
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)
        if self.short != self._diff_short:
            self._diff_table()

    def on_resize(self) -> None:
        if self.comparison is not None and not self.error:
            self._summary()
            self.call_after_refresh(self._runs_table)  # the table's new width: after the layout

    def _diff_table(self) -> None:
        table = self.query_one("#compare-diff", DataTable)
        table.clear(columns=True)
        self._diff_short = self.short
        runs = self.comparison.runs
        rows = self.comparison.diff_rows()
        if not rows:
            table.add_column("Config diff", key="key")
            table.add_row("no differences" if len(runs) > 1 else "one run: nothing to diff")
            return
        table.add_column("Key", key="key")
        for run in runs:
            table.add_column(plain(run_label(run.path.name, self.short)), key=str(run.path))
        for key, values in rows:
            table.add_row(plain(key), *(_value(v) for v in values), key=key)

    # -- actions -------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_x(self) -> None:
        self.x = "time" if self.x == "steps" else "steps"
        if self.comparison is not None:
            self.show()

    def action_toggle_band(self) -> None:
        self.band = "std" if self.band == "minmax" else "minmax"
        if self.comparison is not None:
            self._plot()

    def action_tab(self, delta: int) -> None:
        tabs = self.query_one(TabbedContent)
        order = ["compare-runs-tab", "compare-diff-tab"]
        tabs.active = order[(order.index(tabs.active) + delta) % len(order)]

    @on(DataTable.RowSelected, "#compare-runs")
    def _open_run(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key and not key.startswith("job:"):
            self.app.open_run(Path(key))
