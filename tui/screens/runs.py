"""The Runs screen: every run under the runs root, live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Sparkline, Static
from textual.worker import get_current_worker

from mazedsl_tui.formatting import fmt_float, fmt_int, fmt_started, status_text, step_noun
from mazedsl_tui.library import experiment_files, run_experiment_ref
from mazedsl_tui.messages import MetricsUpdated, RunsUpdated
from mazedsl_tui.polling import sleep_unless_cancelled
from mazedsl_tui.widgets.footer import FitFooter
from mazedsl_tui.widgets.runs.table import RunsTable

PREVIEW_FROM = 160  # columns from which the preview panel shows (CSS: Screen.-xwide)
PREVIEW_WIDTH = 42
LONG_TABLE = 111  # table width from which the full run names and dates fit
NARROW_TABLE = 92  # below it the env column goes (the run column never does)


class RunsScreen(Screen):
    """All runs: table (live), and on wide terminals a preview of the highlighted run."""

    BINDINGS = [
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("o", "rollout", "Roll out"),
        Binding("e", "evaluate", "Evaluate"),
        Binding("s", "stop", "Stop"),
        Binding("n", "new", "New run"),
        Binding("2", "app.go('experiments')", "Experiments"),
    ]
    # hints hidden, in this order, on a terminal too narrow for all (the run screen has them too);
    # the keys still work, and ? lists them
    FOOTER_DROP = ("stop", "rollout", "evaluate")

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="runs-body"):
            with Vertical(id="runs-main"):
                yield RunsTable(id="runs-table")
                yield Static("", id="runs-empty")
            with Vertical(id="run-preview"):
                yield Static("", id="preview-summary")
                yield Static("Episode return", classes="preview-label")
                yield Sparkline([], id="preview-return")
                yield Static("", id="preview-return-note", classes="preview-note")
                yield Static("Evaluation return", classes="preview-label")
                yield Sparkline([], id="preview-eval")
                yield Static("", id="preview-eval-note", classes="preview-note")
                yield Static("", id="preview-evals")
        yield FitFooter()

    def on_mount(self) -> None:
        self.sub_title = "Runs"
        self._runs: list[Any] = []
        self._statuses: dict[str, str] = {}
        self._preview_dir: Path | None = None
        self.query_one("#runs-empty").display = False
        self.poll_runs()

    def on_resize(self) -> None:
        width = self.size.width - (PREVIEW_WIDTH if self.size.width >= PREVIEW_FROM else 0)
        self.query_one(RunsTable).set_long(width >= LONG_TABLE, narrow=width < NARROW_TABLE)

    # -- polling ------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="runs-poll", name="poll runs")
    def poll_runs(self) -> None:
        worker = get_current_worker()
        app = self.app
        last = None
        while not worker.is_cancelled:
            exited = app.trainings.exited()
            try:
                runs = app.library.list_runs(app.runs_root)
            except Exception:  # noqa: BLE001 - an unreadable root shows as empty
                runs = []
            # the derived status too: a training of ours that died leaves run.json 'running'
            statuses = {str(r.path): app.effective_status(r, exited) for r in runs}
            signature = [(str(r.path), r.raw, statuses[str(r.path)]) for r in runs]
            if signature != last:
                last = signature
                self.post_message(RunsUpdated(runs, statuses))
            if not sleep_unless_cancelled(worker, app.poll_interval, app.runs_wake):
                return

    def on_runs_updated(self, message: RunsUpdated) -> None:
        self._runs = message.runs
        self._statuses = message.statuses
        self.query_one(RunsTable).update_runs(message.runs, message.statuses)
        empty = self.query_one("#runs-empty", Static)
        empty.display = not message.runs
        if not message.runs:
            empty.update(Text.from_markup(
                f"No runs under [b]{self.app.runs_root}[/b] yet.\n\n"
                "Press [b]2[/b] for the experiments, pick one and press [b]t[/b] to train it."))
        self._update_preview()

    # -- preview --------------------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#runs-table")
    def _highlighted(self) -> None:
        self._update_preview()

    def _update_preview(self) -> None:
        info = self.selected_run()
        summary = self.query_one("#preview-summary", Static)
        if info is None:
            summary.update("")
            return
        text = Text()
        if info.is_sweep:
            text.append(f"{info.experiment}\n", style="bold")
            text.append(f"{info.path.name}\n", style="dim")
            text.append_text(status_text(info.status))
            text.append(f"\nsweep of {len(info.jobs)} jobs · {info.n_failed} failed\n")
            text.append(f"best {fmt_float(info.best_eval)}\n")
            text.append("enter: its jobs · c: compare them", style="dim")
            summary.update(text)
            return
        text.append(f"{info.experiment}\n", style="bold")
        text.append(f"{info.path.name}\n", style="dim")
        text.append_text(status_text(self._statuses.get(str(info.path), info.status)))
        text.append(f"\n{info.algorithm} · {info.env}\n")
        noun = step_noun(getattr(info, "plays_episodes", True))  # BC counts training samples
        text.append(f"{fmt_int(info.steps)} {noun} · best {fmt_float(info.best_eval)}\n")
        text.append(f"started {fmt_started(info.started)}", style="dim")
        if info.raw.get("error"):
            text.append(f"\n{info.raw['error']}", style="#e06c75")
        summary.update(text)
        if self.size.width >= PREVIEW_FROM and info.path != self._preview_dir:
            self._preview_dir = info.path
            self.load_preview(info.path)

    @work(thread=True, exclusive=True, group="runs-preview")
    def load_preview(self, run_dir: Path) -> None:
        records, offset = self.app.library.read_metrics(run_dir / "metrics.jsonl", 0)
        self.post_message(MetricsUpdated(run_dir, records, offset, len(records)))

    def on_metrics_updated(self, message: MetricsUpdated) -> None:
        if message.run_dir != self._preview_dir:
            return
        train = [r["ep_return_mean"] for r in message.records
                 if r.get("phase") == "train" and isinstance(r.get("ep_return_mean"), (int, float))]
        evals = [r for r in message.records if r.get("phase") == "eval"]
        info = self.selected_run()
        no_train = ("none: it learns from recordings" if info is not None
                    and not getattr(info, "plays_episodes", True) else "none yet")
        self._show_series("return", train[-200:], no_train)
        self._show_series("eval", [r.get("mean_return", 0.0) for r in evals], "none yet")
        lines = Text()
        for rec in evals[-6:]:
            lines.append(f"{fmt_int(rec.get('step')):>9}  {fmt_float(rec.get('mean_return')):>8}")
            lines.append("  ★\n" if rec.get("best") else "\n", style="#e5c07b")
        self.query_one("#preview-evals", Static).update(lines)

    def _show_series(self, name: str, values: list[float], when_none: str) -> None:
        """A sparkline of two values or more; else a line saying there are none or the
        one value (a one-value sparkline would draw as a full bar)."""
        spark = self.query_one(f"#preview-{name}", Sparkline)
        note = self.query_one(f"#preview-{name}-note", Static)
        spark.data = values if len(values) >= 2 else [0.0]
        spark.display = len(values) >= 2
        note.display = len(values) < 2
        note.update(when_none if not values else f"one so far: {fmt_float(values[0])}")

    # -- actions ----------------------------------------------------------------------------------
    def selected_run(self) -> Any:
        key = self.query_one(RunsTable).selected_key()
        return next((r for r in self._runs if str(r.path) == key), None)

    def _selected_dir(self) -> Path | None:
        info = self.selected_run()
        if info is None:
            self.notify("No run selected.", severity="warning")
            return None
        if info.is_sweep:
            self.notify("A sweep: press enter for its jobs, c to compare them.", severity="warning")
            return None
        return info.path

    @on(DataTable.RowSelected, "#runs-table")
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        info = self.selected_run()
        if info is not None and info.is_sweep:
            self.app.open_sweep(info.path)
        elif (path := self._selected_dir()) is not None:
            self.app.open_run(path)

    def action_mark(self) -> None:
        table = self.query_one(RunsTable)
        if table.toggle_mark() is not None and table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def marked_runs(self) -> list[Path]:
        """The run directories marked for Compare, in table order (a sweep gives all its jobs)."""
        marked = self.query_one(RunsTable).marked
        paths: list[Path] = []
        for info in self._runs:
            if str(info.path) in marked:
                paths.extend(j.path for j in info.jobs) if info.is_sweep else paths.append(info.path)
        return paths

    def action_compare(self) -> None:
        paths = self.marked_runs()
        if not paths:
            info = self.selected_run()
            if info is not None and info.is_sweep:
                paths = [j.path for j in info.jobs]
        if not paths:
            self.notify("Mark runs with space (a sweep marks all its jobs), then press c.",
                        title="Compare", severity="warning")
            return
        self.app.open_compare(paths)

    def action_rollout(self) -> None:
        if (path := self._selected_dir()) is not None:
            self.app.open_rollout(path)

    def action_evaluate(self) -> None:
        if (path := self._selected_dir()) is not None:
            self.app.open_run(path, tab="evaluation", evaluate=True)

    def action_stop(self) -> None:
        if (path := self._selected_dir()) is not None:
            self.app.stop_training(path)

    def action_new(self) -> None:
        """The Experiments screen, on the highlighted run's experiment when it is listed there."""
        from mazedsl_tui.screens.experiments import ExperimentsScreen

        info = self.selected_run()
        ref = None if info is None else run_experiment_ref(
            info.raw, info.experiment, experiment_files(self.app.experiments_dir))
        self.app.switch_mode("experiments")
        if ref is not None and isinstance(self.app.screen, ExperimentsScreen):
            self.app.screen.show_experiment(ref)
