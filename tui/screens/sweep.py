"""One sweep: its configurations (mean ± std of final and best eval over seeds, sortable) and
its jobs (failed ones with their error; enter opens a job, c compares them all). Live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from mazedsl_tui.formatting import fmt_float, fmt_int, plain, short_path, status_text
from mazedsl_tui.screens.compare import ComparisonScreen, _pm, _value
from mazedsl_tui.widgets.footer import FitFooter

SORTS = ("final", "best", "label")
SORT_NAMES = {"final": "final eval", "best": "best eval", "label": "configuration"}


class SweepScreen(ComparisonScreen):
    """Configurations and jobs of a sweep folder."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "compare", "Compare"),
        Binding("s", "sort", "Sort"),
        Binding("tab", "focus_next", "Next table", show=False),
    ]

    def __init__(self, sweep_dir: Path) -> None:
        super().__init__()
        self.sweep_dir = Path(sweep_dir)
        self.sort = "final"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="sweep-summary")
        yield DataTable(id="sweep-groups", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="sweep-jobs", cursor_type="row", zebra_stripes=True)
        yield FitFooter()

    def on_mount(self) -> None:
        self.sub_title = short_path(self.sweep_dir, self.app.runs_root)
        groups = self.query_one("#sweep-groups", DataTable)
        for label, key in (("Configuration", "label"), ("Runs", "n"), ("Failed", "failed"),
                           ("Final eval", "final"), ("Best eval", "best")):
            groups.add_column(label, key=key)
        jobs = self.query_one("#sweep-jobs", DataTable)
        for label, key in (("Job", "job"), ("Configuration", "group"), ("Seed", "seed"), ("Status", "status"),
                           ("Steps", "steps"), ("Final", "final"), ("Best", "best"), ("Error", "error")):
            jobs.add_column(label, key=key)
        groups.border_title = "Configurations · eval mean ± std over seeds"  # (the headers fit 80 columns)
        jobs.border_title = "Jobs · enter: open"
        self.poll()

    def load(self) -> Any:
        return self.app.library.compare_sweep(self.sweep_dir, self.app.runs_root)

    def sorted_groups(self) -> list[Any]:
        groups = list(self.comparison.groups)
        if self.sort == "label":
            return sorted(groups, key=lambda g: g.label)
        index = 0 if self.sort == "final" else 1

        def score(group: Any) -> float:
            mean = (group.final() if index == 0 else group.best())[0]
            return -mean if mean is not None else float("inf")
        return sorted(groups, key=score)

    def show(self) -> None:
        summary = self.query_one("#sweep-summary", Static)
        if self.error:
            summary.update(Text(f"Cannot read the sweep: {self.error}", style="#e06c75"))
            return
        c = self.comparison
        n_failed = sum(g.n_failed for g in c.groups)
        text = Text()
        text.append(short_path(self.sweep_dir, self.app.runs_root), style="bold")
        # spaces end a styled run, never start one: SVG viewers drop a run's leading spaces
        text.append(f"\n{len(c.runs) + len(c.failed_jobs)} jobs in {len(c.groups)} configurations · ")
        if n_failed:
            text.append(f"{n_failed} failed", style="bold #e06c75")
            text.append(" · ")
        if c.live:
            text.append("live", style="bold #e5c07b")
            text.append(" · ")
        text.append(f"sorted by {SORT_NAMES[self.sort]}", style="dim")
        summary.update(text)
        groups = self.query_one("#sweep-groups", DataTable)
        cursor = groups.cursor_row
        groups.clear()
        for group in self.sorted_groups():
            evals = sum(1 for r in group.runs if r.returns)
            groups.add_row(plain(group.label), Text(str(group.n), justify="right"),
                           Text(str(group.n_failed), style="bold #e06c75" if group.n_failed else "dim",
                                justify="right"),
                           Text(_pm(group.final(), evals), justify="right"),
                           Text(_pm(group.best(), evals), justify="right"), key=group.label)
        if groups.row_count:
            groups.move_cursor(row=min(cursor, groups.row_count - 1), animate=False)
        jobs = self.query_one("#sweep-jobs", DataTable)
        cursor = jobs.cursor_row
        jobs.clear()
        for group in self.sorted_groups():
            for run in group.runs:
                jobs.add_row(plain(run.path.name), plain(group.label), _value((run.config or {}).get("seed", "—")),
                             status_text(run.status), Text(fmt_int(run.last_step), justify="right"),
                             Text(fmt_float(run.final_eval), justify="right"),
                             Text(fmt_float(run.best_eval), justify="right"),
                             Text(str(run.info.get("error") or ""), style="#e06c75"), key=str(run.path))
            for job in group.failed_jobs:
                jobs.add_row(plain(job.name), plain(group.label), _value(job.params.get("seed", "—")), status_text(job.status),
                             "—", "—", "—", Text(job.error or "", style="#e06c75"), key=f"job:{job.name}")
        if jobs.row_count:
            jobs.move_cursor(row=min(cursor, jobs.row_count - 1), animate=False)

    def job_error(self, name: str) -> str:
        """The error shown for a job (by its folder name), '' when none."""
        table = self.query_one("#sweep-jobs", DataTable)
        for row in table.ordered_rows:
            if str(table.get_cell(row.key, "job")) == name:
                value = table.get_cell(row.key, "error")
                return value.plain if isinstance(value, Text) else str(value)
        raise KeyError(name)

    # -- actions -------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        if self.comparison is not None:
            self.show()

    def action_compare(self) -> None:
        if self.comparison is None:
            return
        self.app.open_compare([r.path for r in self.comparison.runs],
                              title=f"Compare {short_path(self.sweep_dir, self.app.runs_root)}")

    @on(DataTable.RowSelected, "#sweep-jobs")
    def _open_job(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key and not key.startswith("job:"):
            self.app.open_run(Path(key))
        elif key:
            self.notify(f"{key[4:]} made no run directory.", severity="warning")

    @on(DataTable.RowSelected, "#sweep-groups")
    def _group_jobs(self, event: DataTable.RowSelected) -> None:
        """Enter on a configuration: compare its seeds."""
        group = next((g for g in self.comparison.groups if g.label == event.row_key.value), None)
        if group is not None and group.runs:
            self.app.open_compare([r.path for r in group.runs], title=f"Compare {group.label}")
