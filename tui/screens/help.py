"""The help screen: what each screen shows and its keys."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Everywhere", [
        ("1 / 2", "Runs / Experiments"),
        ("ctrl+p", "command palette: train, evaluate, roll out, resume, open run, diff"),
        ("? / f1", "this help"),
        ("q", "quit (trainings started here keep running)"),
    ]),
    ("Runs", [
        ("enter", "open the run (a sweep: its configurations and jobs)"),
        ("space  c", "mark a run and move down (a sweep: all its jobs); compare the marked"),
        ("home  end", "first / last run"),
        ("o", "roll out its policy"),
        ("e", "evaluate its best checkpoint"),
        ("s", "stop a training started here: SIGINT, checkpoint kept (again: SIGTERM, then SIGKILL)"),
        ("n", "new run: the experiments, on the run's experiment"),
    ]),
    ("Run", [
        ("[ / ]", "tabs: curves, evaluation, config, log"),
        ("e  o  s", "evaluate, roll out, stop"),
        ("r", "resume from its last checkpoint (a finished run: with a larger budget)"),
        ("esc", "back"),
    ]),
    ("Compare / Sweep", [
        ("x  b", "x axis: env steps / wall time; band: min–max / ±std"),
        ("[ / ]", "tabs: runs, config diff"),
        ("s  c", "sweep: sort configurations, compare all jobs"),
    ]),
    ("Experiments", [
        ("t", "train the highlighted experiment: overrides, seed, budget (a sweep config: the sweep)"),
        ("", "a file of several experiments lists each below it: show, diff, train each"),
        ("d", "diff against another experiment"),
        ("[ / ]", "tabs: compiled config, provenance, diff"),
    ]),
    ("Rollout viewer", [
        ("space", "pause / play"),
        ("n  .", "one step (at the end of an episode: the next one)"),
        ("+  -", "faster / slower"),
        ("r", "restart the episode (same seed)"),
        ("v", "view: shapes from the env state, rendered frame, observation bars"),
    ]),
]

NOTE = ("Trainings run as separate processes (python -m mazedsl train … --run-dir DIR): the UI never "
        "waits on them, and a crashed training cannot take it down.")


def section(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.title = title
    table.title_justify = "left"
    table.title_style = "bold #61afef"
    table.add_column(style="bold #e5c07b", no_wrap=True, min_width=8)
    table.add_column()
    for key, text in rows:
        table.add_row(key, text)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            with Grid(id="help-grid"):
                for title, rows in SECTIONS:
                    yield Static(section(title, rows), classes="help-section")
            yield Static(Text(NOTE, style="dim"), id="help-note")

    def on_mount(self) -> None:
        dialog = self.query_one("#help-dialog")
        dialog.border_title = "mazedsl · help"
        dialog.border_subtitle = "esc to close"
