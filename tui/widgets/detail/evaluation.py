"""Evaluation results: the last eval.json (summary + per-episode table) and the eval history."""

from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from mazedsl_tui.formatting import MISSING, fmt_float, fmt_int


class EvaluationPanel(Vertical):
    """Summary line, the episodes of the last evaluation, and every evaluation during training."""

    def compose(self) -> ComposeResult:
        yield Static("No evaluation yet — press [b]e[/b] to evaluate the best checkpoint.",
                     id="eval-summary")
        with Horizontal(id="eval-tables"):
            episodes = DataTable(id="eval-episodes", cursor_type="row", zebra_stripes=True)
            episodes.border_title = "Last evaluation"
            yield episodes
            history = DataTable(id="eval-history", cursor_type="row", zebra_stripes=True)
            history.border_title = "During training"
            yield history

    def on_mount(self) -> None:
        episodes = self.query_one("#eval-episodes", DataTable)
        episodes.add_column("#", key="episode")
        episodes.add_column("Return", key="return")
        episodes.add_column("Length", key="length")
        history = self.query_one("#eval-history", DataTable)
        # the best marker right after the mean: on a narrow screen the columns at the end are
        # cut first, and Pendulum's wide returns pushed a last ★ out of sight
        for label, key in (("Step", "step"), ("Mean", "mean"), ("", "best"), ("± Std", "std"),
                           ("Min", "min"), ("Max", "max"), ("Length", "length")):
            history.add_column(label, key=key)
        self._history_len = 0
        self.set_class(True, "-no-episodes")

    def set_summary(self, summary: dict[str, Any] | None, running: bool = False) -> None:
        static = self.query_one("#eval-summary", Static)
        table = self.query_one("#eval-episodes", DataTable)
        table.clear()
        # nothing to list (no eval.json, not evaluating): narrow screens hide the empty table
        # (CSS), leaving its width to the evaluations during training
        self.set_class(summary is None and not running, "-no-episodes")
        if running:
            static.update(Text("Evaluating the best checkpoint…", style="bold"))
        if summary is None:
            if not running:
                static.update("No eval.json yet — press [b]e[/b] to evaluate the best checkpoint.")
            return
        returns = list(summary.get("returns") or [])
        lengths = list(summary.get("lengths") or [])
        for i, ret in enumerate(returns):
            length = lengths[i] if i < len(lengths) else None
            table.add_row(Text(str(i + 1), justify="right"), Text(fmt_float(ret, 1), justify="right"),
                          Text(fmt_int(length) if length is not None else MISSING, justify="right"),
                          key=str(i))
        if running:
            return
        fields = [("Mean return", f"{fmt_float(summary.get('mean_return'), 2)} ± "
                                  f"{fmt_float(summary.get('std_return'), 2)}", "bold"),
                  ("min", fmt_float(summary.get("min_return"), 1), ""),
                  ("max", fmt_float(summary.get("max_return"), 1), ""),
                  ("mean length", fmt_float(summary.get("mean_length"), 1), ""),
                  ("", f"{len(returns)} episode{'s' * (len(returns) != 1)}", "")]
        if summary.get("checkpoint"):
            fields.append(("", f"{summary['checkpoint']} checkpoint", ""))
        static.update(summary_text(fields))

    def set_history(self, records: Iterable[dict[str, Any]]) -> None:
        evals = [r for r in records if r.get("phase") == "eval"]
        if len(evals) == self._history_len:
            return
        table = self.query_one("#eval-history", DataTable)
        for i, rec in enumerate(evals[self._history_len:], start=self._history_len):
            def cell(value: Any, digits: int = 1) -> Text:
                return Text(fmt_float(value, digits), justify="right")

            table.add_row(Text(fmt_int(rec.get("step")), justify="right"), cell(rec.get("mean_return")),
                          Text("★ best" if rec.get("best") else "", style="#e5c07b"),
                          cell(rec.get("std_return")), cell(rec.get("min_return")),
                          cell(rec.get("max_return")), cell(rec.get("mean_length")), key=str(i))
        self._history_len = len(evals)


def summary_text(fields: list[tuple[str, str, str]]) -> Text:
    """``label value · label value · ...`` from (label, value, value style). Every space sits at
    the end of a styled run, none at the start: SVG viewers drop a run's leading spaces, which
    ran labels into values ("72.0max 87.0")."""
    text = Text()
    for i, (label, value, style) in enumerate(fields):
        if i:
            text.append("· ", style="dim")
        if label:
            text.append(f"{label} ", style="dim")
        text.append(value if i == len(fields) - 1 else f"{value} ", style=style)
    return text
