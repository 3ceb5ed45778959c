"""One run: live curves, evaluation results, its config and its log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from mazedsl_tui.formatting import (fmt_duration, fmt_float, fmt_int, fmt_started, short_path, status_text,
                                    step_noun)
from mazedsl_tui.library import describe_error
from mazedsl_tui.messages import (EvalFileLoaded, EvaluationFinished, LogAppended, MetricsUpdated,
                                  RunFileRead, RunInfoUpdated)
from mazedsl_tui.polling import FileTail, sleep_unless_cancelled
from mazedsl_tui.training import console_log_path
from mazedsl_tui.widgets.detail.curves import (MetricsPlot, count_samples, eval_plot, loss_plot, return_plot,
                                               speed_plot)
from mazedsl_tui.widgets.detail.evaluation import EvaluationPanel
from mazedsl_tui.widgets.detail.log import RunLog
from mazedsl_tui.widgets.footer import FitFooter

TABS = ("curves", "evaluation", "config", "log")
NO_TRAIN_EPISODES = "Learns from recordings: see Evaluation"


class RunDetailScreen(Screen):
    """Tabs for one run directory; a worker tails metrics.jsonl, run.json, eval.json and the log."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("e", "evaluate", "Evaluate"),
        Binding("o", "rollout", "Roll out"),
        Binding("s", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False),
        Binding("right_square_bracket", "tab(1)", "Tabs", key_display="[ ]"),
    ]

    def __init__(self, run_dir: str | Path, tab: str = "curves", evaluate: bool = False) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.initial_tab = tab if tab in TABS else "curves"
        self.evaluate_on_mount = evaluate
        self.info: Any = None
        self.info_status = "unknown"
        self.records: list[dict[str, Any]] = []
        self.eval_summary: dict[str, Any] | None = None
        self.evaluating = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="run-summary")
        with TabbedContent(initial=self.initial_tab, id="run-tabs"):
            with TabPane("Curves", id="curves"):
                with Grid(id="curves-grid"):
                    yield return_plot()
                    yield eval_plot()
                    yield loss_plot()
                    yield speed_plot()
            with TabPane("Evaluation", id="evaluation"):
                yield EvaluationPanel(id="eval-panel")
            with TabPane("Config", id="config"):
                with VerticalScroll(id="config-scroll"):
                    yield Static("config.yaml not written yet.", id="config-yaml")
            with TabPane("Log", id="log"):
                yield RunLog(id="run-log", max_lines=5000)
        yield FitFooter()

    def on_mount(self) -> None:
        self.sub_title = short_path(self.run_dir, self.app.runs_root)
        self._render_summary()
        for plot in self.query(MetricsPlot):
            plot.replot()
        self.tail()
        if self.evaluate_on_mount:
            self.call_after_refresh(self.action_evaluate)

    # -- the tailing worker ---------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="run-tail", name="tail run")
    def tail(self) -> None:
        worker = get_current_worker()
        app = self.app
        lib = app.library
        run_dir = self.run_dir
        offset = 0
        records: list[dict[str, Any]] = []
        last_raw: Any = None
        eval_stamp: Any = None
        config_sent = False
        log_tail: FileTail | None = None
        console = console_log_path(run_dir.resolve())
        final_sent = False
        while not worker.is_cancelled:
            training = app.trainings.get(run_dir)
            exited = app.trainings.exited()  # before reading: then what we read is final
            alive = training is not None and training.running
            try:
                info = lib.read_run_info(run_dir)
            except Exception:  # noqa: BLE001 - not created yet, or mid-write
                info = None
            if info is not None and info.raw != last_raw:
                last_raw = info.raw
                self.post_message(RunInfoUpdated(run_dir, info, app.effective_status(info, exited)))
            new, offset = lib.read_metrics(run_dir / "metrics.jsonl", offset)
            if new:
                records.extend(new)
                self.post_message(MetricsUpdated(run_dir, list(records), offset, len(new)))
            if not config_sent and (run_dir / "config.yaml").is_file():
                config_sent = True
                self.post_message(RunFileRead(run_dir, "config.yaml",
                                              (run_dir / "config.yaml").read_text(encoding="utf-8")))
            stamp = _stamp(run_dir / "eval.json")
            if stamp != eval_stamp:
                eval_stamp = stamp
                self.post_message(EvalFileLoaded(run_dir, _read_json(run_dir / "eval.json")))
            train_log = run_dir / "train.log"
            wanted = train_log if train_log.is_file() or not console.is_file() else console
            if log_tail is None or log_tail.path != wanted:
                log_tail = FileTail(wanted)  # a new file (or a restarted worker): start over
                self.post_message(LogAppended(run_dir, log_tail.read(), reset=True))
            else:
                text = log_tail.read()
                if text:
                    self.post_message(LogAppended(run_dir, text))
            # ours: until the process exits; others': while run.json says running
            ended = not alive and (training is not None or info is None or info.status != "running")
            if ended and not final_sent:
                final_sent = True
                if info is not None:  # once more: the status shown may be derived ('crashed')
                    self.post_message(RunInfoUpdated(run_dir, info, app.effective_status(info, exited)))
                code = training.process.returncode if training is not None else None
                if code not in (0, 130, None) and wanted != console and console.is_file():
                    extra = console.read_text(encoding="utf-8", errors="replace").strip()
                    if extra:
                        self.post_message(LogAppended(run_dir, f"── console output ──\n{extra}\n"))
            if ended and not self.evaluating:
                return
            if not sleep_unless_cancelled(worker, app.poll_interval):
                return

    # -- message handlers ------------------------------------------------------------------------
    def on_run_info_updated(self, message: RunInfoUpdated) -> None:
        self.info = message.info
        self.info_status = message.status
        plays = getattr(message.info, "plays_episodes", True)
        if not plays:
            self.query_one("#plot-return", MetricsPlot).set_empty(NO_TRAIN_EPISODES)
        count_samples(self.query(MetricsPlot), not plays)
        self._render_summary()

    def on_metrics_updated(self, message: MetricsUpdated) -> None:
        self.records = message.records
        for plot in self.query(MetricsPlot):
            plot.set_records(message.records)
        self.query_one(EvaluationPanel).set_history(message.records)

    def on_run_file_read(self, message: RunFileRead) -> None:
        if message.name == "config.yaml" and message.text is not None:
            self.query_one("#config-yaml", Static).update(
                Syntax(message.text, "yaml", theme="monokai", line_numbers=True, word_wrap=False,
                       background_color="default"))

    def on_eval_file_loaded(self, message: EvalFileLoaded) -> None:
        self.eval_summary = message.summary
        self.query_one(EvaluationPanel).set_summary(message.summary, running=self.evaluating)

    def on_log_appended(self, message: LogAppended) -> None:
        log = self.query_one("#run-log", RunLog)
        if message.reset:
            log.reset()
        if message.text:
            log.append(message.text)

    # -- summary ------------------------------------------------------------------------------------
    def status(self) -> str:
        if self.info is None:
            training = self.app.trainings.get(self.run_dir)
            if training is not None:
                return "starting" if training.running else "crashed"
            return "unknown"
        return self.info_status

    def _render_summary(self) -> None:
        info = self.info
        text = Text()
        text.append(short_path(self.run_dir, self.app.runs_root), style="bold")
        text.append("  ")
        text.append_text(status_text(self.status()))
        if info is None:
            training = self.app.trainings.get(self.run_dir)
            text.append("\nwaiting for the run directory…" if training is not None and training.running
                        else "\nno run.json here", style="dim")
            self.query_one("#run-summary", Static).update(text)
            return
        noun = step_noun(getattr(info, "plays_episodes", True))  # BC counts training samples
        text.append(f"\n{info.algorithm} · {info.env} · {fmt_int(info.steps)} {noun} · ")
        text.append("best eval ", style="dim")
        text.append(f"{fmt_float(info.best_eval)} ", style="bold")  # (no run starts with a space:
        when = f"· started {fmt_started(info.started)}"  # one run: SVG viewers drop a run's leading space)
        trained = getattr(info, "trained", None)  # the sessions' time, not the gaps between them
        if trained is not None:
            seconds, sessions = trained
            when += f" · took {fmt_duration(seconds)}" + (f" in {sessions} sessions" if sessions > 1 else "")
        text.append(when, style="dim")
        if info.status == "damaged":
            text.append(f"\n{damaged_note(info.raw.get('error'))}", style="#e06c75")
        elif info.raw.get("error"):
            text.append(f"\n{info.raw['error']}", style="#e06c75")
        elif self.status() == "crashed":
            text.append("\nits training process died (killed, or the machine went down): r resumes "
                        "it from its last checkpoint", style="#e06c75")
        elif info.steps and self.status() in ("finished", "interrupted") and _no_metrics(self.run_dir):
            text.append("\nits metrics.jsonl is missing or empty (run.json still counts its steps): "
                        "the charts have nothing to show", style="#e06c75")
        elif self.status() in ("finished", "interrupted") and _metrics_cut_short(self.run_dir):
            text.append("\nits metrics.jsonl ends mid-line (cut short, or edited): the charts "
                        "stop at its last whole line", style="#e06c75")
        elif self.status() == "failed":
            training = self.app.trainings.get(self.run_dir)
            code = training.process.returncode if training is not None else None
            text.append(f"\nexited with code {code} before training started: see the Log tab", style="#e06c75")
        self.query_one("#run-summary", Static).update(text)

    # -- actions -------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_tab(self, delta: int) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = TABS[(TABS.index(tabs.active) + delta) % len(TABS)]

    def action_rollout(self) -> None:
        self.app.open_rollout(self.run_dir)

    def action_stop(self) -> None:
        self.app.stop_training(self.run_dir)

    def action_resume(self) -> None:
        self.app.open_resume(self.run_dir)

    def follow(self) -> None:
        """Tail the run again (its training was restarted): curves, status and log from the top."""
        self.records = []
        self.tail()

    def action_evaluate(self) -> None:
        problem = self.app.library.engine_problem()
        if problem:
            self.notify(problem, title="Cannot evaluate", severity="error")
            return
        if self.evaluating:
            self.notify("An evaluation is already running.")
            return
        self.evaluating = True
        self.query_one(TabbedContent).active = "evaluation"
        self.query_one(EvaluationPanel).set_summary(self.eval_summary, running=True)
        self.run_evaluation()

    @work(thread=True, exclusive=True, group="run-evaluate", name="evaluate")
    def run_evaluation(self) -> None:
        try:
            summary = self.app.library.evaluate(self.run_dir, episodes=10)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.post_message(EvaluationFinished(self.run_dir, None, describe_error(exc)))
            return
        on_disk = _read_json(self.run_dir / "eval.json")
        self.post_message(EvaluationFinished(self.run_dir, on_disk or summary, None))

    def on_evaluation_finished(self, message: EvaluationFinished) -> None:
        self.evaluating = False
        panel = self.query_one(EvaluationPanel)
        if message.error:
            panel.set_summary(self.eval_summary)
            self.notify(message.error, title="Evaluation failed", severity="error")
            return
        self.eval_summary = message.summary
        panel.set_summary(message.summary)
        mean = (message.summary or {}).get("mean_return")
        self.notify(f"Mean return {fmt_float(mean, 2)}", title="Evaluation finished")


def damaged_note(error: Any) -> str:
    """What the run screen says of a run whose run.json is damaged (``error``: why)."""
    detail = str(error or "unreadable")
    if "run.json: " in detail:
        detail = detail.split("run.json: ", 1)[1]
    if detail.startswith("unreadable (") and detail.endswith(")"):
        detail = detail[len("unreadable ("):-1]
    return (f"run.json damaged ({detail}); r resumes the run, rebuilding run.json from "
            "config.yaml")


def _stamp(path: Path) -> Any:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object file (eval.json); None when missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _metrics_cut_short(run_dir: Path) -> bool:
    """Whether the run's metrics.jsonl ends without a newline: its last line was cut (every
    line mazedsl writes ends with one, flushed whole)."""
    try:
        with open(Path(run_dir) / "metrics.jsonl", "rb") as fh:
            if fh.seek(0, 2) == 0:
                return False
            fh.seek(-1, 2)
            return fh.read(1) != b"\n"
    except OSError:
        return False


def _no_metrics(run_dir: Path) -> bool:
    """Whether the run's metrics.jsonl is missing or empty."""
    try:
        return (Path(run_dir) / "metrics.jsonl").stat().st_size == 0
    except OSError:
        return True
