"""Resume a run: ``mazedsl train --resume RUN`` (optionally with a larger budget) in a process."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from mazedsl_tui.formatting import budget_unit, cwd_path, fmt_int, short_path, status_text, step_noun
from mazedsl_tui.widgets.form import FIELD_KEYS, FormInput


def resume_plan(status: str, steps: int, budget: int | None, text: str,
                plays_episodes: bool = True, problem: str | None = None,
                elsewhere: str | None = None) -> tuple[list[str], str | None]:
    """The overrides ``--resume`` gets from the budget field (``total_steps=N`` or none), or
    why the run cannot be resumed so. ``plays_episodes`` False: the run's steps are training
    samples (BC), and the messages say so. ``problem``: why the run has nothing to resume
    from (:meth:`Library.resume_problem`), whatever the budget. ``elsewhere``: the process
    training the run (``pid N on host H since T``) when this window did not start it."""
    if status in ("running", "starting"):
        if elsewhere:  # (s stops only the trainings this window started)
            return [], (f"the run is still training in another process ({elsewhere}): stop it "
                        "there (Ctrl-C, or kill -INT its pid), then resume it")
        return [], "the run is still training; stop it first (s)"
    if problem:
        return [], problem
    noun = step_noun(plays_episodes)
    raw = text.strip().replace(",", "").replace("_", "")
    if raw:
        if not raw.isdigit():
            return [], f"budget: expected a whole number of {budget_unit(plays_episodes)}, got {text.strip()!r}"
        if int(raw) <= steps:
            return [], f"budget: the run already has {fmt_int(steps)} {noun}; give more to continue it"
        if budget is None or int(raw) != budget:
            return [f"total_steps={int(raw)}"], None
        return [], None
    if budget is not None and steps >= budget:
        return [], f"the run has used its budget of {fmt_int(budget)} {noun}: give a larger one to continue"
    return [], None


class ResumeScreen(ModalScreen[list[str] | None]):
    """A dialog over a run; dismissed with the overrides to resume with, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "start", "Resume"),  # not priority: after the keys typed before it
        *FIELD_KEYS,
    ]

    def __init__(self, run_dir: Path, info: Any, status: str, problem: str | None = None,
                 elsewhere: str | None = None) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.status = status
        self.problem = problem  # why there is nothing to resume from (no last checkpoint)
        self.elsewhere = elsewhere  # the process training it, when this window did not start it
        raw = getattr(info, "raw", None) or {}
        self.steps = int(raw.get("steps") or getattr(info, "steps", 0) or 0)
        budget = raw.get("total_steps")
        self.budget = budget if isinstance(budget, int) else None
        # run.json's train_episodes: false for a learner of recordings (BC counts training samples)
        self.plays_episodes = raw.get("train_episodes") is not False
        self.overrides: list[str] = []
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="resume-dialog", classes="dialog"):
            yield Static("", id="resume-title")
            yield Label(f"Budget (total {budget_unit(self.plays_episodes)})", classes="launch-label",
                        id="resume-budget-label")
            yield FormInput(placeholder="as before" if self.budget is None else f"{self.budget:,} as before",
                            id="resume-budget")
            yield Static("", id="resume-error")
            yield Static("", id="resume-preview")
            with Horizontal(id="resume-buttons"):
                yield Button("Resume  ^s", variant="success", id="resume-start")
                yield Button("Cancel  esc", id="resume-cancel")

    def on_mount(self) -> None:
        dialog = self.query_one("#resume-dialog")
        dialog.border_title = "Resume run"
        dialog.border_subtitle = "from checkpoints/last.pt"
        title = Text.assemble(("Run  ", "dim"), (short_path(self.run_dir, self.app.runs_root), "bold"), "  ")
        title.append_text(status_text(self.status))
        title.append(f"\n{fmt_int(self.steps)} of {fmt_int(self.budget)} {step_noun(self.plays_episodes)} done",
                     style="dim")
        self.query_one("#resume-title", Static).update(title)
        budget = self.query_one("#resume-budget", Input)
        if self.budget is not None and self.steps >= self.budget:
            budget.value = str(2 * self.budget)  # a finished run: offer to double its budget
        budget.focus()
        self.check()

    @on(Input.Changed)
    def check(self) -> None:
        text = self.query_one("#resume-budget", Input).value
        self.overrides, self.error = resume_plan(self.status, self.steps, self.budget, text,
                                                 self.plays_episodes, self.problem, self.elsewhere)
        self.query_one("#resume-budget", Input).set_class(bool(self.error), "-invalid-field")
        self.query_one("#resume-error", Static).update(
            Text(f"✘ {self.error}", style="bold #e06c75") if self.error else Text("✔ ready", style="#98c379"))
        preview = Text("command  ", style="dim")
        preview.append(shlex.join(["mazedsl", "train", "--resume", cwd_path(self.run_dir), *self.overrides]))
        self.query_one("#resume-preview", Static).update(preview)
        self.query_one("#resume-start", Button).disabled = bool(self.error)

    @on(Input.Submitted)
    @on(Button.Pressed, "#resume-start")
    def action_start(self) -> None:
        self.check()  # the field as it is now: keys typed just before may not be checked yet
        if self.error:
            self.notify(self.error, title="Cannot resume", severity="error")
            return
        self.dismiss(list(self.overrides))

    @on(Button.Pressed, "#resume-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
